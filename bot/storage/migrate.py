"""Versioned schema migrations: `migrations/NNNN_name.sql`, for SQLite and PostgreSQL alike.

Files, and how the two dialects share them:
- `NNNN_name.sql` is the migration for both databases, when one text suits both (an index,
  an UPDATE, a column whose type both spell alike).
- `NNNN_name.postgresql.sql` (or `NNNN_name.sqlite.sql`) replaces it on that database only,
  when the dialects differ: it carries the same number and name, and says the same thing in
  that dialect. Versions 0001-0004 have PostgreSQL twins because the types differ (BIGINT
  snowflakes, identity columns, DOUBLE PRECISION; see 0001_initial.postgresql.sql).
- Each version needs one file for each database: the shared one, or both dialect files.
  Numbers run 0001, 0002, ... without gaps, so the two databases always agree on what a
  schema version means, and `db migrate-to` can copy between them at the same version.

SQLite (here): the version is `PRAGMA user_version`. One run holds the write lock (BEGIN
IMMEDIATE) from before it reads `user_version` to its COMMIT; each file runs in its own
savepoint together with its `PRAGMA user_version` bump, so a failing migration leaves the
database exactly at the previous version. `executescript` is deliberately not used: it
COMMITs before running, which would make every migration non-atomic.

PostgreSQL (`bot.storage.migrate_postgres`): the version is the one row of `inkwell_schema`;
a run holds a transaction-scoped advisory lock instead of the write lock, with each file in
its own savepoint in the same way (PostgreSQL's DDL is transactional too).
"""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from bot.storage.errors import StorageError
from bot.storage.executor import Dialect
from bot.storage.sqlite import connect, pragma

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)(?:\.(sqlite|postgresql))?\.sql$")
DIALECTS: tuple[Dialect, ...] = ("sqlite", "postgresql")


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    path: Path

    def statements(self) -> list[str]:
        """The file's SQL statements, in order."""
        return split_statements(self.path.read_text(encoding="utf-8"), self.path.name)


def discover(directory: Path | None = None, dialect: Dialect = "sqlite") -> list[Migration]:
    """List the migrations in `directory` that `dialect` runs, checking they are numbered
    1..N without gaps and that every version has a file for each database.

    Any `.sql` file that isn't named `NNNN_name.sql` or `NNNN_name.<dialect>.sql` is an error
    rather than being skipped, so a typo can't silently drop a migration.
    """
    directory = MIGRATIONS_DIR if directory is None else directory
    # version -> {None (shared) | dialect: (name, path)}
    versions: dict[int, dict[str | None, tuple[str, Path]]] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise StorageError(
                f"Migration file {path.name!r} must be named like 0001_short_name.sql "
                "(or 0001_short_name.postgresql.sql for one database only)."
            )
        version, name, only = int(match.group(1)), match.group(2), match.group(3)
        files = versions.setdefault(version, {})
        if only in files or any(other != name for other, _ in files.values()):
            raise StorageError(
                f"Migrations must be numbered 0001, 0002, ... with no gaps or repeats; "
                f"{path.name!r} repeats version {version:04d}."
            )
        files[only] = (name, path)
    migrations: list[Migration] = []
    for expected, version in enumerate(sorted(versions), start=1):
        if version != expected:
            found = next(iter(versions[version].values()))[1]
            raise StorageError(
                f"Migrations must be numbered 0001, 0002, ... with no gaps or repeats; "
                f"expected {expected:04d} but found {found.name!r}."
            )
        files = versions[version]
        for each in DIALECTS:
            if each not in files and None not in files:
                some = next(iter(files.values()))[1]
                raise StorageError(
                    f"Migration {some.name!r} has no version for {each}: add "
                    f"{version:04d}_{some.name.split('_', 1)[1].split('.')[0]}.sql (shared) "
                    f"or a .{each}.sql twin."
                )
        name, path = files.get(dialect) or files[None]
        migrations.append(Migration(version, name, path))
    return migrations


def split_statements(script: str, source: str = "<script>") -> list[str]:
    """Split a SQL script into statements, respecting strings, comments and triggers.

    `sqlite3.complete_statement` knows about quotes, comments and CREATE TRIGGER
    bodies, so we grow a buffer one `;` at a time until SQLite calls it complete.
    """
    statements: list[str] = []
    parts = script.split(";")
    buffer = ""
    for index, part in enumerate(parts):
        buffer += part
        if index == len(parts) - 1:
            break
        buffer += ";"
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        # Text after the last ';': a final statement without one, or just comments.
        if not sqlite3.complete_statement(buffer + ";"):
            raise StorageError(f"{source} ends with an incomplete SQL statement.")
        statements.append(buffer.strip() + ";")
    return statements


