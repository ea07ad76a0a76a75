"""A generation backend that reports to ``Metrics``: the time of every piece, its tokens, its
failures, and the queue behind it.

It wraps whichever backend the configuration built (the local engine or a model server), so
neither needs to know about Prometheus.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from bot.errors import GenerationFailed
from bot.generation.backends import GenerationBackend
from bot.generation.types import (
    FinishReason,
    GenerationRequest,
    GenerationResult,
    GenerationUpdate,
    ModelInfo,
    ProgressCallback,
    TextScore,
)
from bot.ops.metrics import Metrics


class MeteredGeneration:
    """``backend``, with each generation timed and counted in ``metrics``."""

    def __init__(self, backend: GenerationBackend, metrics: Metrics) -> None:
        self._backend = backend
        self._metrics = metrics
        metrics.watch_load(self._load)

    def _load(self) -> tuple[int, int]:
        health = self._backend.health()
        return int(health.get("running", 0)), int(health.get("waiting", 0))

    async def start(self, progress: ProgressCallback | None = None) -> None:
        """Start the wrapped backend."""
        await self._backend.start(progress)

    async def close(self) -> None:
        """Close the wrapped backend."""
        await self._backend.close()

    @property
    def info(self) -> ModelInfo:
        """The wrapped backend's model."""
        return self._backend.info

    def health(self) -> dict[str, Any]:
        """The wrapped backend's health."""
        return self._backend.health()

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationUpdate]:
        """The wrapped stream; its end (a result, an error or the caller leaving) is
        recorded."""
        started = time.perf_counter()
        outcome = "cancelled"  # the caller left before the end (a stop rule, a shutdown)
        try:
            async for update in self._backend.stream(request):
                if update.result is not None:
                    outcome = self._finished(update.result)
                yield update
        except Exception as error:
            outcome = "error"
            self._metrics.error(error)
            raise
        finally:
            self._metrics.generation_seconds.labels(outcome=outcome).observe(
                time.perf_counter() - started
            )

    def _finished(self, result: GenerationResult) -> str:
        self._metrics.tokens.labels(kind="prompt").inc(result.prompt_tokens)
        self._metrics.tokens.labels(kind="generated").inc(result.new_tokens)
        return "cancelled" if result.finish_reason is FinishReason.CANCELLED else "ok"

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        """The whole text at once, through ``stream`` so it is recorded the same way."""
        async for update in self.stream(request):
            if update.result is not None:
                return update.result
        raise GenerationFailed("The generation ended without a result; please try again.")

    async def score(self, text: str) -> TextScore:
        """Score through the wrapped backend; failures are counted."""
        try:
            return await self._backend.score(text)
        except Exception as error:
            self._metrics.error(error)
            raise
