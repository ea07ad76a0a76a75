"""The resting writer on a real tiny checkpoint: a broken one rests with its reason, a reload
while loading is refused, a fixed one writes; and reasons carry no secrets."""

from __future__ import annotations

import asyncio

import pytest

from bot.config import GenerationSettings, ModelSettings
from bot.generation.service import GenerationService
from bot.generation.types import GenerationRequest, SamplingParams
from bot.ops.model_state import (
    MAX_REASON_CHARS,
    AlreadyLoading,
    ModelState,
    RestingGeneration,
    WriterResting,
    short_reason,
)
from tests.tiny_models import build_tiny_gpt2

REQUEST = GenerationRequest(prompt="Rain", sampling=SamplingParams(max_new_tokens=4, seed=1))


def resting_over(model_dir) -> RestingGeneration:
    service = GenerationService(ModelSettings(name=str(model_dir)), GenerationSettings())
    return RestingGeneration(service)


async def test_a_truncated_checkpoint_rests_and_a_fixed_one_writes_after_reload(tmp_path):
    model = build_tiny_gpt2(tmp_path / "model")
    weights = model / "model.safetensors"
    good = weights.read_bytes()
    weights.write_bytes(good[: len(good) // 3])  # a download cut short
    generation = resting_over(model)
    try:
        await generation.start()
        status = generation.status
        assert status.state is ModelState.RESTING and status.attempts == 1
        assert status.reason and len(status.reason) <= MAX_REASON_CHARS
        assert generation.health() == {
            "ready": False,
            "model_state": "resting",
            "model_reason": status.reason,
        }
        with pytest.raises(WriterResting, match="writer is resting"):
            await generation.generate(REQUEST)
        with pytest.raises(WriterResting):
            _ = generation.info

        weights.write_bytes(good)
        first = asyncio.create_task(generation.reload())
        await asyncio.sleep(0)  # the first reload holds the lock now
        with pytest.raises(WriterResting, match="waking up"):
            await generation.score("rain")
        with pytest.raises(AlreadyLoading):
            await generation.reload()
        status = await first
        assert status.state is ModelState.READY and status.reason is None
        assert status.attempts == 2
        result = await generation.generate(REQUEST)
        assert result.new_tokens > 0 and generation.health()["ready"] is True
    finally:
        await generation.close()


def test_a_reason_is_one_short_line_without_secrets():
    secret = "sk-very-secret-key"
    token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123"
    error = RuntimeError(f"server said no to {secret} and {token}\nTraceback lines\nmore")
    reason = short_reason(error, [secret, None])
    assert reason.startswith("RuntimeError: server said no to ")
    assert secret not in reason and token not in reason and "\n" not in reason
    assert short_reason(OSError("x" * 1000)).endswith("…")
    assert len(short_reason(OSError("x" * 1000))) == MAX_REASON_CHARS
    assert short_reason(KeyError()) == "KeyError"
