"""What /stats reports: one snapshot of a running bot, built from what it already holds.

The uptime, the model and its engine (and whether the writer rests, and why), the queue, the
last hour's speed, latency and errors (``RecentWindow``, kept whether or not Prometheus is on),
and the games, sprints and schedules running, in one guild or everywhere. Nothing here knows
Discord; ``cogs.stats`` renders it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.config import Settings
from bot.errors import InkwellError
from bot.ops.model_state import ModelState, ModelStatus, RestingGeneration
from bot.ops.recent import RecentWindow, Summary
from bot.storage import Database
from bot.storage.activity import ActivityCounts

NO_RELOAD = "This bot was started without a model that can be reloaded."


@dataclass(frozen=True, slots=True)
class StatsReport:
    """One snapshot; ``guild_id`` None means the counts are for every guild."""

    uptime_seconds: float
    model: str
    engine: str
    state: ModelState | None  # None: the bot runs without a reloadable model (tests, tools)
    reason: str | None
    running: int
    waiting: int
    recent: Summary
    activity: ActivityCounts
    guild_id: int | None


def engine_name(settings: Settings) -> str:
    """The engine as configured: the local engine's kind and dtype, or the model server."""
    model = settings.model
    if model.backend == "openai":
        return "OpenAI-compatible server"
    return f"{model.engine} ({model.dtype})"


class Vitals:
    """Where a running bot's numbers come from, and the one action on them: reload."""

    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        recent: RecentWindow,
        model: RestingGeneration | None = None,
        health: Callable[[], dict[str, Any]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._database = database
        self.recent = recent
        self.model = model
        self._health = health if health is not None else _no_health
        self._clock = clock
        self._started = clock()

    async def report(self, guild_id: int | None) -> StatsReport:
        """The snapshot, with the counts of ``guild_id`` (None: of every guild)."""
        health = self._health()
        status = self.model.status if self.model is not None else None
        name = health.get("model") or self._settings.model.name
        return StatsReport(
            uptime_seconds=self._clock() - self._started,
            model=str(name),
            engine=engine_name(self._settings),
            state=status.state if status is not None else None,
            reason=status.reason if status is not None else None,
            running=int(health.get("running", 0)),
            waiting=int(health.get("waiting", 0)),
            recent=self.recent.summary(),
            activity=await self._database.activity.counts(guild_id),
            guild_id=guild_id,
        )

    async def reload_model(self) -> ModelStatus:
        """Try loading the model again (``AlreadyLoading`` while an attempt runs)."""
        if self.model is None:
            raise InkwellError(NO_RELOAD)
        return await self.model.reload()


def _no_health() -> dict[str, Any]:
    return {}
