"""The last hour of generations and errors, in process, for /stats.

Prometheus metrics are off by default, so /stats keeps its own small rolling window: each
finished generation's latency and tokens, and the time of each error (a generation that
raised, or an interaction that ended in a bug). Entries older than the window are dropped as
new ones come, and the window holds at most ``MAX_ENTRIES`` of each, so memory stays bounded
however busy the bot is.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from bot.errors import GenerationFailed
from bot.generation.backends import GenerationBackend
from bot.generation.types import (
    GenerationRequest,
    GenerationResult,
    GenerationUpdate,
    ModelInfo,
    ProgressCallback,
    TextScore,
)

WINDOW_SECONDS = 3600.0
MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class Summary:
    """What the window holds now."""

    generations: int
    tokens_per_second: float | None  # generated tokens over the time spent generating them
    p50_seconds: float | None
    p95_seconds: float | None
    errors: int


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of a non-empty sorted list."""
    rank = max(1, min(len(sorted_values), math.ceil(fraction * len(sorted_values))))
    return sorted_values[rank - 1]


class RecentWindow:
    """Generations and errors of the last ``window`` seconds."""

    def __init__(
        self, window: float = WINDOW_SECONDS, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._window = window
        self._clock = clock
        self._generations: deque[tuple[float, float, int]] = deque(maxlen=MAX_ENTRIES)
        self._errors: deque[float] = deque(maxlen=MAX_ENTRIES)

    def generation(self, seconds: float, new_tokens: int) -> None:
        """A generation finished after ``seconds`` with ``new_tokens`` written."""
        self._generations.append((self._clock(), seconds, new_tokens))

    def error(self) -> None:
        """Something failed."""
        self._errors.append(self._clock())

    def summary(self) -> Summary:
        """The window's counts and rates, now."""
        horizon = self._clock() - self._window
        while self._generations and self._generations[0][0] < horizon:
            self._generations.popleft()
        while self._errors and self._errors[0] < horizon:
            self._errors.popleft()
        latencies = sorted(seconds for _, seconds, _ in self._generations)
        busy = sum(latencies)
        tokens = sum(count for _, _, count in self._generations)
        return Summary(
            generations=len(latencies),
            tokens_per_second=tokens / busy if busy > 0 else None,
            p50_seconds=percentile(latencies, 0.50) if latencies else None,
            p95_seconds=percentile(latencies, 0.95) if latencies else None,
            errors=len(self._errors),
        )


class WindowedGeneration:
    """``backend``, with each finished generation and each model failure noted in
    ``window``. Refusals of the user's input (a prompt too long) are not errors."""

    def __init__(self, backend: GenerationBackend, window: RecentWindow) -> None:
        self._backend = backend
        self._window = window

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
        """The wrapped stream; its result or its failure is noted."""
        started = time.perf_counter()
        try:
            async for update in self._backend.stream(request):
                if update.result is not None:
                    elapsed = time.perf_counter() - started
                    self._window.generation(elapsed, update.result.new_tokens)
                yield update
        except GenerationFailed:
            # The model failed (users see it as a refusal, so the interaction log doesn't
            # count it); a bug is counted once, by the interaction that met it.
            self._window.error()
            raise

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        """The whole text at once, through ``stream`` so it is noted the same way."""
        async for update in self.stream(request):
            if update.result is not None:
                return update.result
        raise GenerationFailed("The generation ended without a result; please try again.")

    async def score(self, text: str) -> TextScore:
        """Score through the wrapped backend."""
        return await self._backend.score(text)
