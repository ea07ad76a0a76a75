"""`Database`: the process's one SQLite connection and the repositories on top of it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType

import aiosqlite

from bot.storage.daily import DailyRepository
from bot.storage.errors import StorageError
from bot.storage.executor import Executor, connect, connect_reader, pragma
from bot.storage.favorites import FavoriteRepository
from bot.storage.games import GameRepository
from bot.storage.generations import GenerationRepository
from bot.storage.guild_settings import GuildSettingsRepository
from bot.storage.ideas import IdeaRepository
from bot.storage.migrate import apply_migrations, discover
from bot.storage.models import utc_now
from bot.storage.prompts import PromptRepository
from bot.storage.sprints import SprintRepository
from bot.storage.timers import TimerRepository
from bot.storage.users import UserDataRepository

log = logging.getLogger(__name__)


def default_database_path(cwd: Path | None = None) -> Path:
    """`./data/inkwell.db` under the current working directory, made absolute.

    Matches config.py's `storage.database` default and the repository's ignored
    `/data/` folder. Absolute at call time, so a later chdir can't move it.
    """
    return (Path.cwd() if cwd is None else cwd).resolve() / "data" / "inkwell.db"


class Database:
    """Open with `await Database.open(path)`; close with `await db.close()` (or `async with`).

    Every write a user action makes should be one `async with db.transaction():`
    block; repository methods called outside one run in their own transaction.
    """

    def __init__(
        self,
        conn: aiosqlite.Connection,
        path: Path,
        clock: Callable[[], datetime],
        reader: aiosqlite.Connection | None = None,
    ) -> None:
        """Use `Database.open`; this only wires up an already-migrated connection (and the
        read-only one that serves reads outside transactions)."""
        self._path = path
        self._executor = Executor(conn, reader)
        self._generations = GenerationRepository(self._executor, clock)
        self._favorites = FavoriteRepository(self._executor, clock)
        self._prompts = PromptRepository(self._executor, clock)
        self._guild_settings = GuildSettingsRepository(self._executor, clock)
        self._users = UserDataRepository(self._executor, clock)
        self._timers = TimerRepository(self._executor, clock)
        self._games = GameRepository(self._executor, clock, self._generations)
        self._ideas = IdeaRepository(self._executor, clock)
        self._sprints = SprintRepository(self._executor, clock)
        self._daily = DailyRepository(self._executor, clock)

    @classmethod
    async def open(
        cls,
        path: Path,
        *,
        migrations_dir: Path | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> Database:
        """Open (creating it and its folder if needed) and migrate the database at `path`.

        Raises `StorageError` if the file is newer than this code, isn't a database,
        or a migration fails (the file is then left at its previous version).
        """
        migrations = discover(migrations_dir)
        conn = await connect(path)
        try:
            before, after = await apply_migrations(conn, path, migrations)
            # Only now: foreign keys can't be toggled inside a transaction, and
            # migrations run with them off so tables can be rebuilt.
            await pragma(conn, "PRAGMA foreign_keys = ON")
            if await pragma(conn, "PRAGMA foreign_keys") != 1:
                raise StorageError("This SQLite build cannot enforce foreign keys.")
            reader = await connect_reader(path)
        except BaseException:
            await conn.close()
            raise
        if before != after:
            log.info("database %s upgraded from version %d to %d", path, before, after)
        database = cls(conn, path, clock, reader)
        try:
            await database.guild_settings.load()
        except BaseException:
            await database.close()
            raise
        return database

    async def close(self) -> None:
        """Close the connection (idempotent). Waits for any running transaction."""
        await self._executor.close()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """One atomic unit of work: BEGIN IMMEDIATE, then COMMIT, or ROLLBACK on error.

        Repository calls inside the block join it (nested blocks become savepoints).
        """
        async with self._executor.transaction():
            yield

    async def schema_version(self) -> int:
        """The `PRAGMA user_version` the file is at."""
        return int(await self._executor.fetch_value("PRAGMA user_version"))

    async def integrity_check(self) -> str:
        """SQLite's `PRAGMA integrity_check`: "ok", or a description of the damage."""
        rows = await self._executor.fetch_all("PRAGMA integrity_check")
        return "\n".join(str(row[0]) for row in rows)

    @property
    def generations(self) -> GenerationRepository:
        """Generated pieces."""
        return self._generations

    @property
    def favorites(self) -> FavoriteRepository:
        """Users' favourites and the hall of fame."""
        return self._favorites

    @property
    def prompts(self) -> PromptRepository:
        """Users' saved prompts."""
        return self._prompts

    @property
    def guild_settings(self) -> GuildSettingsRepository:
        """Per-guild settings."""
        return self._guild_settings

    @property
    def users(self) -> UserDataRepository:
        """Export and erasure of a user's data."""
        return self._users

    @property
    def timers(self) -> TimerRepository:
        """What the clock fires."""
        return self._timers

    @property
    def daily(self) -> DailyRepository:
        """The prompt of the day: schedules, prompts, entries and hearts."""
        return self._daily

    @property
    def sprints(self) -> SprintRepository:
        """Writing sprints, their members' counts, and each member's totals and bests."""
        return self._sprints

    @property
    def ideas(self) -> IdeaRepository:
        """Ideas shown by /idea, and which curated ones each channel has seen."""
        return self._ideas

    @property
    def games(self) -> GameRepository:
        """Poem games, their lines, and each guild's anthology of finished poems."""
        return self._games
