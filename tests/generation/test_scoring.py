"""Scoring texts through the service: one forward pass on the worker, batched, matching the
model's own log-probabilities, and never blocking the event loop."""

from __future__ import annotations

import asyncio
import math

import pytest

from bot.config import GenerationSettings, ModelSettings
from bot.errors import InvalidRequest
from bot.generation.service import MAX_SCORE_TOKENS, GenerationService
from bot.generation.types import GenerationRequest, SamplingParams
from tests.generation.test_engines import ENGINES


@pytest.fixture(params=ENGINES)
async def service(request, tiny_gpt2_dir, tmp_path_factory):
    model = ModelSettings(
        name=str(tiny_gpt2_dir),
        engine=request.param,
        cache_dir=str(tmp_path_factory.getbasetemp() / "cache"),
    )
    service = GenerationService(model, GenerationSettings(max_new_tokens_cap=64))
    await service.start()
    yield service
    await service.close()


def reference_logprobs(model_dir, text: str) -> list[float]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    ids = [tokenizer.eos_token_id, *tokenizer(text)["input_ids"]]
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0, :-1].float()
    logprobs = torch.log_softmax(logits, -1)
    return [float(logprobs[i, ids[i + 1]]) for i in range(len(ids) - 1)]


async def test_scores_match_the_model(service, tiny_gpt2_dir):
    text = "The quiet poem waits beside the river."
    score = await service.score(text)
    assert "".join(token.text for token in score.tokens) == text
    expected = reference_logprobs(tiny_gpt2_dir, text)
    assert [t.logprob for t in score.tokens] == pytest.approx(expected, abs=0.05)
    assert score.perplexity == pytest.approx(math.exp(-sum(expected) / len(expected)), rel=0.05)
    assert score.model == service.info.name


async def test_many_texts_are_scored_together_while_writing_goes_on(service):
    texts = [f"Line {i}: the sea at night is {'very ' * i}dark." for i in range(6)]
    writing = asyncio.create_task(
        service.generate(
            GenerationRequest(prompt="Once", sampling=SamplingParams(seed=1, max_new_tokens=40))
        )
    )
    scores = await asyncio.gather(*(service.score(text) for text in texts))
    assert [len(score.tokens) for score in scores] == sorted(len(s.tokens) for s in scores)
    alone = await service.score(texts[3])
    assert [t.logprob for t in alone.tokens] == pytest.approx(
        [t.logprob for t in scores[3].tokens], abs=1e-3
    )  # padding beside longer texts changes nothing
    await writing


async def test_empty_and_long_texts_are_refused(service):
    with pytest.raises(InvalidRequest, match="nothing to score"):
        await service.score("")
    with pytest.raises(InvalidRequest, match=str(MAX_SCORE_TOKENS)):
        await service.score("word " * (MAX_SCORE_TOKENS + 5))
