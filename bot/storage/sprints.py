"""Writing sprints: the sprint row (its status moved forward by compare-and-swap), its members
and their counts, and each member's totals and personal bests.

A sprint's status only moves forward, and each step is one UPDATE that matches the status the
caller expects, so a timer that fires twice (or a cancel racing the end) takes a step at most
once. Member changes check the sprint's status in the same statement, so a count sent as the
results are being drawn up either lands before them or is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.storage.errors import ChannelBusy, IntegrityViolation
from bot.storage.executor import Executor, Row
from bot.storage.models import from_db_time, to_db_time
from bot.storage.validation import MAX_NAME_CHARS, MAX_PROMPT_CHARS, check_length

SPRINT_STATUSES = ("waiting", "running", "counting", "finished", "cancelled")
OPEN_SPRINT_STATUSES = ("waiting", "running", "counting")
_SPRINT_COLUMNS = (
    "id, guild_id, channel_id, starter_id, prompt, prompt_by_starter, status, minutes,"
    " starts_at, ends_at, ended_at, count_until, message_id, results_message_id, created_at,"
    " finished_at"
)
_MEMBER_COLUMNS = "sprint_id, user_id, user_name, starting_words, words, joined_at, left_at"
_STATS_COLUMNS = "user_id, guild_id, sprints, words, minutes, best_words, best_wpm"
_OPEN = "status IN ('waiting', 'running', 'counting')"


class SprintBusy(ChannelBusy):
    """The channel already has a sprint that hasn't finished."""

    default_message = (
        "A sprint is already on in this channel. See it with `/sprint status`, or join it "
        "with `/sprint join`."
    )


@dataclass(frozen=True, slots=True)
class SprintRow:
    """One sprint. Times are unix seconds; ``ended_at`` is set when writing stopped."""

    id: int
    guild_id: int | None
    channel_id: int
    starter_id: int
    prompt: str | None
    prompt_by_starter: bool
    status: str
    minutes: int
    starts_at: float
    ends_at: float
    ended_at: float | None
    count_until: float | None
    message_id: int | None
    results_message_id: int | None
    created_at: datetime
    finished_at: datetime | None

    @property
    def is_open(self) -> bool:
        """Waiting, running or counting: it still holds its channel."""
        return self.status in OPEN_SPRINT_STATUSES


@dataclass(frozen=True, slots=True)
class SprintMember:
    """A member of a sprint; ``words`` is their latest total count (None: none sent)."""

    sprint_id: int
    user_id: int
    user_name: str
    starting_words: int
    words: int | None
    joined_at: float
    left_at: float | None


@dataclass(frozen=True, slots=True)
class SprintStats:
    """A member's totals and personal bests in one guild (the console's is 0)."""

    user_id: int
    guild_id: int
    sprints: int
    words: int
    minutes: float
    best_words: int
    best_wpm: float


