"""The prompt of the day: each guild's schedule, the prompts posted, entries and their hearts.

A prompt row is claimed for (guild, local day) before anything is posted; the UNIQUE pair is
what keeps a day to one post, also when a crash comes right after posting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.storage.errors import IntegrityViolation, NotFound, StorageError, TooLong
from bot.storage.executor import Executor, Row
from bot.storage.models import from_db_time, to_db_time

MAX_ENTRY_CHARS = 4000
MAX_DAILY_PROMPT_CHARS = 1000

_SCHEDULE = (
    "guild_id, channel_id, local_time, timezone, source, mode, paused, pause_reason, owner_id,"
    " created_at, updated_at"
)
_PROMPT = (
    "id, guild_id, timezone, local_date, text, source, mode, channel_id, message_id, revealed,"
    " posted_at, created_at"
)
_ENTRY = "id, prompt_id, guild_id, user_id, user_name, text, message_id, created_at"


class AlreadySubmitted(StorageError):
    """A member sent a second entry for the same prompt."""


@dataclass(frozen=True, slots=True)
class DailySchedule:
    """When and where a guild's prompt of the day is posted."""

    guild_id: int
    channel_id: int
    local_time: str  # HH:MM
    timezone: str  # IANA
    source: str
    mode: str  # post | collect
    paused: bool
    pause_reason: str | None
    owner_id: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DailyPrompt:
    """One day's prompt in one guild."""

    id: int
    guild_id: int
    timezone: str  # the schedule's zone when it was posted
    local_date: str  # YYYY-MM-DD there
    text: str
    source: str
    mode: str
    channel_id: int
    message_id: int | None
    revealed: bool
    posted_at: float  # unix seconds, when it was claimed for posting
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DailyEntry:
    """A member's entry for a prompt."""

    id: int
    prompt_id: int
    guild_id: int
    user_id: int
    user_name: str
    text: str
    message_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LeaderboardRow:
    """A member's hearts received (and entries sent) over a period."""

    user_id: int
    user_name: str
    hearts: int
    entries: int


def _schedule(row: Row) -> DailySchedule:
    return DailySchedule(
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        local_time=row["local_time"],
        timezone=row["timezone"],
        source=row["source"],
        mode=row["mode"],
        paused=bool(row["paused"]),
        pause_reason=row["pause_reason"],
        owner_id=row["owner_id"],
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
    )


def _prompt(row: Row) -> DailyPrompt:
    return DailyPrompt(
        id=row["id"],
        guild_id=row["guild_id"],
        timezone=row["timezone"],
        local_date=row["local_date"],
        text=row["text"],
        source=row["source"],
        mode=row["mode"],
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        revealed=bool(row["revealed"]),
        posted_at=row["posted_at"],
        created_at=from_db_time(row["created_at"]),
    )


def _entry(row: Row) -> DailyEntry:
    return DailyEntry(
        id=row["id"],
        prompt_id=row["prompt_id"],
        guild_id=row["guild_id"],
        user_id=row["user_id"],
        user_name=row["user_name"],
        text=row["text"],
        message_id=row["message_id"],
        created_at=from_db_time(row["created_at"]),
    )


