"""One row of a batch fails or overruns its timeout: only its user gets the error, the rows
written beside it finish with the text they would have written alone, and the worker keeps
serving. Real service, real tiny model; the faults come from the rows' own stop rules, which
the engine runs on its thread at every token of that row."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.config import ConfigError, load_settings
from bot.errors import GenerationFailed
from bot.generation.service import GenerationService
from bot.generation.types import FinishReason, GenerationResult
from tests.generation.stepping import StepCounter, until, write_every_token
from tests.generation.test_service import request, started_service


class BreaksBeside(StepCounter):
    """A stop rule that raises, as a buggy one would, once its row has written ``steps``
    tokens with ``rows`` rows in the batch; it notes how many rows there were."""

    def __init__(self, service: GenerationService, steps: int, rows: int) -> None:
        super().__init__()
        self.service, self.limit, self.rows = service, steps, rows
        self.rows_when_broken = 0

    def __call__(self, text: str) -> int | None:
        super().__call__(text)
        running = self.service.health()["running"]
        if self.steps >= self.limit and running >= self.rows:
            self.rows_when_broken = running
            raise ValueError("a stop rule that breaks on this text")
        return None


class Slow(StepCounter):
    """A stop rule that takes ``seconds`` at every token: its row is slow work."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def __call__(self, text: str) -> int | None:
        super().__call__(text)
        time.sleep(self.seconds)
        return None


async def alone(service: GenerationService, seed: int, tokens: int) -> GenerationResult:
    return await service.generate(request(f"Row {seed}", seed=seed, max_new_tokens=tokens))


async def test_a_row_whose_stop_rule_raises_fails_alone(tiny_gpt2_dir, monkeypatch):
    service = await started_service(tiny_gpt2_dir)
    try:
        write_every_token(service, monkeypatch)  # every row runs its whole budget
        expected = [await alone(service, seed, 30) for seed in (1, 2, 3)]
        broken = BreaksBeside(service, steps=3, rows=4)
        others = [StepCounter() for _ in range(3)]
        bad = asyncio.create_task(
            service.generate(request("Row 9", seed=9, max_new_tokens=30, stop=broken))
        )
        good = [
            asyncio.create_task(
                service.generate(request(f"Row {s}", seed=s, max_new_tokens=30, stop=counter))
            )
            for s, counter in zip((1, 2, 3), others, strict=True)
        ]
        with pytest.raises(GenerationFailed, match="went wrong while writing your piece"):
            await asyncio.wait_for(bad, 20)
        results = await asyncio.wait_for(asyncio.gather(*good), 20)
        assert broken.rows_when_broken == 4  # it failed in a batch with the three others
        # They wrote on after it, exactly what they write alone.
        assert [r.text for r in results] == [r.text for r in expected]
        assert all(r.finish_reason is FinishReason.LENGTH for r in results)
        assert all(counter.steps == 30 for counter in others)
        again = await asyncio.wait_for(alone(service, 4, 6), 20)
        assert again.new_tokens == 6
        await until(lambda: service.health()["running"] == 0)  # it leaves after its result
    finally:
        await service.close()


async def test_a_row_past_its_timeout_is_stopped_and_the_others_finish(tiny_gpt2_dir, monkeypatch):
    # Every step waits for the slow row's stop rule (0.1 s), so the short rows' 3 tokens take
    # ~0.3 s and the long row's 60 would take over 6 s: the 3 s timeout falls well between,
    # with room for a loaded machine.
    service = await started_service(tiny_gpt2_dir, timeout_seconds=3.0)
    try:
        write_every_token(service, monkeypatch)
        expected = [await alone(service, seed, 3) for seed in (1, 2)]
        slow = Slow(0.1)
        long_one = asyncio.create_task(
            service.generate(request("Long", seed=7, max_new_tokens=60, stop=slow))
        )
        await until(lambda: slow.steps >= 1)  # it is writing
        short = await asyncio.wait_for(
            asyncio.gather(*(alone(service, seed, 3) for seed in (1, 2))), 20
        )
        assert [r.text for r in short] == [r.text for r in expected]
        assert not long_one.done()  # the short ones finished beside it, while it still wrote
        with pytest.raises(GenerationFailed, match="longer than 3 seconds") as caught:
            await asyncio.wait_for(long_one, 20)
        assert "try again" in caught.value.user_message
        assert 3 < slow.steps < 60  # stopped part-way, not at its budget
        again = await asyncio.wait_for(alone(service, 3, 6), 20)
        assert again.new_tokens == 6
        await until(lambda: service.health()["running"] == 0)  # it leaves after its result
    finally:
        await service.close()


def test_timeout_seconds_is_validated(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[generation]\ntimeout_seconds = -1\n")
    with pytest.raises(ConfigError, match="timeout_seconds"):
        load_settings(config)
    config.write_text("[generation]\ntimeout_seconds = 0\n")
    assert load_settings(config).generation.timeout_seconds == 0.0
