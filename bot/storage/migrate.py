"""Versioned schema migrations: `migrations/NNNN_name.sql`, recorded in `user_version`.

Each file runs in its own BEGIN IMMEDIATE ... COMMIT together with the
`PRAGMA user_version` bump, so a failing migration leaves the database exactly at
the previous version. `executescript` is deliberately not used: it COMMITs before
running, which would make every migration non-atomic.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from bot.storage.errors import StorageError
from bot.storage.executor import connect, pragma

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    path: Path

    def statements(self) -> list[str]:
        """The file's SQL statements, in order."""
        return split_statements(self.path.read_text(encoding="utf-8"), self.path.name)


def discover(directory: Path | None = None) -> list[Migration]:
    """List the migrations in `directory`, checking they are numbered 1..N without gaps.

    Any `.sql` file that isn't named `NNNN_name.sql` is an error rather than being
    skipped, so a typo can't silently drop a migration.
    """
    directory = MIGRATIONS_DIR if directory is None else directory
    migrations: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise StorageError(
                f"Migration file {path.name!r} must be named like 0001_short_name.sql."
            )
        migrations.append(Migration(int(match.group(1)), match.group(2), path))
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise StorageError(
                f"Migrations must be numbered 0001, 0002, ... with no gaps or repeats; "
                f"expected {expected:04d} but found {migration.path.name!r}."
            )
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


def newer_database_error(path: Path, db_version: int, code_version: int) -> StorageError:
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

    The version is re-read after BEGIN IMMEDIATE, so a bot and the `db upgrade` CLI
    racing on the same file apply each migration once.
    """
    latest = len(migrations)
    seen = int(await pragma(conn, "PRAGMA user_version"))
    if seen > latest:
        raise newer_database_error(path, seen, latest)
    # "Before" is what this process found once it held the write lock: a process that waited
    # while another migrated must not report the other's upgrade as its own.
    start: int | None = None
    current = seen
    while current < latest:
        migration = migrations[current]
        await pragma(conn, "BEGIN IMMEDIATE")
        try:
            found = int(await pragma(conn, "PRAGMA user_version"))
            if start is None:
                start = found
            if found == current:
                await _run_migration(conn, migration)
            await pragma(conn, "COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                await pragma(conn, "ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StorageError(
                    f"Database migration {migration.path.name} failed: {exc}. "
                    f"The database was left unchanged at schema version {current}."
                ) from exc
            raise
        if found != current:  # another process migrated while we waited for the lock
            if found > latest:
                raise newer_database_error(path, found, latest)
            current = found
            continue
        log.info("database %s migrated to version %d (%s)", path, migration.version, migration.name)
        current = migration.version
    return (seen if start is None else start), current


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
