"""Ideas shown by /idea (and picked for the prompt of the day): what each channel has seen.

A curated idea counts as seen by its channel in every pool's cycle that was current when it
was shown (whatever filter it was drawn under); the picking rules
themselves are pure (``bot.community.ideas``) and run inside one of this repository's
transactions, so two people pressing "Another" at once never draw the same prompt.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.storage.errors import NotFound
from bot.storage.executor import Executor, Row
from bot.storage.models import from_db_time, to_db_time
from bot.storage.validation import MAX_PROMPT_CHARS, check_length

_COLUMNS = (
    "id, guild_id, channel_id, user_id, source, requested, curated_key, pool, cycle, text,"
    " genre, form, poem_form, created_at"
)


@dataclass(frozen=True, slots=True)
class NewIdea:
    """An idea about to be shown."""

    channel_id: int
    user_id: int
    source: str  # "curated" | "ai"
    pool: str
    text: str
    form: str  # "poem" | "story" | "script"
    guild_id: int | None = None
    requested: str = "any"
    curated_key: str | None = None
    cycle: int = 0
    genre: str | None = None
    poem_form: str | None = None


@dataclass(frozen=True, slots=True)
class IdeaRecord:
    """A stored idea."""

    id: int
    guild_id: int | None
    channel_id: int
    user_id: int
    source: str
    requested: str
    curated_key: str | None
    pool: str
    cycle: int
    text: str
    genre: str | None
    form: str
    poem_form: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PoolState:
    """Where a channel stands in one pool: its current cycle and the curated ids it has seen
    since that cycle began (under any filter)."""

    cycle: int
    seen: frozenset[str]


def _idea(row: Row) -> IdeaRecord:
    return IdeaRecord(
        id=row["id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        user_id=row["user_id"],
        source=row["source"],
        requested=row["requested"],
        curated_key=row["curated_key"],
        pool=row["pool"],
        cycle=row["cycle"],
        text=row["text"],
        genre=row["genre"],
        form=row["form"],
        poem_form=row["poem_form"],
        created_at=from_db_time(row["created_at"]),
    )


class IdeaRepository:
    """Stored ideas, by id and by channel."""

    def __init__(self, executor: Executor, clock: Callable[[], datetime]) -> None:
        self._db = executor
        self._clock = clock

    async def pool_state(self, channel_id: int, pool: str) -> PoolState:
        """The channel's current cycle of ``pool`` (0 before any idea) and what it has seen.

        Inside a transaction it holds the channel until that transaction ends, so a pick
        that reads this and then stores its idea can't interleave with another pick there.
        """
        if self._db.in_transaction():
            await self._db.lock("ideas", channel_id)
        cycle = await self._db.fetch_value(
            "SELECT COALESCE(MAX(cycle), 0) FROM ideas WHERE channel_id = ? AND pool = ?",
            (channel_id, pool),
        )
        # The cycle began with its first idea (cycle 0: with the channel's first idea); every
        # curated prompt the channel got since then counts as seen, whatever filter it was
        # drawn under, so changing the filter never brings a prompt back early.
        start = 0
        if cycle:
            start = await self._db.fetch_value(
                "SELECT COALESCE(MIN(id), 0) FROM ideas WHERE channel_id = ? AND pool = ?"
                " AND cycle = ?",
                (channel_id, pool, cycle),
            )
        rows = await self._db.fetch_all(
            "SELECT DISTINCT curated_key FROM ideas WHERE channel_id = ? AND id >= ?"
            " AND curated_key IS NOT NULL",
            (channel_id, start),
        )
        return PoolState(int(cycle), frozenset(row["curated_key"] for row in rows))

    async def recent_keys(self, channel_id: int, limit: int) -> builtins.list[str]:
        """The curated ids of the channel's latest ``limit`` curated ideas, newest first."""
        rows = await self._db.fetch_all(
            "SELECT curated_key FROM ideas WHERE channel_id = ? AND curated_key IS NOT NULL"
            " ORDER BY id DESC LIMIT ?",
            (channel_id, limit),
        )
        return [row["curated_key"] for row in rows]

    async def recent_texts(self, channel_id: int, limit: int) -> builtins.list[str]:
        """The texts of the channel's latest ``limit`` ideas (any source), newest first."""
        rows = await self._db.fetch_all(
            "SELECT text FROM ideas WHERE channel_id = ? ORDER BY id DESC LIMIT ?",
            (channel_id, limit),
        )
        return [row["text"] for row in rows]

    async def add(self, idea: NewIdea) -> IdeaRecord:
        """Store an idea as shown now."""
        check_length(idea.text, "idea", MAX_PROMPT_CHARS)
        async with self._db.transaction():
            new_id = await self._db.insert(
                "INSERT INTO ideas (guild_id, channel_id, user_id, source, requested,"
                " curated_key, pool, cycle, text, genre, form, poem_form, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    idea.guild_id,
                    idea.channel_id,
                    idea.user_id,
                    idea.source,
                    idea.requested,
                    idea.curated_key,
                    idea.pool,
                    idea.cycle,
                    idea.text,
                    idea.genre,
                    idea.form,
                    idea.poem_form,
                    to_db_time(self._clock()),
                ),
            )
            return await self.require(new_id)

    async def get(self, idea_id: int) -> IdeaRecord | None:
        """The idea with this id, or None."""
        row = await self._db.fetch_one(f"SELECT {_COLUMNS} FROM ideas WHERE id = ?", (idea_id,))
        return None if row is None else _idea(row)

    async def require(self, idea_id: int) -> IdeaRecord:
        """The idea with this id; ``NotFound`` (with a user-facing text) when it is gone."""
        idea = await self.get(idea_id)
        if idea is None:
            raise NotFound(
                f"Idea #{idea_id} is no longer stored (whoever asked for it may have erased "
                "their data). Ask for a new one with /idea."
            )
        return idea

    async def of_user(self, user_id: int) -> builtins.list[IdeaRecord]:
        """Every idea a user asked for, oldest first (for their data export)."""
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM ideas WHERE user_id = ? ORDER BY id", (user_id,)
        )
        return [_idea(row) for row in rows]