def _sprint(row: Row) -> SprintRow:
    finished = row["finished_at"]
    return SprintRow(
        id=row["id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        starter_id=row["starter_id"],
        prompt=row["prompt"],
        prompt_by_starter=bool(row["prompt_by_starter"]),
        status=row["status"],
        minutes=row["minutes"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        ended_at=row["ended_at"],
        count_until=row["count_until"],
        message_id=row["message_id"],
        results_message_id=row["results_message_id"],
        created_at=from_db_time(row["created_at"]),
        finished_at=None if finished is None else from_db_time(finished),
    )


def _member(row: Row) -> SprintMember:
    return SprintMember(
        sprint_id=row["sprint_id"],
        user_id=row["user_id"],
        user_name=row["user_name"],
        starting_words=row["starting_words"],
        words=row["words"],
        joined_at=row["joined_at"],
        left_at=row["left_at"],
    )


def _stats(row: Row) -> SprintStats:
    return SprintStats(
        user_id=row["user_id"],
        guild_id=row["guild_id"],
        sprints=row["sprints"],
        words=row["words"],
        minutes=row["minutes"],
        best_words=row["best_words"],
        best_wpm=row["best_wpm"],
    )


def _check_statuses(statuses: Collection[str]) -> None:
    unknown = set(statuses) - set(SPRINT_STATUSES)
    if unknown or not statuses:
        raise ValueError(f"statuses must be among {SPRINT_STATUSES}, got {sorted(statuses)}")


class SprintRepository:
    """Sprints, their members and the members' stats."""

    def __init__(self, executor: Executor, clock: Callable[[], datetime]) -> None:
        self._db = executor
        self._clock = clock

    # --- sprints -------------------------------------------------------------------------

    async def create(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        starter_id: int,
        starter_name: str,
        status: str,
        minutes: int,
        starts_at: float,
        ends_at: float,
        joined_at: float,
    ) -> SprintRow:
        """Open a sprint with its starter as its first member.

        Raises `SprintBusy` when the channel has an open sprint: the unique index decides,
        so two starts at once can't both succeed.
        """
        status = str(status)
        if status not in ("waiting", "running"):
            raise ValueError(f"a sprint starts waiting or running, not {status!r}")
        check_length(starter_name, "member name", MAX_NAME_CHARS)
        now = to_db_time(self._clock())
        try:
            async with self._db.transaction():
                sprint_id = await self._db.insert(
                    "INSERT INTO sprints (guild_id, channel_id, starter_id, status, minutes,"
                    " starts_at, ends_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (guild_id, channel_id, starter_id, status, minutes, starts_at, ends_at, now),
                )
                await self.join(sprint_id, starter_id, starter_name, 0, joined_at)
                sprint = await self.get(sprint_id)
        except IntegrityViolation as exc:
            if not exc.violates("sprints", "channel_id"):
                raise
            raise SprintBusy from exc
        assert sprint is not None
        return sprint

    async def get(self, sprint_id: int) -> SprintRow | None:
        """The sprint, or None."""
        row = await self._db.fetch_one(
            f"SELECT {_SPRINT_COLUMNS} FROM sprints WHERE id = ?", (sprint_id,)
        )
        return None if row is None else _sprint(row)

    async def open_in_channel(self, channel_id: int) -> SprintRow | None:
        """The channel's sprint that hasn't finished, if any."""
        row = await self._db.fetch_one(
            f"SELECT {_SPRINT_COLUMNS} FROM sprints WHERE channel_id = ? AND {_OPEN}",
            (channel_id,),
        )
        return None if row is None else _sprint(row)

    async def open_sprints(self) -> list[SprintRow]:
        """Every sprint that hasn't finished, oldest first (to re-plan their timers)."""
        rows = await self._db.fetch_all(
            f"SELECT {_SPRINT_COLUMNS} FROM sprints WHERE {_OPEN} ORDER BY id"
        )
        return [_sprint(row) for row in rows]

    async def advance(
        self,
        sprint_id: int,
        from_statuses: Collection[str],
        to_status: str,
        *,
        ended_at: float | None = None,
        count_until: float | None = None,
    ) -> bool:
        """Move the sprint to ``to_status`` if it is in one of ``from_statuses``; False (and
        nothing written) otherwise. ``ended_at``/``count_until`` are set when given; a
        finished or cancelled sprint gets its ``finished_at``."""
        # str(): the callers' StrEnum members, as the plain text SQLite stores.
        from_statuses = [str(status) for status in from_statuses]
        to_status = str(to_status)
        _check_statuses(from_statuses)
        _check_statuses([to_status])
        done = to_status not in OPEN_SPRINT_STATUSES
        marks = ", ".join("?" * len(from_statuses))
        async with self._db.transaction():
            changed = await self._db.execute(
                "UPDATE sprints SET status = ?,"
                " ended_at = COALESCE(?, ended_at), count_until = COALESCE(?, count_until),"
                " finished_at = CASE WHEN ? = 1 THEN ? ELSE finished_at END"
                f" WHERE id = ? AND status IN ({marks})",
                (
                    to_status,
                    ended_at,
                    count_until,
                    int(done),
                    to_db_time(self._clock()),
                    sprint_id,
                    *from_statuses,
                ),
            )
        return changed > 0

    async def set_prompt(self, sprint_id: int, prompt: str | None, *, by_starter: bool) -> None:
        """The sprint's prompt (``by_starter``: the starter's own words, erased with them)."""
        if prompt is not None:
            check_length(prompt, "sprint prompt", MAX_PROMPT_CHARS)
        async with self._db.transaction():
            await self._db.execute(
                "UPDATE sprints SET prompt = ?, prompt_by_starter = ? WHERE id = ?",
                (prompt, int(by_starter and prompt is not None), sprint_id),
            )

    async def set_times(self, sprint_id: int, starts_at: float, ends_at: float) -> bool:
        """Move a sprint that hasn't ended to new start and end times; False if it ended."""
        if not ends_at > starts_at:
            raise ValueError(f"a sprint ends after it starts, got {starts_at} .. {ends_at}")
        async with self._db.transaction():
            changed = await self._db.execute(
                "UPDATE sprints SET starts_at = ?, ends_at = ?"
                " WHERE id = ? AND status IN ('waiting', 'running')",
                (starts_at, ends_at, sprint_id),
            )
        return changed > 0

    async def set_message(self, sprint_id: int, message_id: int | None) -> None:
        """Remember the announcement message."""
        async with self._db.transaction():
            await self._db.execute(
                "UPDATE sprints SET message_id = ? WHERE id = ?", (message_id, sprint_id)
            )

    async def set_results_message(self, sprint_id: int, message_id: int) -> None:
        """The results are posted: a retried results timer sees this and posts nothing."""
        async with self._db.transaction():
            await self._db.execute(
                "UPDATE sprints SET results_message_id = ? WHERE id = ?", (message_id, sprint_id)
            )

    # --- members -------------------------------------------------------------------------

    async def members(self, sprint_id: int) -> list[SprintMember]:
        """The sprint's members in the order they joined."""
        rows = await self._db.fetch_all(
            f"SELECT {_MEMBER_COLUMNS} FROM sprint_members WHERE sprint_id = ?"
            " ORDER BY joined_at, user_id",
            (sprint_id,),
        )
        return [_member(row) for row in rows]

    async def member(self, sprint_id: int, user_id: int) -> SprintMember | None:
        """One member, or None."""
        row = await self._db.fetch_one(
            f"SELECT {_MEMBER_COLUMNS} FROM sprint_members WHERE sprint_id = ? AND user_id = ?",
            (sprint_id, user_id),
        )
        return None if row is None else _member(row)

    async def join(
        self, sprint_id: int, user_id: int, user_name: str, starting_words: int, joined_at: float
    ) -> SprintMember:
        """Add a member, or set a member's starting words (and name) again."""
        check_length(user_name, "member name", MAX_NAME_CHARS)
        if starting_words < 0:
            raise ValueError(f"starting_words can't be negative, got {starting_words}")
        async with self._db.transaction():
            row = await self._db.fetch_one(
                "INSERT INTO sprint_members (sprint_id, user_id, user_name, starting_words,"
                " joined_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (sprint_id, user_id) DO UPDATE SET"
                " user_name = excluded.user_name, starting_words = excluded.starting_words"
                f" RETURNING {_MEMBER_COLUMNS}",
                (sprint_id, user_id, user_name, starting_words, joined_at),
            )
        assert row is not None
        return _member(row)

    async def remove_member(self, sprint_id: int, user_id: int) -> bool:
        """Take a member out altogether (leaving before the sprint started)."""
        async with self._db.transaction():
            removed = await self._db.execute(
                "DELETE FROM sprint_members WHERE sprint_id = ? AND user_id = ?",
                (sprint_id, user_id),
            )
        return removed > 0

    async def mark_left(self, sprint_id: int, user_id: int, left_at: float) -> bool:
        """A member stopped sprinting at ``left_at``; False if not a member or gone already."""
        async with self._db.transaction():
            changed = await self._db.execute(
                "UPDATE sprint_members SET left_at = ?"
                " WHERE sprint_id = ? AND user_id = ? AND left_at IS NULL",
                (left_at, sprint_id, user_id),
            )
        return changed > 0

    async def set_words(self, sprint_id: int, user_id: int, words: int) -> bool:
        """A member's new total count, if the sprint still takes counts (running or
        counting); False otherwise."""
        if words < 0:
            raise ValueError(f"a word count can't be negative, got {words}")
        async with self._db.transaction():
            changed = await self._db.execute(
                "UPDATE sprint_members SET words = ? WHERE sprint_id = ? AND user_id = ?"
                " AND EXISTS (SELECT 1 FROM sprints WHERE id = ?"
                " AND status IN ('running', 'counting'))",
                (words, sprint_id, user_id, sprint_id),
            )
        return changed > 0

    async def active_count(self, sprint_id: int) -> int:
        """How many members are still sprinting (haven't left)."""
        count = await self._db.fetch_value(
            "SELECT COUNT(*) FROM sprint_members WHERE sprint_id = ? AND left_at IS NULL",
            (sprint_id,),
        )
        return int(count)

    # --- stats ---------------------------------------------------------------------------

    async def stats(self, user_id: int, guild_id: int | None) -> SprintStats | None:
        """A member's totals and bests in the guild (None: the console), or None."""
        row = await self._db.fetch_one(
            f"SELECT {_STATS_COLUMNS} FROM sprint_stats WHERE user_id = ? AND guild_id = ?",
            (user_id, guild_id or 0),
        )
        return None if row is None else _stats(row)

    async def lock_stats(self, user_ids: Sequence[int], guild_id: int) -> None:
        """Inside a transaction: hold these members' stats until it ends, so two sprints
        finishing at once cannot both read the old totals and one overwrite the other (on
        PostgreSQL; SQLite runs one writer at a time anyway). Sorted, so two holders never
        wait on each other in a circle."""
        for user_id in sorted(set(user_ids)):
            await self._db.lock("sprint_stats", f"{user_id}:{guild_id}")

    async def save_stats(self, rows: Sequence[SprintStats]) -> None:
        """Store members' new totals and bests (replacing what was there)."""
        now = to_db_time(self._clock())
        async with self._db.transaction():
            for stats in rows:
                await self._db.execute(
                    f"INSERT INTO sprint_stats ({_STATS_COLUMNS}, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (user_id, guild_id) DO UPDATE SET sprints = excluded.sprints,"
                    " words = excluded.words, minutes = excluded.minutes,"
                    " best_words = excluded.best_words, best_wpm = excluded.best_wpm,"
                    " updated_at = excluded.updated_at",
                    (
                        stats.user_id,
                        stats.guild_id,
                        stats.sprints,
                        stats.words,
                        stats.minutes,
                        stats.best_words,
                        stats.best_wpm,
                        now,
                    ),
                )
