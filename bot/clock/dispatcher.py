"""The clock: one task that fires due timers from the ``timers`` table.

A timer is claimed atomically before it fires (``TimerRepository.claim``: an UPDATE that only
one process can win), with a lease. If the process dies between the claim and the effect, the
lease runs out and the timer is claimed again after the restart, so it still fires once. A
handler whose effect may already have happened when it is retried (``timer.attempts > 1``)
checks for that effect first; that is how "a crash right after firing" stays single.

Each kind of timer says what is too late: a turn timeout that is hours overdue is still worth
firing (the game moves on), a prompt of the day for a day already over is not. Due timers are
caught up on start with that rule.

With several processes on one database, each fires only the timers of guilds on its own
shards (``shards``): that process has the guild's channels and settings at hand.

Time comes from an injected ``Clock`` (unix seconds and sleep), so tests drive it directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.shards import ShardGroup
from bot.storage import Database, Timer
from bot.writing.destination import DestinationGone

log = logging.getLogger(__name__)

# A handler returns when the timer should fire next (unix seconds), or None when it is done.
Handler = Callable[[Timer], Awaitable[float | None]]


class Clock(Protocol):
    """Wall-clock time in unix seconds, and a way to wait."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        """Unix seconds now."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """Wait on the event loop."""
        await asyncio.sleep(seconds)


@dataclass(frozen=True)
class TimerKind:
    """How one kind of timer fires.

    ``max_lateness``: seconds after ``due_at`` past which firing makes no sense any more
    (None = always fire). A timer that is too late goes to ``on_missed`` instead, which says
    when it should fire next (None = drop it).
    ``lease_seconds``: how long a claim holds before another process may retry the timer;
    a handler that fails is retried after its lease, at most ``max_attempts`` times.
    ``on_gone``: the handler's destination is gone for good (``DestinationGone``: a deleted
    channel, a lost permission). The timer is then dropped rather than retried forever, and
    this is where its kind pauses whatever it belongs to and tells the owner.
    """

    name: str
    fire: Handler
    max_lateness: float | None = None
    on_missed: Handler | None = None
    on_gone: Callable[[Timer, DestinationGone], Awaitable[None]] | None = None
    lease_seconds: float = 120.0
    max_attempts: int = 5


class Dispatcher:
    """Fires due timers of the registered kinds; ``run_due`` once, or ``start`` a loop."""

    def __init__(
        self,
        database: Database,
        clock: Clock | None = None,
        *,
        tick_seconds: float = 1.0,
        batch: int = 50,
        shards: ShardGroup | None = None,
    ) -> None:
        self._database = database
        self._shards = shards
        self._clock = clock or SystemClock()
        self._tick = tick_seconds
        self._batch = batch
        self._kinds: dict[str, TimerKind] = {}
        self._task: asyncio.Task[None] | None = None
        self._firing: dict[tuple[str, str], asyncio.Task[bool]] = {}
        self._closed = False

    @property
    def clock(self) -> Clock:
        """The clock timers are due by (features that set deadlines read the time here)."""
        return self._clock

    def register(self, *kinds: TimerKind) -> None:
        """Handle timers of these kinds from now on."""
        for kind in kinds:
            if kind.name in self._kinds:
                raise ValueError(f"timer kind {kind.name!r} is already registered")
        for kind in kinds:
            self._kinds[kind.name] = kind

    def unregister(self, *names: str) -> None:
        """Stop handling these kinds (a reloaded extension registers them anew); their
        timers wait in the table meanwhile."""
        for name in names:
            self._kinds.pop(name, None)

    async def schedule(
        self,
        kind: str,
        key: str,
        due_at: float,
        payload: dict[str, object] | None = None,
        *,
        guild_id: int | None = None,
    ) -> Timer:
        """Set (or move) the timer ``(kind, key)``; it acts in ``guild_id`` (None: no guild),
        so the process holding that guild's shard fires it."""
        if kind not in self._kinds:
            raise ValueError(f"no handler for timer kind {kind!r}")
        return await self._database.timers.schedule(kind, key, due_at, payload or {}, guild_id)

    async def cancel(self, kind: str, key: str) -> bool:
        """Remove a timer; False if there was none."""
        return await self._database.timers.cancel(kind, key)

    async def run_due(self) -> int:
        """Claim and fire every due timer of a known kind; returns how many fired or were
        handled as missed. Catching up after downtime is just this, called at start."""
        handled = 0
        while not self._closed:
            now = self._clock.now()
            due = await self._database.timers.due(
                now, self._batch, kinds=list(self._kinds), shards=self._shards
            )
            if not due:
                return handled
            # Concurrently: one slow handler (an AI line) must not hold up another's deadline.
            fired = await asyncio.gather(*(self._fire(timer) for timer in due))
            handled += sum(fired)
            if len(due) < self._batch:
                return handled
        return handled

    async def _spawn_due(self) -> None:
        """The loop's step: start firing every due timer that isn't firing already, without
        waiting for them, so the next tick comes on time however long a handler runs."""
        if self._closed:
            return
        now = self._clock.now()
        due = await self._database.timers.due(
            now, self._batch, kinds=list(self._kinds), shards=self._shards
        )
        for timer in due:
            if self._closed:
                return
            if (timer.kind, timer.key) in self._firing:
                continue
            task = asyncio.create_task(self._fire_logged(timer), name=f"timer-{timer.kind}")
            self._firing[(timer.kind, timer.key)] = task
            task.add_done_callback(lambda _, key=(timer.kind, timer.key): self._firing.pop(key))

    async def _fire_logged(self, timer: Timer) -> bool:
        try:
            return await self._fire(timer)
        except Exception:
            log.exception("Timer %s/%s could not be fired; trying again", timer.kind, timer.key)
            return False

    async def _fire(self, timer: Timer) -> bool:
        kind = self._kinds.get(timer.kind)
        now = self._clock.now()
        if self._closed or kind is None:  # stopping, or its kind was unregistered meanwhile
            return False
        claimed = await self._database.timers.claim(timer, now, kind.lease_seconds)
        if claimed is None:
            return False  # another process has it
        if claimed.attempts > kind.max_attempts:
            # Its earlier attempts never finished (the process died or was stopped each
            # time): give up rather than retry forever.
            log.error(
                "Timer %s/%s never finished in %d attempts; dropping it",
                claimed.kind,
                claimed.key,
                kind.max_attempts,
            )
            await self._database.timers.complete(claimed, None)
            return True
        late = now - claimed.due_at
        handler = kind.fire
        if kind.max_lateness is not None and late > kind.max_lateness:
            log.info("Timer %s/%s is %.0f s late: missed", claimed.kind, claimed.key, late)
            handler = kind.on_missed or _drop
        claim = _HeldClaim(claimed)
        keeper = asyncio.create_task(self._keep_lease(kind, claim), name="clock-lease")
        try:
            await self._run(kind, handler, claim)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        return True

    async def _run(self, kind: TimerKind, handler: Handler, claim: _HeldClaim) -> None:
        timer = claim.timer
        try:
            next_due = await handler(timer)
        except DestinationGone as gone:
            log.warning("Timer %s/%s: %s; dropping it", timer.kind, timer.key, gone)
            try:
                if kind.on_gone is not None:
                    await kind.on_gone(timer, gone)
            except Exception:
                log.exception("Timer %s/%s: telling its owner failed", timer.kind, timer.key)
            finally:
                # Dropped whatever on_gone did: a gone destination is never retried.
                await self._database.timers.complete(claim.timer, None)
            return
        except Exception:
            if timer.attempts >= kind.max_attempts:
                log.exception(
                    "Timer %s/%s failed %d times; dropping it",
                    timer.kind,
                    timer.key,
                    timer.attempts,
                )
                await self._database.timers.complete(claim.timer, None)
            else:
                # Leave the claim to expire: the lease is the retry delay, so a failing
                # handler cannot spin.
                log.exception(
                    "Timer %s/%s failed (attempt %d)", timer.kind, timer.key, timer.attempts
                )
            return
        if not await self._database.timers.complete(claim.timer, next_due):
            log.warning(
                "Timer %s/%s changed while it fired; the newer plan stands", timer.kind, timer.key
            )

    async def _keep_lease(self, kind: TimerKind, claim: _HeldClaim) -> None:
        """Renew the claim every third of its lease while its handler runs, so a slow
        handler (a piece waiting in a busy queue) is never fired a second time elsewhere."""
        while True:
            # Real time, whatever clock is injected: this paces the renewals only.
            await asyncio.sleep(kind.lease_seconds / 3)
            renewed = await self._database.timers.renew(
                claim.timer, self._clock.now(), kind.lease_seconds
            )
            if renewed is None:
                log.warning("Timer %s/%s: its claim was lost", claim.timer.kind, claim.timer.key)
                return
            claim.timer = renewed

    # --- the loop ----------------------------------------------------------------------------

    def start(self) -> None:
        """Run ``run_due`` every tick, in a task, until ``close`` (idempotent; never again
        after ``stop_claiming`` or ``close``, even if the gateway says READY once more)."""
        if self._task is None and not self._closed:
            self._task = asyncio.create_task(self._loop(), name="clock")

    def stop_claiming(self) -> None:
        """Claim no more timers; one being fired carries on (shutdown lets it finish)."""
        self._closed = True

    async def close(self) -> None:
        """Stop the loop. A timer still being fired is cancelled; its lease makes it retry."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        firing = list(self._firing.values())
        for task in firing:
            task.cancel()
        if firing:
            await asyncio.gather(*firing, return_exceptions=True)

    async def _loop(self) -> None:
        while not self._closed:
            try:
                await self._spawn_due()
            except Exception:
                log.exception("The clock could not read its timers; trying again")
            await self._clock.sleep(self._tick)


@dataclass
class _HeldClaim:
    """The latest version of a claim: renewing it changes ``claimed_until``."""

    timer: Timer


async def _drop(timer: Timer) -> None:
    return None
