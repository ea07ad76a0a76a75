"""A cap on the requests in flight to one model server, with a bounded, first-come line.

``asyncio.Semaphore`` would cap them too, but it cannot say how many wait ahead of a request
(users are shown their place, as with the local engine) or refuse a request when the line is
full, so this keeps the line itself.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib

from bot.errors import ServiceBusy


class Ticket:
    """One request's claim on a slot: granted at once, or waiting in line."""

    def __init__(
        self, slots: RequestSlots, waiter: asyncio.Future[None] | None, ahead: int
    ) -> None:
        self._slots = slots
        self._waiter = waiter
        self.ahead = ahead  # requests in line before this one when it joined (0 = it runs now)
        self._released = False

    @property
    def granted(self) -> bool:
        """Whether the slot is this request's now."""
        waiter = self._waiter
        return waiter is None or (waiter.done() and not waiter.cancelled())

    async def wait(self) -> None:
        """Wait until the slot is granted (cancelling leaves the line)."""
        if self._waiter is not None:
            await self._waiter

    def release(self) -> None:
        """Give the slot to the next request in line, or leave the line; idempotent."""
        if self._released:
            return
        self._released = True
        if self.granted:
            self._slots._pass_on()
        else:
            assert self._waiter is not None
            self._waiter.cancel()
            self._slots._forget(self._waiter)


class RequestSlots:
    """At most ``limit`` requests in flight and ``max_waiting`` in line; more are refused
    with ``ServiceBusy``. Event-loop only (no locks needed)."""

    def __init__(self, limit: int, max_waiting: int) -> None:
        self._limit = limit
        self._max_waiting = max_waiting
        self._running = 0
        self._line: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def load(self) -> tuple[int, int]:
        """(requests in flight, requests waiting)."""
        return self._running, len(self._line)

    def take(self) -> Ticket:
        """A ticket for a slot: granted now, or in line. Raises ``ServiceBusy`` when the line
        is full."""
        if self._running < self._limit and not self._line:
            self._running += 1
            return Ticket(self, None, 0)
        if len(self._line) >= self._max_waiting:
            raise ServiceBusy()
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._line.append(waiter)
        return Ticket(self, waiter, len(self._line))

    def _pass_on(self) -> None:
        # The slot goes straight to the next live waiter, so ``_running`` is unchanged and no
        # newcomer can jump the line between the release and the waiter waking up.
        while self._line:
            waiter = self._line.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._running -= 1

    def _forget(self, waiter: asyncio.Future[None]) -> None:
        # ValueError: it was handed the slot already, and popped from the line.
        with contextlib.suppress(ValueError):
            self._line.remove(waiter)
