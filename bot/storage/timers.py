"""The timers table: what the clock (``bot.clock``) fires, and the atomic claim behind it.

A claim is one UPDATE that only succeeds while the timer is still at the same ``due_at`` and
no live claim holds it, so two processes (or two dispatchers) never both fire one timer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.shards import SHARD_SHIFT, ShardGroup
from bot.storage.executor import Executor, Row
from bot.storage.models import frozen_json, to_db_time
from bot.storage.validation import to_json

_COLUMNS = "id, kind, key, due_at, payload, attempts, claimed_until, guild_id"


@dataclass(frozen=True, slots=True)
class Timer:
    """One pending timer. ``attempts`` counts claims since it was last scheduled or
    completed, so a handler knows when it is being retried."""

    id: int
    kind: str
    key: str
    due_at: float
    payload: Mapping[str, Any] = field(hash=False)
    attempts: int
    claimed_until: float | None
    # The guild it acts in: the process holding that guild's shard fires it.
    guild_id: int | None = None


def _timer(row: Row) -> Timer:
    return Timer(
        id=row["id"],
        kind=row["kind"],
        key=row["key"],
        due_at=row["due_at"],
        payload=frozen_json(row["payload"]),
        attempts=row["attempts"],
        claimed_until=row["claimed_until"],
        guild_id=row["guild_id"],
    )


def _in_shards(shards: ShardGroup) -> str:
    """SQL true for a timer whose guild is on ``shards`` (no guild: shard 0's). Integer
    division is the same on both dialects for positive ids; the numbers are ints, not text."""
    ids = ", ".join(str(int(shard)) for shard in shards.ids)
    on_shards = f"(guild_id / {1 << SHARD_SHIFT}) % {int(shards.count)} IN ({ids})"
    if 0 in shards.ids:
        return f"(guild_id IS NULL OR {on_shards})"
    return f"(guild_id IS NOT NULL AND {on_shards})"


def _check_time(name: str, value: float) -> None:
    # NaN would be stored as NULL (and compare false with everything): a caller's bug.
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number of unix seconds, got {value!r}")


class TimerRepository:
    """Schedules, claims and completes timers; times are unix seconds."""

    def __init__(self, executor: Executor, clock: Callable[[], datetime]) -> None:
        self._db = executor
        self._clock = clock

    async def schedule(
        self,
        kind: str,
        key: str,
        due_at: float,
        payload: Mapping[str, Any],
        guild_id: int | None = None,
    ) -> Timer:
        """Set the timer ``(kind, key)`` to fire at ``due_at`` in ``guild_id`` (None: no
        guild), replacing any earlier one (and its claim)."""
        _check_time("due_at", due_at)
        encoded = to_json(payload, "timer payload")
        async with self._db.transaction():
            row = await self._db.fetch_one(
                "INSERT INTO timers (kind, key, due_at, payload, attempts, claimed_until,"
                " created_at, guild_id) VALUES (?, ?, ?, ?, 0, NULL, ?, ?)"
                " ON CONFLICT (kind, key) DO UPDATE SET due_at = excluded.due_at,"
                " payload = excluded.payload, attempts = 0, claimed_until = NULL,"
                " guild_id = excluded.guild_id"
                f" RETURNING {_COLUMNS}",
                (kind, key, float(due_at), encoded, to_db_time(self._clock()), guild_id),
            )
        assert row is not None
        return _timer(row)

    async def get(self, kind: str, key: str) -> Timer | None:
        """The timer ``(kind, key)``, or None."""
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM timers WHERE kind = ? AND key = ?", (kind, key)
        )
        return None if row is None else _timer(row)

    async def cancel(self, kind: str, key: str) -> bool:
        """Remove a timer; False if there was none."""
        async with self._db.transaction():
            removed = await self._db.execute(
                "DELETE FROM timers WHERE kind = ? AND key = ?", (kind, key)
            )
        return removed > 0

    async def due(
        self,
        now: float,
        limit: int,
        kinds: Collection[str] | None = None,
        shards: ShardGroup | None = None,
    ) -> list[Timer]:
        """Timers due by ``now`` that no live claim holds, oldest first; only of ``kinds``
        and in guilds of ``shards`` when given (so timers this process doesn't handle can't
        crowd out its own)."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        if kinds is not None and not kinds:
            return []
        only = "" if kinds is None else f" AND kind IN ({', '.join('?' * len(kinds))})"
        if shards is not None and not shards.is_everything:
            only += f" AND {_in_shards(shards)}"
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM timers WHERE due_at <= ?"
            f" AND (claimed_until IS NULL OR claimed_until < ?){only}"
            " ORDER BY due_at, id LIMIT ?",
            (now, now, *(kinds or ()), limit),
        )
        return [_timer(row) for row in rows]

    async def claim(self, timer: Timer, now: float, lease_seconds: float) -> Timer | None:
        """Claim ``timer`` for ``lease_seconds``; None if another claim got there first or
        it was rescheduled since it was read."""
        _check_time("now", now)
        if not lease_seconds > 0:
            raise ValueError(f"lease_seconds must be positive, got {lease_seconds!r}")
        async with self._db.transaction():
            row = await self._db.fetch_one(
                "UPDATE timers SET claimed_until = ?, attempts = attempts + 1"
                " WHERE id = ? AND due_at = ? AND (claimed_until IS NULL OR claimed_until < ?)"
                f" RETURNING {_COLUMNS}",
                (now + lease_seconds, timer.id, timer.due_at, now),
            )
        return None if row is None else _timer(row)

    async def renew(self, timer: Timer, now: float, lease_seconds: float) -> Timer | None:
        """Extend the claim ``timer`` holds (the one ``claim`` or ``renew`` returned) to
        ``now + lease_seconds``, for a handler that runs long; None if the claim is no
        longer ours."""
        _check_time("now", now)
        async with self._db.transaction():
            row = await self._db.fetch_one(
                "UPDATE timers SET claimed_until = ?"
                " WHERE id = ? AND due_at = ? AND claimed_until IS ?"
                f" RETURNING {_COLUMNS}",
                (now + lease_seconds, timer.id, timer.due_at, timer.claimed_until),
            )
        return None if row is None else _timer(row)

    async def complete(self, timer: Timer, next_due_at: float | None) -> bool:
        """A claimed timer fired: remove it, or move it to ``next_due_at``. ``timer`` is the
        latest claim (from ``claim`` or ``renew``). False if it was rescheduled, removed or
        claimed by someone else meanwhile: the newer plan, or the other claim, stands."""
        if next_due_at is not None:
            _check_time("next_due_at", next_due_at)
        async with self._db.transaction():
            if next_due_at is None:
                changed = await self._db.execute(
                    "DELETE FROM timers WHERE id = ? AND due_at = ? AND claimed_until IS ?",
                    (timer.id, timer.due_at, timer.claimed_until),
                )
            else:
                changed = await self._db.execute(
                    "UPDATE timers SET due_at = ?, attempts = 0, claimed_until = NULL"
                    " WHERE id = ? AND due_at = ? AND claimed_until IS ?",
                    (float(next_due_at), timer.id, timer.due_at, timer.claimed_until),
                )
        return changed > 0

    async def release(self, timer: Timer) -> bool:
        """Give a claim back without firing, so the timer is retried at once. ``timer`` is
        the one ``claim`` returned; False if that claim is no longer the timer's (its lease
        ran out and someone else claimed it, or it was rescheduled): theirs stands."""
        async with self._db.transaction():
            changed = await self._db.execute(
                "UPDATE timers SET claimed_until = NULL"
                " WHERE id = ? AND due_at = ? AND claimed_until IS ?",
                (timer.id, timer.due_at, timer.claimed_until),
            )
        return changed > 0
