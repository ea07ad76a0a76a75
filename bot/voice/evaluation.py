"""How an adapter measures: sample poems from fixed seeds, with and without it.

Perplexity is in ``training``; the samples here are what README's before-and-after shows.
"""

from __future__ import annotations

from typing import Any

SAMPLE_SEEDS = (1, 2, 3)
SAMPLE_REQUEST = "Write a short poem."
PLAIN_PROMPT = "A short poem:\n"
SAMPLE_TOKENS = 60


def sample_poems(
    model: Any, tokenizer: Any, *, chat: bool, seeds: tuple[int, ...] = SAMPLE_SEEDS
) -> list[str]:
    """One poem per seed, sampled as pieces are (temperature 0.8, top-p 0.95)."""
    import torch

    if chat:
        ids = tokenizer.apply_chat_template(
            [{"role": "user", "content": SAMPLE_REQUEST}],
            add_generation_prompt=True,
            return_tensors="pt",
            return_dict=True,
        )["input_ids"]
    else:
        ids = tokenizer(PLAIN_PROMPT, return_tensors="pt")["input_ids"]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    was_training = model.training
    model.eval()
    poems = []
    with torch.no_grad():
        for seed in seeds:
            torch.manual_seed(seed)
            out = model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                do_sample=True,
                temperature=0.8,
                top_p=0.95,
                max_new_tokens=SAMPLE_TOKENS,
                pad_token_id=pad,
            )
            poems.append(tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True).strip())
    model.train(was_training)
    return poems
