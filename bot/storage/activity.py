"""How much is going on: poem games in a lobby or running, sprints not yet finished, and
prompt-of-the-day schedules that are not paused, in one guild or everywhere (for /stats)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.storage.executor import Executor

# The same "open" rules the games and sprints repositories use for their one-per-channel index.
_OPEN_GAMES = "status IN ('lobby', 'running')"
_OPEN_SPRINTS = "status IN ('waiting', 'running', 'counting')"
_ACTIVE_SCHEDULES = "paused = 0"


@dataclass(frozen=True, slots=True)
class ActivityCounts:
    """What is running now."""

    games: int
    sprints: int
    schedules: int


class ActivityRepository:
    """Counts across the feature tables; reads only."""

    def __init__(self, executor: Executor) -> None:
        self._db = executor

    async def counts(self, guild_id: int | None = None) -> ActivityCounts:
        """What runs in ``guild_id``, or in every guild (and DM) when it is None."""
        return ActivityCounts(
            games=await self._count("games", _OPEN_GAMES, guild_id),
            sprints=await self._count("sprints", _OPEN_SPRINTS, guild_id),
            schedules=await self._count("daily_schedules", _ACTIVE_SCHEDULES, guild_id),
        )

    async def _count(self, table: str, condition: str, guild_id: int | None) -> int:
        # Table and condition are this module's constants, never input.
        if guild_id is None:
            value = await self._db.fetch_value(f"SELECT COUNT(*) FROM {table} WHERE {condition}")
        else:
            value = await self._db.fetch_value(
                f"SELECT COUNT(*) FROM {table} WHERE {condition} AND guild_id = ?", (guild_id,)
            )
        return int(value or 0)
