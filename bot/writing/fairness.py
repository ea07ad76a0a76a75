"""Fairness: one piece in flight per requester, a cooldown between pieces, and a cap on how
much of the writer one guild may hold at once.

The state lives in the database (``bot.storage.fairness``), so every bot process on it (one
per shard group) holds the same rules: a user writing in a guild on one shard is told to wait
in a guild on another. The write flow holds a ``FairnessGate.slot`` around each piece, from
before the acknowledgement until the piece is delivered, so the slot covers the time a request
waits in the queue too. The slot is a lease this process renews while the piece runs; if the
process dies, the lease runs out and the requester may ask again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from bot.errors import InkwellError, ServiceBusy
from bot.storage import Database, StorageBusy, StorageError, StorageFull
from bot.storage.fairness import SlotKey, SlotRefused

log = logging.getLogger(__name__)

STILL_WRITING = "I'm still writing your previous piece — it will be ready in a moment."
# Long enough that a busy event loop never loses a live slot, short enough that a crashed
# process's requesters can soon ask again.
LEASE_SECONDS = 60.0
# How long a request may wait on the database for its slot before it is acknowledged anyway
# (Discord drops an interaction not answered within 3 s).
PATIENCE_SECONDS = 1.0
# A slot that storage refused to give back (disk full, database locked) is retried this often,
# doubling up to the most, until its lease would have run out anyway.
RELEASE_RETRY_FIRST_SECONDS = 0.25
RELEASE_RETRY_MOST_SECONDS = 2.0


class RateLimited(InkwellError):
    """The requester must wait before asking again."""


def unique_holder() -> str:
    """A name for a gate that no other process (or gate) shares."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class FairnessGate:
    """Admits a request only when its requester has none running, its cooldown in that guild
    is over, and the guild holds fewer than ``max_per_guild`` pieces (0 = no cap).

    ``holder`` names this process in the slots it takes; give a process the same name each
    time it starts (``recover`` then frees what it held before a crash). ``clock`` is unix
    seconds: processes compare leases and cooldowns by it."""

    def __init__(
        self,
        database: Database,
        *,
        holder: str | None = None,
        clock: Callable[[], float] = time.time,
        max_per_guild: int = 0,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self._slots = database.slots
        self._holder = holder or unique_holder()
        self._clock = clock
        self._max_per_guild = max_per_guild
        self._lease = lease_seconds
        self._releasing: set[asyncio.Future[None]] = set()

    @property
    def holder(self) -> str:
        """The name this gate's slots are held under."""
        return self._holder

    async def recover(self) -> int:
        """Free the slots held under this gate's name by an earlier run of this process (one
        that crashed mid-piece); returns how many."""
        freed = await self._slots.release_holder(self._holder)
        if freed:
            log.info("Freed %d writing slot(s) left by this process's last run", freed)
        return freed

    async def in_flight(self, who: SlotKey) -> bool:
        """Whether any process holds ``who``'s slot now."""
        return await self._slots.holder_of(who, now=self._clock()) is not None

    @asynccontextmanager
    async def slot(
        self,
        who: SlotKey,
        guild_id: int | None,
        cooldown_seconds: float,
        *,
        on_slow: Callable[[], Awaitable[None]] | None = None,
        patience: float | None = None,
    ) -> AsyncIterator[None]:
        """Hold ``who``'s single slot; the cooldown starts when the piece ends well.

        A request that failed (busy, prompt too long, model error) costs no cooldown: the
        requester was told to try again, and must be able to. If the database takes longer
        than ``PATIENCE_SECONDS`` to answer (another program holds its write lock),
        ``on_slow`` runs meanwhile (Discord's acknowledgement can't wait), and the refusal,
        if it comes, comes after it. ``patience`` (at most ``PATIENCE_SECONDS``) shortens
        that wait for a request that reached us late."""
        lease = await self._take(
            who,
            STILL_WRITING,
            on_slow,
            patience=patience,
            guild_id=guild_id,
            cooldown_guild_id=guild_id,
            max_per_guild=self._max_per_guild,
        )
        async with self._leased(who, lease, guild_id) as release:
            yield
            release.cooldown = cooldown_seconds

    @asynccontextmanager
    async def hold(self, who: SlotKey, busy_message: str) -> AsyncIterator[None]:
        """Take ``who``'s slot for something that must not overlap a piece (erasing their
        data), whatever their cooldown; raises ``RateLimited(busy_message)`` if a piece is
        running."""
        lease = await self._take(who, busy_message, None, check_cooldown=False)
        async with self._leased(who, lease, None):
            yield

    async def drain(self) -> None:
        """Wait for slots being given back in the background (before the database closes)."""
        if self._releasing:
            await asyncio.wait(set(self._releasing), timeout=10)

    async def _take(
        self,
        who: SlotKey,
        busy_message: str,
        on_slow: Callable[[], Awaitable[None]] | None,
        patience: float | None = None,
        **rules: Any,
    ) -> str:
        """Take ``who``'s slot under a new lease token and return it, or raise the refusal."""
        lease = secrets.token_hex(8)
        # Shielded: a caller cancelled while the take commits must not leave a slot behind
        # (a transaction cancelled in its COMMIT still commits); _abandon gives it back.
        taking = asyncio.ensure_future(
            self._slots.take(
                who,
                self._holder,
                lease=lease,
                now=self._clock(),
                lease_seconds=self._lease,
                **rules,
            )
        )
        try:
            if on_slow is not None:
                done, _ = await asyncio.wait(
                    {taking}, timeout=max(PATIENCE_SECONDS if patience is None else patience, 0.0)
                )
                if not done:
                    await on_slow()
            refused = await asyncio.shield(taking)
        except BaseException:
            self._abandon(taking, who, lease)
            raise
        if refused is not None:
            raise _refusal(refused, busy_message)
        return lease

    @asynccontextmanager
    async def _leased(
        self, who: SlotKey, lease: str, guild_id: int | None
    ) -> AsyncIterator[_Release]:
        """Renew the lease while the block runs, then give the slot back (with the cooldown
        the block set on the release, if it got that far)."""
        release = _Release()
        keeper = asyncio.create_task(self._keep(who, lease), name="writing-slot-lease")
        try:
            yield release
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            now = self._clock()
            until = None if release.cooldown is None else now + release.cooldown
            giving_back = self._track(
                self._slots.release(
                    who, lease, now=now, cooldown_until=until, cooldown_guild_id=guild_id
                )
            )
            try:
                # Shielded: a piece stopped by shutdown still gives its slot back.
                await asyncio.shield(giving_back)
            except (StorageFull, StorageBusy) as error:
                # The disk is full or another program holds the database: try again in the
                # background, so that the requester can ask again as soon as it is fixed,
                # not only once the lease has run out.
                log.warning("Could not give back a writing slot (%r); retrying", error)
                self._track(self._release_later(who, lease, now, until, guild_id))
            except Exception:
                log.exception("Could not give back a writing slot; its lease will free it")

    async def _release_later(
        self, who: SlotKey, lease: str, now: float, until: float | None, guild_id: int | None
    ) -> None:
        """Retry a release that storage refused, until it works or the lease has run out
        (after which the slot is free anyway)."""
        delay = RELEASE_RETRY_FIRST_SECONDS
        while self._clock() < now + self._lease:
            await asyncio.sleep(delay)
            delay = min(delay * 2, RELEASE_RETRY_MOST_SECONDS)
            try:
                await self._slots.release(
                    who, lease, now=now, cooldown_until=until, cooldown_guild_id=guild_id
                )
            except (StorageFull, StorageBusy):
                continue
            except StorageError as error:  # closing: the lease frees it
                log.info("Gave up giving back a writing slot: %r", error)
                return
            log.info("Gave back a writing slot once storage let us")
            return

    def _abandon(
        self, taking: asyncio.Future[SlotRefused | None], who: SlotKey, lease: str
    ) -> None:
        """The caller gave up on a slot it was taking: give it back once the take ends, if
        it was taken (``drain`` waits for this too)."""
        self._track(self._give_back(taking, who, lease))

    async def _give_back(
        self, taking: asyncio.Future[SlotRefused | None], who: SlotKey, lease: str
    ) -> None:
        try:
            refused = await taking
        except (Exception, asyncio.CancelledError):
            # Unknown whether it was taken; the release matches only this taking's token,
            # so it is harmless if it wasn't.
            refused = None
        if refused is None:
            await self._slots.release(who, lease, now=self._clock())

    def _track(self, release: Coroutine[Any, Any, None]) -> asyncio.Future[None]:
        task = asyncio.ensure_future(release)
        self._releasing.add(task)
        task.add_done_callback(self._releasing.discard)
        return task

    async def _keep(self, who: SlotKey, lease: str) -> None:
        while True:
            await asyncio.sleep(self._lease / 3)
            try:
                renewed = await self._slots.renew(
                    who, lease, now=self._clock(), lease_seconds=self._lease
                )
            except Exception:
                log.exception("Could not renew a writing slot; trying again")
                continue
            if not renewed:
                log.warning("A writing slot's lease ran out while its piece was running")
                return


class _Release:
    """What the slot's end should record: the cooldown to start, if the piece ended well."""

    cooldown: float | None = None


def _refusal(refused: SlotRefused, busy_message: str) -> InkwellError:
    if refused.reason == "in_flight":
        return RateLimited(busy_message)
    if refused.reason == "cooldown":
        seconds = max(1, math.ceil(refused.wait))
        return RateLimited(
            f"Please wait {seconds} more second{'s' if seconds != 1 else ''} before asking again."
        )
    return ServiceBusy(
        f"This server already has {refused.held} pieces being written — "
        "please try again in a moment, when one of them is done."
    )
