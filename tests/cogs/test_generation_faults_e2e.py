"""A piece that runs past ``generation.timeout_seconds`` on Discord end to end: its member is
told privately, a piece written in the same batch is posted as usual, and the writer serves
the next request. The tiny model writes fast, so the slow piece is made slow for real: its
stop rule (run by the engine at each of its tokens) takes 0.1 s a token."""

from __future__ import annotations

import time

import pytest

from bot.generation.jobs import Job
from bot.generation.types import GenerationRequest
from tests.cogs.conftest import Stack, build_stack
from tests.cogs.test_discord_e2e import bot_client, finished, synced
from tests.cogs.test_write_flow_e2e import shown_to
from tests.generation.stepping import StepCounter, until

SLOW_WORD = "glacier"


class SlowSteps(StepCounter):
    """A stop rule that never stops, takes 0.1 s a token and notes the rows in the batch."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(self._slow_step)
        self.stack = stack
        self.rows_seen: list[int] = []

    def _slow_step(self) -> None:
        self.rows_seen.append(self.stack.generation.health()["running"])
        time.sleep(0.1)


def slow_down(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> SlowSteps:
    """Every request whose prompt holds ``SLOW_WORD`` takes 0.1 s at each token it writes."""
    prepare = stack.generation.prepare
    steps = SlowSteps(stack)

    def prepare_slowly(request: GenerationRequest) -> Job:
        job = prepare(request)
        if SLOW_WORD in f"{request.prompt} {request.messages}":
            job.stop = steps
            job.ignore_eos = True  # it writes until it is stopped
        return job

    monkeypatch.setattr(stack.generation, "prepare", prepare_slowly)
    return steps


async def test_a_piece_past_its_timeout_fails_alone(
    tiny_gpt2_dir, tmp_path, fake_discord, monkeypatch
):
    # 48 tokens at 0.1 s would take 4.8 s: past the 3 s timeout. The short piece beside it
    # (5 tokens) shares those slow steps and still ends in about 0.5 s.
    async with build_stack(tiny_gpt2_dir, tmp_path, fake_discord, timeout_seconds=3.0) as stack:
        server = stack.server
        slow = slow_down(stack, monkeypatch)
        async with bot_client(stack) as bot:
            await synced(bot)
            long_one = await server.slash(
                "generate", {"prompt": f"a {SLOW_WORD} moves", "max_tokens": 48}, user="alice"
            )
            await until(lambda: slow.steps >= 1)  # it is writing
            short = await server.slash(
                "generate", {"prompt": "a sparrow", "max_tokens": 5}, user="bob"
            )
            posted = (await finished(short, server))[-1]
            assert "piece #" in posted.content
            await server.wait_for(lambda: bool(shown_to(long_one)), 20)
            told = shown_to(long_one)
            assert "took longer than 3 seconds" in told and "try again" in told
            assert 1 < slow.steps < 48
            assert 2 in slow.rows_seen  # the short piece was written in the same batch
            assert not any("Written by AI" in (m.content or "") for m in long_one.followups())
            again = await server.slash(
                "generate", {"prompt": "a sparrow", "max_tokens": 5}, user="mod"
            )
            assert "piece #" in (await finished(again, server))[-1].content
