"""Test-wide setup: never touch the Hugging Face Hub; share one tiny model per session."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path

import pytest

from tests.tiny_models import build_tiny_gpt2


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random GPT-2 checkpoint directory (real tokenizer), built once per session."""
    return build_tiny_gpt2(tmp_path_factory.mktemp("tiny-gpt2"))
