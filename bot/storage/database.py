"""`Database`: the process's SQLite file or PostgreSQL pool, and the repositories on top of it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType

from bot.storage.activity import ActivityRepository
from bot.storage.blocklist import BlocklistRepository
from bot.storage.daily import DailyRepository
from bot.storage.errors import StorageError
from bot.storage.executor import Dialect, Executor
from bot.storage.fairness import SlotRepository
from bot.storage.favorites import FavoriteRepository
from bot.storage.games import GameRepository
from bot.storage.generations import GenerationRepository
from bot.storage.guild_settings import GuildSettingsRepository
from bot.storage.ideas import IdeaRepository
from bot.storage.migrate import apply_migrations, discover
from bot.storage.models import utc_now
from bot.storage.postgres import PostgresExecutor, create_pool, is_postgres_url, redact
from bot.storage.prompts import PromptRepository
from bot.storage.sprints import SprintRepository
from bot.storage.sqlite import SqliteExecutor, connect, connect_reader, pragma
from bot.storage.timers import TimerRepository
from bot.storage.users import UserDataRepository
from bot.storage.validation import Quotas
from bot.storage.voices import VoiceRepository

log = logging.getLogger(__name__)


def default_database_path(cwd: Path | None = None) -> Path:
    """`./data/inkwell.db` under the current working directory, made absolute.

    Matches config.py's `storage.database` default and the repository's ignored
    `/data/` folder. Absolute at call time, so a later chdir can't move it.
    """
    return (Path.cwd() if cwd is None else cwd).resolve() / "data" / "inkwell.db"


class Database:
    """Open with `await Database.open(path_or_url)`; close with `await db.close()` (or `async
    with`). A path is an SQLite file; a ``postgresql://`` URL a PostgreSQL database.

    Every write a user action makes should be one `async with db.transaction():`
    block; repository methods called outside one run in their own transaction.
    """

    def __init__(
        self,
        executor: Executor,
        location: str,
        clock: Callable[[], datetime],
        path: Path | None = None,
        quotas: Quotas | None = None,
    ) -> None:
        """Use `Database.open`; this only wires the repositories to an executor whose
        database is already migrated."""
        self._location = location
        self._path = path
        self._executor = executor
        self._generations = GenerationRepository(self._executor, clock)
        quotas = quotas or Quotas()
        self._favorites = FavoriteRepository(self._executor, clock, quotas.favorites)
        self._prompts = PromptRepository(self._executor, clock, quotas.prompts)
        self._guild_settings = GuildSettingsRepository(self._executor, clock)
        self._users = UserDataRepository(self._executor, clock)
        self._timers = TimerRepository(self._executor, clock)
        self._games = GameRepository(self._executor, clock, self._generations)
        self._ideas = IdeaRepository(self._executor, clock)
        self._sprints = SprintRepository(self._executor, clock)
        self._daily = DailyRepository(self._executor, clock)
        self._slots = SlotRepository(self._executor)
        self._voices = VoiceRepository(self._executor, clock)
        self._activity = ActivityRepository(self._executor)
        self._blocklist = BlocklistRepository(self._executor, clock)

    @classmethod
    async def open(
        cls,
        location: Path | str,
        *,
        migrations_dir: Path | None = None,
        clock: Callable[[], datetime] = utc_now,
        quotas: Quotas | None = None,
    ) -> Database:
        """Open and migrate the database at ``location``: an SQLite file (created with its
        folder if needed) or a ``postgresql://`` URL (the database must exist).

        Raises `StorageError` if the database is newer than this code, isn't an Inkwell
        database, can't be reached, or a migration fails (it is then left at its previous
        version). ``quotas``: how many saved items each user may keep (defaults otherwise).
        """
        if is_postgres_url(location):
            database = await cls._open_postgres(str(location), migrations_dir, clock, quotas)
        else:
            database = await cls._open_sqlite(Path(location), migrations_dir, clock, quotas)
        try:
            await database.guild_settings.load()
        except BaseException:
            await database.close()
            raise
        return database

    @classmethod
    async def _open_sqlite(
        cls,
        path: Path,
        migrations_dir: Path | None,
        clock: Callable[[], datetime],
        quotas: Quotas | None,
    ) -> Database:
        migrations = discover(migrations_dir, "sqlite")
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
        return cls(SqliteExecutor(conn, reader), str(path), clock, path, quotas)

    @classmethod
    async def _open_postgres(
        cls,
        url: str,
        migrations_dir: Path | None,
        clock: Callable[[], datetime],
        quotas: Quotas | None,
    ) -> Database:
        from bot.storage import migrate_postgres

        migrations = discover(migrations_dir, "postgresql")
        pool = await create_pool(url)
        try:
            before, after = await migrate_postgres.apply_migrations(pool, redact(url), migrations)
        except BaseException:
            await pool.close()
            raise
        if before != after:
            log.info("database %s upgraded from version %d to %d", redact(url), before, after)
        return cls(PostgresExecutor(pool), redact(url), clock, quotas=quotas)

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
        """The SQLite file (`StorageError` on PostgreSQL, which has no file)."""
        if self._path is None:
            raise StorageError(f"{self._location} is a PostgreSQL database, not a file.")
        return self._path

    @property
    def location(self) -> str:
        """The SQLite file's path, or the PostgreSQL URL without its password."""
        return self._location

    @property
    def dialect(self) -> Dialect:
        """ "sqlite" or "postgresql"."""
        return self._executor.dialect

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """One atomic unit of work: BEGIN, then COMMIT, or ROLLBACK on error.

        Repository calls inside the block join it (nested blocks become savepoints).
        """
        async with self._executor.transaction():
            yield

    async def schema_version(self) -> int:
        """The schema version the database is at."""
        if self.dialect == "postgresql":
            return int(await self._executor.fetch_value("SELECT version FROM inkwell_schema"))
        return int(await self._executor.fetch_value("PRAGMA user_version"))

    async def integrity_check(self) -> str:
        """ "ok", or a description of the damage (SQLite's `PRAGMA integrity_check`; on
        PostgreSQL, which checks as it writes, that the server answers)."""
        if self.dialect == "postgresql":
            return "ok" if await self._executor.fetch_value("SELECT 1") == 1 else "no answer"
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
    def blocklist(self) -> BlocklistRepository:
        """The owner's blocked users and guilds."""
        return self._blocklist

    @property
    def daily(self) -> DailyRepository:
        """The prompt of the day: schedules, prompts, entries and hearts."""
        return self._daily

    @property
    def activity(self) -> ActivityRepository:
        """Counts of what runs now (games, sprints, schedules), for /stats."""
        return self._activity

    @property
    def sprints(self) -> SprintRepository:
        """Writing sprints, their members' counts, and each member's totals and bests."""
        return self._sprints

    @property
    def ideas(self) -> IdeaRepository:
        """Ideas shown by /idea, and which curated ones each channel has seen."""
        return self._ideas

    @property
    def slots(self) -> SlotRepository:
        """Who is writing and who is cooling down, shared by every process on the database."""
        return self._slots

    @property
    def voices(self) -> VoiceRepository:
        """Consent to training, a guild's corpus, and the adapters built from it."""
        return self._voices

    @property
    def games(self) -> GameRepository:
        """Poem games, their lines, and each guild's anthology of finished poems."""
        return self._games
