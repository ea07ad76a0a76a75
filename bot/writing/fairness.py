"""Fairness between users: one generation in flight per user, and a cooldown between them.

Pure bookkeeping with an injectable clock, so it is tested without sleeping. Front ends hold a
``UserGate.slot(user_id)`` around each generation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bot.errors import InkwellError


class RateLimited(InkwellError):
    """The user must wait before asking again."""


class UserGate:
    """Admits a user's request only when they have none running and their cooldown is over."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._in_flight: set[int] = set()
        self._next_allowed: dict[int, float] = {}

    @contextmanager
    def slot(self, user_id: int, cooldown_seconds: float) -> Iterator[None]:
        """Hold the user's single slot; the cooldown starts when the generation ends well.

        A request that failed (busy, prompt too long, model error) costs no cooldown: the
        user was told to try again, and must be able to."""
        if user_id in self._in_flight:
            raise RateLimited(
                "I'm still writing your previous piece — it will be ready in a moment."
            )
        wait = self._next_allowed.get(user_id, 0.0) - self._clock()
        if wait > 0:
            seconds = math.ceil(wait)
            raise RateLimited(
                f"Please wait {seconds} more second{'s' if seconds != 1 else ''} "
                "before asking again."
            )
        self._in_flight.add(user_id)
        try:
            yield
        finally:
            self._in_flight.discard(user_id)
        self._next_allowed[user_id] = self._clock() + cooldown_seconds
        self._forget_expired()

    def _forget_expired(self) -> None:
        # Keep memory bounded by active users, not by everyone who ever asked.
        if len(self._next_allowed) > 1024:
            now = self._clock()
            self._next_allowed = {u: t for u, t in self._next_allowed.items() if t > now}
