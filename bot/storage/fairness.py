"""Writing slots and cooldowns: the fairness every bot process on one database shares.

A slot is one row per requester with a piece in flight, held by a named process under a
lease the holder renews; a process that dies leaves rows whose lease runs out. Taking a slot
checks, in one transaction, that the requester holds none, that their cooldown in that guild
is over and that the guild holds fewer than its share, so two processes can't both admit a
request the rules allow only once. Times are unix seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from bot.storage.executor import Executor

# How often (in releases) expired cooldowns are swept, so the table stays as small as the
# set of people cooling down.
_SWEEP_EVERY = 256

SlotKey = tuple[str, int]
Refusal = Literal["in_flight", "cooldown", "guild_full"]


@dataclass(frozen=True, slots=True)
class SlotRefused:
    """Why a slot was not given: ``wait`` seconds of cooldown left, or ``held`` pieces the
    guild already has."""

    reason: Refusal
    wait: float = 0.0
    held: int = 0


def _guild_key(guild_id: int | None) -> int:
    return 0 if guild_id is None else guild_id


class SlotRepository:
    """Takes, renews and releases writing slots; keeps cooldowns."""

    def __init__(self, executor: Executor) -> None:
        self._db = executor
        self._releases = 0

    async def take(
        self,
        slot: SlotKey,
        holder: str,
        *,
        now: float,
        lease_seconds: float,
        lease: str,
        guild_id: int | None = None,
        cooldown_guild_id: int | None = None,
        check_cooldown: bool = True,
        max_per_guild: int = 0,
    ) -> SlotRefused | None:
        """Give ``slot`` to ``holder`` under the token ``lease`` until ``now +
        lease_seconds``; the refusal if the slot is held, its cooldown in
        ``cooldown_guild_id`` runs (when ``check_cooldown``), or ``guild_id`` (whose share the
        piece counts against; None = none) holds ``max_per_guild`` pieces (0 = no cap)."""
        if not math.isfinite(now) or not lease_seconds > 0:
            raise ValueError("now must be finite and lease_seconds positive")
        kind, slot_id = slot
        async with self._db.transaction():
            capped = guild_id is not None and max_per_guild > 0
            if capped:
                # Two processes counting one guild's pieces at once would both see room.
                await self._db.lock("writing_guild", guild_id)
            held_until = await self._db.fetch_value(
                "SELECT held_until FROM writing_slots WHERE slot_kind = ? AND slot_id = ?",
                (kind, slot_id),
            )
            if held_until is not None and held_until >= now:
                return SlotRefused("in_flight")
            until = None
            if check_cooldown:
                until = await self._db.fetch_value(
                    "SELECT until FROM cooldowns WHERE guild_key = ? AND slot_kind = ?"
                    " AND slot_id = ?",
                    (_guild_key(cooldown_guild_id), kind, slot_id),
                )
            if until is not None and until > now:
                return SlotRefused("cooldown", wait=until - now)
            if capped:
                held = await self._db.fetch_value(
                    "SELECT count(*) FROM writing_slots WHERE guild_id = ? AND held_until >= ?",
                    (guild_id, now),
                )
                if held >= max_per_guild:
                    return SlotRefused("guild_full", held=int(held))
            # Conditional on the lease having run out, so that of two processes racing for
            # one requester (whose reads both found no live row) only one gets the slot.
            taken = await self._db.execute(
                "INSERT INTO writing_slots"
                " (slot_kind, slot_id, guild_id, holder, lease, held_until)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (slot_kind, slot_id) DO UPDATE SET"
                " guild_id = excluded.guild_id, holder = excluded.holder,"
                " lease = excluded.lease, held_until = excluded.held_until"
                " WHERE writing_slots.held_until < ?",
                (kind, slot_id, guild_id, holder, lease, now + lease_seconds, now),
            )
            return None if taken else SlotRefused("in_flight")

    async def renew(self, slot: SlotKey, lease: str, *, now: float, lease_seconds: float) -> bool:
        """Extend the taking ``lease``'s hold on ``slot``; False if it holds it no more."""
        kind, slot_id = slot
        async with self._db.transaction():
            renewed = await self._db.execute(
                "UPDATE writing_slots SET held_until = ? WHERE slot_kind = ? AND slot_id = ?"
                " AND lease = ?",
                (now + lease_seconds, kind, slot_id, lease),
            )
        return renewed > 0

    async def release(
        self,
        slot: SlotKey,
        lease: str,
        *,
        now: float,
        cooldown_until: float | None = None,
        cooldown_guild_id: int | None = None,
    ) -> None:
        """Give ``slot`` back (if the taking ``lease`` still has it) and, with ``cooldown_until``,
        start its cooldown in ``cooldown_guild_id``."""
        kind, slot_id = slot
        self._releases += 1
        async with self._db.transaction():
            await self._db.execute(
                "DELETE FROM writing_slots WHERE slot_kind = ? AND slot_id = ? AND lease = ?",
                (kind, slot_id, lease),
            )
            if cooldown_until is not None and cooldown_until > now:
                await self._db.execute(
                    "INSERT INTO cooldowns (guild_key, slot_kind, slot_id, until)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (guild_key, slot_kind, slot_id)"
                    " DO UPDATE SET until = excluded.until",
                    (_guild_key(cooldown_guild_id), kind, slot_id, cooldown_until),
                )
            if self._releases % _SWEEP_EVERY == 0:
                await self._db.execute("DELETE FROM cooldowns WHERE until <= ?", (now,))
                await self._db.execute("DELETE FROM writing_slots WHERE held_until < ?", (now,))

    async def release_holder(self, holder: str) -> int:
        """Give back every slot ``holder`` has (a process starting again under its name:
        whatever it held before was stopped with it); returns how many."""
        async with self._db.transaction():
            return await self._db.execute("DELETE FROM writing_slots WHERE holder = ?", (holder,))

    async def holder_of(self, slot: SlotKey, *, now: float) -> str | None:
        """The process holding ``slot`` under a live lease, or None."""
        kind, slot_id = slot
        return await self._db.fetch_value(
            "SELECT holder FROM writing_slots WHERE slot_kind = ? AND slot_id = ?"
            " AND held_until >= ?",
            (kind, slot_id, now),
        )
