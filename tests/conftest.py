"""Test-wide setup: never touch the Hugging Face Hub; share one tiny model per session."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.tiny_models import build_tiny_gpt2

# Property tests: "ci" (the default) is derandomized, so a failure in CI fails the same way on
# any machine, and keeps no example database; "dev" remembers failures between local runs;
# "wide" explores ten times as far. Pick one with HYPOTHESIS_PROFILE=wide. No deadline: two
# shared cores make timings noise, and too_slow would flag the machine, not the code.
_QUIET = [HealthCheck.too_slow]
settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, suppress_health_check=_QUIET
)
settings.register_profile("dev", deadline=None, suppress_health_check=_QUIET)
settings.register_profile("wide", max_examples=1000, deadline=None, suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random GPT-2 checkpoint directory (real tokenizer), built once per session."""
    return build_tiny_gpt2(tmp_path_factory.mktemp("tiny-gpt2"))
