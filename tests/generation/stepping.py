"""Helpers that make cancellation observable: rows that cannot end early, and step counters.

The tiny test model often writes its end token within a few steps, and even a full budget takes
it a fraction of a second, so "the row was gone soon after" proves nothing about cancellation.
With the end token ignored a row runs its whole budget unless it is cancelled, and a stop rule
that never stops is called once per token of its row on the engine's thread: a step counter
that needs nothing from the engine's insides.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from bot.generation.jobs import Job
from bot.generation.service import GenerationService
from bot.generation.types import GenerationRequest


class StepCounter:
    """A stop rule that never stops; counts its row's steps and runs ``on_step`` at each."""

    def __init__(self, on_step: Callable[[], None] | None = None) -> None:
        self.steps = 0
        self._on_step = on_step

    def __call__(self, text: str) -> int | None:
        self.steps += 1
        if self._on_step is not None:
            self._on_step()
        return None


def write_every_token(service: GenerationService, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every request of ``service`` ignore the end token (as the benchmark does), so a
    row ends only at ``max_new_tokens`` or when it is cancelled."""
    prepare = service.prepare

    def prepare_to_the_end(request: GenerationRequest) -> Job:
        job = prepare(request)
        job.ignore_eos = True
        return job

    monkeypatch.setattr(service, "prepare", prepare_to_the_end)


async def until(condition: Callable[[], bool]) -> None:
    """Wait (without blocking the loop) until ``condition()`` holds, 20 s at most."""
    # Polled: the counters change on the engine's threads, which cannot set an asyncio.Event.
    async with asyncio.timeout(20):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.002)
