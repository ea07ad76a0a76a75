"""Fairness: one piece in flight per requester, a cooldown between pieces, and a cap on how
much of the writer one guild may hold at once.

Pure bookkeeping with an injectable clock, so it is tested without sleeping. The write flow
holds a ``FairnessGate.slot`` around each piece, from before the acknowledgement until the
piece is delivered, so the slot covers the time a request waits in the queue too.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager

from bot.errors import InkwellError, ServiceBusy

# Keep memory bounded by active requesters, not by everyone who ever asked.
_FORGET_AFTER = 1024


class RateLimited(InkwellError):
    """The requester must wait before asking again."""


class FairnessGate:
    """Admits a request only when its requester has none running, its cooldown in that guild
    is over, and the guild holds fewer than ``max_per_guild`` pieces (0 = no cap)."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, *, max_per_guild: int = 0
    ) -> None:
        self._clock = clock
        self._max_per_guild = max_per_guild
        self._in_flight: set[Hashable] = set()
        self._per_guild: Counter[int] = Counter()
        # Keyed by (guild, requester): a cooldown one server sets applies only there.
        self._next_allowed: dict[tuple[int | None, Hashable], float] = {}

    def in_flight(self, who: Hashable) -> bool:
        """Whether ``who`` holds its slot now."""
        return who in self._in_flight

    @contextmanager
    def slot(self, who: Hashable, guild_id: int | None, cooldown_seconds: float) -> Iterator[None]:
        """Hold ``who``'s single slot; the cooldown starts when the piece ends well.

        A request that failed (busy, prompt too long, model error) costs no cooldown: the
        requester was told to try again, and must be able to."""
        if who in self._in_flight:
            raise RateLimited(
                "I'm still writing your previous piece — it will be ready in a moment."
            )
        wait = self._next_allowed.get((guild_id, who), 0.0) - self._clock()
        if wait > 0:
            seconds = math.ceil(wait)
            raise RateLimited(
                f"Please wait {seconds} more second{'s' if seconds != 1 else ''} "
                "before asking again."
            )
        if guild_id is not None and 0 < self._max_per_guild <= self._per_guild[guild_id]:
            raise ServiceBusy(
                f"This server already has {self._per_guild[guild_id]} pieces being written — "
                "please try again in a moment, when one of them is done."
            )
        with self._held(who, guild_id):
            yield
        self._next_allowed[(guild_id, who)] = self._clock() + cooldown_seconds
        self._forget_expired()

    @contextmanager
    def hold(self, who: Hashable, busy_message: str) -> Iterator[None]:
        """Take ``who``'s slot for something that must not overlap a piece (erasing their
        data), without a cooldown; raises ``RateLimited(busy_message)`` if a piece is running."""
        if who in self._in_flight:
            raise RateLimited(busy_message)
        with self._held(who, None):
            yield

    @contextmanager
    def _held(self, who: Hashable, guild_id: int | None) -> Iterator[None]:
        self._in_flight.add(who)
        if guild_id is not None:
            self._per_guild[guild_id] += 1
        try:
            yield
        finally:
            self._in_flight.discard(who)
            if guild_id is not None:
                self._per_guild[guild_id] -= 1
                if self._per_guild[guild_id] <= 0:
                    del self._per_guild[guild_id]

    def _forget_expired(self) -> None:
        if len(self._next_allowed) > _FORGET_AFTER:
            now = self._clock()
            self._next_allowed = {k: t for k, t in self._next_allowed.items() if t > now}