def newer_database_error(path: Path | str, db_version: int, code_version: int) -> StorageError:
    """The refusal shown when the file was written by a newer Inkwell."""
    return StorageError(
        f"The database {path} is at schema version {db_version}, but this version of "
        f"Inkwell only knows schema versions up to {code_version}. It was written by a "
        "newer Inkwell: upgrade Inkwell to open it (or restore a backup made before "
        "the upgrade)."
    )


async def apply_migrations(
    conn: aiosqlite.Connection, path: Path, migrations: list[Migration]
) -> tuple[int, int]:
    """Apply every pending migration on `conn`; return (version before, version after).

    The whole run holds the write lock: BEGIN IMMEDIATE first, then `user_version` is
    re-read, so when several processes open one new file at once exactly one of them
    migrates it (from 0 to the latest), and the others, having waited on busy_timeout,
    find it up to date and report (latest, latest). Each file still runs in its own
    savepoint: a failing migration is undone and the ones before it are committed.
    """
    latest = len(migrations)
    seen = int(await pragma(conn, "PRAGMA user_version"))
    if seen > latest:
        raise newer_database_error(path, seen, latest)
    if seen == latest:  # versions only grow: nothing can be pending, no lock needed
        return seen, seen
    await _begin_immediate(conn, path)
    try:
        start = int(await pragma(conn, "PRAGMA user_version"))
        if start > latest:
            raise newer_database_error(path, start, latest)
        current = start
        for migration in migrations[start:]:
            await _apply_one(conn, migration, current, start)
            log.info(
                "database %s migrated to version %d (%s)", path, migration.version, migration.name
            )
            current = migration.version
        await pragma(conn, "COMMIT")
    except BaseException:
        if conn.in_transaction:
            await pragma(conn, "ROLLBACK")
        raise
    return start, current


async def _begin_immediate(conn: aiosqlite.Connection, path: Path) -> None:
    """Take the write lock, waiting up to busy_timeout for another process to finish."""
    try:
        await pragma(conn, "BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        raise StorageError(
            f"The database {path} stayed locked by another program for too long to upgrade "
            f"it ({exc}); try again when it has finished."
        ) from exc


async def _apply_one(
    conn: aiosqlite.Connection, migration: Migration, current: int, start: int
) -> None:
    """Run one migration file in a savepoint of the run's transaction; on failure roll it
    back and commit the migrations before it, so the file is left at `current`."""
    await pragma(conn, "SAVEPOINT migration")
    try:
        await _run_migration(conn, migration)
        await pragma(conn, "RELEASE migration")
    except BaseException as exc:
        left_at = start  # some errors (disk full, I/O) make SQLite roll back everything
        if conn.in_transaction:
            await pragma(conn, "ROLLBACK TO migration")
            await pragma(conn, "COMMIT")  # keep the migrations that did succeed
            left_at = current
        if isinstance(exc, sqlite3.Error):
            raise StorageError(
                f"Database migration {migration.path.name} failed: {exc}. "
                f"The database was left unchanged at schema version {left_at}."
            ) from exc
        raise


async def _run_migration(conn: aiosqlite.Connection, migration: Migration) -> None:
    for statement in migration.statements():
        async with conn.execute(statement):
            pass
        if not conn.in_transaction:
            raise StorageError(
                f"Migration {migration.path.name} must not contain BEGIN/COMMIT: "
                "the runner wraps each file in its own transaction."
            )
    # Foreign keys are off while migrating (table rebuilds need that), so check
    # before committing that the migration didn't leave dangling references.
    async with conn.execute("PRAGMA foreign_key_check") as cursor:
        problems = list(await cursor.fetchall())
    if problems:
        raise StorageError(
            f"Migration {migration.path.name} left {len(problems)} broken reference(s), "
            f"first in table {problems[0][0]!r}; the database was not changed."
        )
    await pragma(conn, f"PRAGMA user_version = {migration.version}")


async def upgrade(path: Path, *, migrations_dir: Path | None = None) -> tuple[int, int]:
    """Bring the database at `path` up to date (for `python -m bot db upgrade`).

    Creates the file if missing. Returns (version before, version after); equal
    versions mean there was nothing to do.
    """
    migrations = discover(migrations_dir)
    conn = await connect(path)
    try:
        return await apply_migrations(conn, path, migrations)
    finally:
        await conn.close()
