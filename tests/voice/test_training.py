"""LoRA training for real: a tiny GPT-2, loaded the way users load models, learns a small
made-up corpus; its adapter saved and loaded again gives the same logits; an interrupted run
resumes where it stopped and ends where the uninterrupted one does."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bot.errors import InvalidRequest
from bot.generation.loading import load_model
from bot.voice.training import (
    TrainingPlan,
    load_adapter,
    perplexity,
    save_adapter,
    split_corpus,
    token_blocks,
    train,
    with_adapter,
)

CORPUS = [
    f"The {thing} of the harbour sings at dusk, and the gulls answer {n} times."
    for n, thing in enumerate(["lamp", "bell", "rope", "tide", "boat", "stone", "net", "mast"] * 3)
]
PLAN = TrainingPlan(max_steps=30, learning_rate=5e-3, batch_size=4, block_tokens=32, seed=1)


def fresh(tiny_gpt2_dir: Path, tmp_path: Path):
    return load_model(
        str(tiny_gpt2_dir), cache_dir=tmp_path / "cache", dtype="float32", onednn=False
    )


def test_a_few_steps_lower_the_perplexity_of_the_corpus(tiny_gpt2_dir, tmp_path):
    loaded = fresh(tiny_gpt2_dir, tmp_path)
    train_texts, held_out = split_corpus(CORPUS, held_out_fraction=0.1, seed=0)
    assert len(held_out) == 2 and not set(held_out) & set(train_texts)
    model = with_adapter(loaded.model, PLAN)
    before = perplexity(model, loaded.tokenizer, held_out, PLAN.block_tokens)
    seen = []
    run = train(model, loaded.tokenizer, train_texts, tmp_path / "out", PLAN, progress=seen.append)
    after = perplexity(model, loaded.tokenizer, held_out, PLAN.block_tokens)
    assert run.steps == 30 and run.stopped_by == "steps" and run.train_tokens > 0
    # A random model's output head is untouched, so a third off is what 30 steps can do.
    assert after < before * 0.8, (before, after)
    assert [p.step for p in seen] == list(range(1, 31))
    assert seen[-1].seconds_left == 0 and seen[-1].tokens_per_second > 0


def test_an_adapter_saved_and_loaded_again_gives_the_same_logits(tiny_gpt2_dir, tmp_path):
    loaded = fresh(tiny_gpt2_dir, tmp_path)
    model = with_adapter(loaded.model, TrainingPlan(max_steps=5, learning_rate=5e-3))
    train(model, loaded.tokenizer, CORPUS, tmp_path / "out", TrainingPlan(max_steps=5))
    model.eval()
    ids = torch.tensor([loaded.tokenizer("The lamp of the harbour")["input_ids"]])
    with torch.no_grad():
        trained = model(input_ids=ids).logits
    save_adapter(model, tmp_path / "voice", {"authors": 2})
    reloaded = load_adapter(fresh(tiny_gpt2_dir, tmp_path).model, tmp_path / "voice")
    with torch.no_grad():
        again = reloaded(input_ids=ids).logits
        base = fresh(tiny_gpt2_dir, tmp_path).model(input_ids=ids).logits
    assert torch.allclose(trained, again, atol=1e-5)
    assert not torch.allclose(trained, base, atol=1e-3)  # the adapter really changed something


def test_an_interrupted_run_resumes_and_ends_where_an_unbroken_one_does(tiny_gpt2_dir, tmp_path):
    plan = TrainingPlan(max_steps=12, checkpoint_every=4, learning_rate=5e-3)
    whole = with_adapter(fresh(tiny_gpt2_dir, tmp_path).model, plan)
    loaded = fresh(tiny_gpt2_dir, tmp_path)
    train(whole, loaded.tokenizer, CORPUS, tmp_path / "whole", plan)

    # The first run's clock runs out after 8 steps (each step reads the clock twice).
    ticks = iter(range(10_000))
    budget = TrainingPlan(**{**plan.__dict__, "max_minutes": 8 * 2 / 60})
    first = with_adapter(fresh(tiny_gpt2_dir, tmp_path).model, plan)
    cut = train(
        first, loaded.tokenizer, CORPUS, tmp_path / "cut", budget, clock=lambda: next(ticks)
    )
    assert cut.stopped_by == "minutes" and 0 < cut.steps < 12
    second = with_adapter(fresh(tiny_gpt2_dir, tmp_path).model, plan)
    resumed = train(second, loaded.tokenizer, CORPUS, tmp_path / "cut", plan)
    assert resumed.resumed_from == cut.steps and resumed.steps == 12
    for (name, a), (_, b) in zip(whole.named_parameters(), second.named_parameters(), strict=True):
        if "lora_" in name:
            assert torch.allclose(a, b, atol=1e-6), name


def test_too_small_a_corpus_is_refused_with_the_reason(tiny_gpt2_dir, tmp_path):
    with pytest.raises(InvalidRequest, match="at least 4"):
        split_corpus(["one poem", "two", "  "], held_out_fraction=0.1, seed=0)
    loaded = fresh(tiny_gpt2_dir, tmp_path)
    blocks = token_blocks(loaded.tokenizer, ["a b c d e f g"], 3)
    assert all(len(b) <= 3 for b in blocks) and blocks[-1][-1] == loaded.tokenizer.eos_token_id
