"""A GPT-2 whose weights make it write a given text, so tests can make the model itself write
mentions, odd Unicode or links and watch what the bot does with them.

Every block adds nothing to the residual stream and the token embeddings are zero, so the hidden
state at position ``p`` is the position embedding alone: phase ``p mod k`` as a one-hot vector.
The untied output layer maps each phase to the next token of the script, with a margin of
hundreds of logits, so sampling at any temperature, top-p or repetition penalty writes the
script over and over. It is a real checkpoint: saved with ``save_pretrained`` and loaded through
the users' loader, like the random tiny model.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.tiny_models import gpt2_tokenizer_files

PHASE_SCALE = 10.0
LOGIT_SCALE = 40.0


def build_scripted_gpt2(
    directory: Path, script: str, *, first_position: int = 0, n_positions: int = 256
) -> Path:
    """Save into ``directory`` a GPT-2 that writes ``script`` again and again. The token it
    writes at position ``first_position`` (the length of the prompt, in tokens) is the
    script's first; elsewhere it starts part-way through."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    encoder, merges = gpt2_tokenizer_files()
    shutil.copyfile(encoder, directory / "vocab.json")
    shutil.copyfile(merges, directory / "merges.txt")
    tokenizer = GPT2TokenizerFast.from_pretrained(directory)
    tokenizer.save_pretrained(directory)
    ids = tokenizer(script)["input_ids"]
    width = max(32, len(ids) + len(ids) % 2)  # one dimension per phase; even for two heads
    config = GPT2Config(
        n_layer=1,
        n_embd=width,
        n_head=2,
        n_positions=n_positions,
        vocab_size=len(tokenizer),
        tie_word_embeddings=False,
    )
    model = GPT2LMHeadModel(config)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            is_norm_scale = ".ln_" in name or name.startswith("transformer.ln_f")
            parameter.fill_(1.0 if is_norm_scale and name.endswith("weight") else 0.0)
        for position in range(n_positions):
            model.transformer.wpe.weight[position, position % len(ids)] = PHASE_SCALE
        for phase in range(len(ids)):
            # Logits at position p choose the token at p + 1.
            following = ids[(phase + 1 - first_position) % len(ids)]
            model.lm_head.weight[following, phase] += LOGIT_SCALE
    model.save_pretrained(directory)
    return directory