class DailyRepository:
    """Schedules, prompts, entries and hearts of the prompt of the day."""

    def __init__(self, executor: Executor, clock: Callable[[], datetime]) -> None:
        self._db = executor
        self._clock = clock

    # --- schedules -------------------------------------------------------------------------

    async def set_schedule(
        self,
        guild_id: int,
        *,
        channel_id: int,
        local_time: str,
        timezone: str,
        source: str,
        mode: str,
        owner_id: int,
    ) -> DailySchedule:
        """Create or replace the guild's schedule (a new one starts unpaused)."""
        now = to_db_time(self._clock())
        async with self._db.transaction():
            row = await self._db.fetch_one(
                "INSERT INTO daily_schedules (guild_id, channel_id, local_time, timezone, source,"
                " mode, paused, pause_reason, owner_id, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 0, NULL, ?, ?, ?)"
                " ON CONFLICT (guild_id) DO UPDATE SET channel_id = excluded.channel_id,"
                " local_time = excluded.local_time, timezone = excluded.timezone,"
                " source = excluded.source, mode = excluded.mode, paused = 0,"
                " pause_reason = NULL, owner_id = excluded.owner_id,"
                " updated_at = excluded.updated_at"
                f" RETURNING {_SCHEDULE}",
                (guild_id, channel_id, local_time, timezone, source, mode, owner_id, now, now),
            )
        assert row is not None
        return _schedule(row)

    async def schedule(self, guild_id: int) -> DailySchedule | None:
        """The guild's schedule, or None."""
        row = await self._db.fetch_one(
            f"SELECT {_SCHEDULE} FROM daily_schedules WHERE guild_id = ?", (guild_id,)
        )
        return None if row is None else _schedule(row)

    async def all_schedules(self) -> list[DailySchedule]:
        """Every schedule (to plan their timers on start)."""
        rows = await self._db.fetch_all(f"SELECT {_SCHEDULE} FROM daily_schedules")
        return [_schedule(row) for row in rows]

    async def set_paused(self, guild_id: int, paused: bool, reason: str | None = None) -> bool:
        """Pause or resume; False if the guild has no schedule."""
        async with self._db.transaction():
            changed = await self._db.execute(
                "UPDATE daily_schedules SET paused = ?, pause_reason = ?, updated_at = ?"
                " WHERE guild_id = ?",
                (int(paused), reason if paused else None, to_db_time(self._clock()), guild_id),
            )
        return changed > 0

    async def remove_schedule(self, guild_id: int) -> bool:
        """Remove the schedule (past prompts and entries stay); False if there was none."""
        async with self._db.transaction():
            removed = await self._db.execute(
                "DELETE FROM daily_schedules WHERE guild_id = ?", (guild_id,)
            )
        return removed > 0

    # --- prompts ---------------------------------------------------------------------------

    async def claim_prompt(
        self,
        guild_id: int,
        timezone: str,
        local_date: str,
        *,
        text: str,
        source: str,
        mode: str,
        channel_id: int,
        posted_at: float,
    ) -> DailyPrompt | None:
        """Record the prompt for (guild, local day in ``timezone``) before it is posted; None
        if that day already has one (it was posted, or a crashed attempt claimed it)."""
        if len(text) > MAX_DAILY_PROMPT_CHARS:
            raise TooLong(f"A daily prompt can have at most {MAX_DAILY_PROMPT_CHARS} characters.")
        async with self._db.transaction():
            row = await self._db.fetch_one(
                "INSERT INTO daily_prompts (guild_id, timezone, local_date, text, source, mode,"
                " channel_id, message_id, revealed, posted_at, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 0, ?, ?)"
                f" ON CONFLICT (guild_id, timezone, local_date) DO NOTHING RETURNING {_PROMPT}",
                (
                    guild_id,
                    timezone,
                    local_date,
                    text,
                    source,
                    mode,
                    channel_id,
                    posted_at,
                    to_db_time(self._clock()),
                ),
            )
        return None if row is None else _prompt(row)

    async def prompt_for(self, guild_id: int, timezone: str, local_date: str) -> DailyPrompt | None:
        """The prompt of (guild, local day in ``timezone``), or None."""
        row = await self._db.fetch_one(
            f"SELECT {_PROMPT} FROM daily_prompts"
            " WHERE guild_id = ? AND timezone = ? AND local_date = ?",
            (guild_id, timezone, local_date),
        )
        return None if row is None else _prompt(row)

    async def prompt(self, prompt_id: int) -> DailyPrompt | None:
        """A prompt by id, or None."""
        row = await self._db.fetch_one(
            f"SELECT {_PROMPT} FROM daily_prompts WHERE id = ?", (prompt_id,)
        )
        return None if row is None else _prompt(row)

    async def latest_prompt(self, guild_id: int, timezone: str | None = None) -> DailyPrompt | None:
        """The guild's most recent prompt (in ``timezone``, when given), or None."""
        row = await self._db.fetch_one(
            f"SELECT {_PROMPT} FROM daily_prompts WHERE guild_id = ?"
            " AND (CAST(? AS TEXT) IS NULL OR timezone = ?) ORDER BY id DESC LIMIT 1",
            (guild_id, timezone, timezone),
        )
        return None if row is None else _prompt(row)

    async def archive(
        self, guild_id: int, *, before_date: str | None = None, limit: int = 10
    ) -> list[DailyPrompt]:
        """Past prompts, newest first (keyset paging on the local date)."""
        rows = await self._db.fetch_all(
            f"SELECT {_PROMPT} FROM daily_prompts WHERE guild_id = ?"
            " AND (CAST(? AS TEXT) IS NULL OR local_date < ?)"
            " ORDER BY local_date DESC, id DESC LIMIT ?",
            (guild_id, before_date, before_date, limit),
        )
        return [_prompt(row) for row in rows]

    async def unrevealed(self, guild_id: int, before_id: int) -> list[DailyPrompt]:
        """Collected prompts older than ``before_id`` whose entries are not all revealed."""
        rows = await self._db.fetch_all(
            f"SELECT {_PROMPT} FROM daily_prompts WHERE guild_id = ? AND id < ?"
            " AND mode = 'collect' AND revealed = 0 ORDER BY id",
            (guild_id, before_id),
        )
        return [_prompt(row) for row in rows]

    async def set_prompt_message(self, prompt_id: int, message_id: int) -> None:
        """Record the message that shows the prompt."""
        async with self._db.transaction():
            await self._db.execute(
                "UPDATE daily_prompts SET message_id = ? WHERE id = ?", (message_id, prompt_id)
            )

    async def mark_revealed(self, prompt_id: int) -> bool:
        """Mark a collected prompt's entries as all revealed (each entry's own message_id
        says whether it was shown, so a reveal cut short goes on where it stopped)."""
        async with self._db.transaction():
            changed = await self._db.execute(
                "UPDATE daily_prompts SET revealed = 1 WHERE id = ? AND revealed = 0", (prompt_id,)
            )
        return changed > 0

    # --- entries and hearts ----------------------------------------------------------------

    async def add_entry(
        self, prompt: DailyPrompt, user_id: int, user_name: str, text: str
    ) -> DailyEntry:
        """A member's entry for ``prompt``; ``AlreadySubmitted`` for a second one."""
        if len(text) > MAX_ENTRY_CHARS:
            raise TooLong(f"An entry can have at most {MAX_ENTRY_CHARS} characters.")
        try:
            async with self._db.transaction():
                row = await self._db.fetch_one(
                    "INSERT INTO daily_entries (prompt_id, guild_id, user_id, user_name, text,"
                    f" message_id, created_at) VALUES (?, ?, ?, ?, ?, NULL, ?) RETURNING {_ENTRY}",
                    (
                        prompt.id,
                        prompt.guild_id,
                        user_id,
                        user_name,
                        text,
                        to_db_time(self._clock()),
                    ),
                )
        except IntegrityViolation:
            raise AlreadySubmitted(
                "You've already sent an entry for this prompt: one each. Your first one stands."
            ) from None
        assert row is not None
        return _entry(row)

    async def entry(self, entry_id: int) -> DailyEntry | None:
        """An entry by id, or None (deleted, or its author erased their data)."""
        row = await self._db.fetch_one(
            f"SELECT {_ENTRY} FROM daily_entries WHERE id = ?", (entry_id,)
        )
        return None if row is None else _entry(row)

    async def entries_for(self, prompt_id: int) -> list[DailyEntry]:
        """A prompt's entries, oldest first."""
        rows = await self._db.fetch_all(
            f"SELECT {_ENTRY} FROM daily_entries WHERE prompt_id = ? ORDER BY id", (prompt_id,)
        )
        return [_entry(row) for row in rows]

    async def set_entry_message(self, entry_id: int, message_id: int) -> None:
        """Record the message that shows the entry."""
        async with self._db.transaction():
            await self._db.execute(
                "UPDATE daily_entries SET message_id = ? WHERE id = ?", (message_id, entry_id)
            )

    async def delete_entry(self, entry_id: int, user_id: int) -> None:
        """Delete the member's own entry (its hearts go with it)."""
        async with self._db.transaction():
            removed = await self._db.execute(
                "DELETE FROM daily_entries WHERE id = ? AND user_id = ?", (entry_id, user_id)
            )
        if not removed:
            raise NotFound(f"You have no entry #{entry_id}.")

    async def toggle_heart(self, entry_id: int, voter_id: int) -> tuple[bool, int]:
        """Give or take back ``voter_id``'s heart; returns (hearted now, hearts)."""
        async with self._db.transaction():
            # Delete-or-insert reads before it writes: a double click must toggle twice.
            await self._db.lock("daily_votes", f"{entry_id}:{voter_id}")
            taken = await self._db.execute(
                "DELETE FROM daily_votes WHERE entry_id = ? AND voter_id = ?",
                (entry_id, voter_id),
            )
            if not taken:
                await self._db.execute(
                    "INSERT INTO daily_votes (entry_id, voter_id, created_at) VALUES (?, ?, ?)",
                    (entry_id, voter_id, to_db_time(self._clock())),
                )
            count = await self._db.fetch_value(
                "SELECT count(*) FROM daily_votes WHERE entry_id = ?", (entry_id,)
            )
        return not taken, int(count)

    async def hearts(self, entry_id: int) -> int:
        """How many hearts an entry has."""
        count = await self._db.fetch_value(
            "SELECT count(*) FROM daily_votes WHERE entry_id = ?", (entry_id,)
        )
        return int(count)

    async def leaderboard(
        self, guild_id: int, *, since: datetime | None, limit: int = 10
    ) -> list[LeaderboardRow]:
        """Members by hearts received on entries sent since ``since`` (None: all time)."""
        rows = await self._db.fetch_all(
            "SELECT e.user_id, max(e.user_name) AS user_name, count(v.voter_id) AS hearts,"
            " count(DISTINCT e.id) AS entries"
            " FROM daily_entries e LEFT JOIN daily_votes v ON v.entry_id = e.id"
            " WHERE e.guild_id = ? AND (CAST(? AS TEXT) IS NULL OR e.created_at >= ?)"
            " GROUP BY e.user_id ORDER BY hearts DESC, entries DESC, e.user_id LIMIT ?",
            (
                guild_id,
                None if since is None else to_db_time(since),
                None if since is None else to_db_time(since),
                limit,
            ),
        )
        return [
            LeaderboardRow(row["user_id"], row["user_name"], row["hearts"], row["entries"])
            for row in rows
        ]
