"""Applying the migrations on PostgreSQL (see `bot.storage.migrate` for the files and rules).

The schema version is the one row of ``inkwell_schema``. A run takes a transaction-scoped
advisory lock before it reads the version, so of several processes starting on one new
database exactly one migrates it and the others, having waited, find it up to date. Each
file runs in a savepoint with its version bump: a failing file is undone, the ones before it
in the run are committed.
"""

from __future__ import annotations

import logging

import asyncpg

from bot.storage.errors import StorageError
from bot.storage.migrate import Migration, newer_database_error
from bot.storage.postgres import create_pool, driver_errors, lock_key, redact

log = logging.getLogger(__name__)

VERSION_TABLE = "inkwell_schema"
_MIGRATION_LOCK = lock_key("inkwell", "migrations")


async def schema_version(conn: asyncpg.Connection) -> int:
    """The version recorded in the database; 0 when nothing was ever migrated."""
    if await conn.fetchval("SELECT to_regclass($1)", VERSION_TABLE) is None:
        return 0
    version = await conn.fetchval(f"SELECT version FROM {VERSION_TABLE}")
    return int(version or 0)


async def apply_migrations(
    pool: asyncpg.Pool, where: str, migrations: list[Migration]
) -> tuple[int, int]:
    """Apply every pending migration; return (version before, version after)."""
    latest = len(migrations)
    with driver_errors():
        async with pool.acquire() as conn:
            seen = await schema_version(conn)
            if seen > latest:
                raise newer_database_error(where, seen, latest)
            if seen == latest:  # versions only grow: nothing can be pending, no lock needed
                return seen, seen
            return await _locked_run(conn, where, migrations)


async def _locked_run(
    conn: asyncpg.Connection, where: str, migrations: list[Migration]
) -> tuple[int, int]:
    latest = len(migrations)
    await conn.execute("BEGIN")
    try:
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        await conn.execute(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version integer NOT NULL)")
        start = await schema_version(conn)
        if start > latest:
            raise newer_database_error(where, start, latest)
        if await conn.fetchval(f"SELECT count(*) FROM {VERSION_TABLE}") == 0:
            await conn.execute(f"INSERT INTO {VERSION_TABLE} (version) VALUES (0)")
        current = start
        for migration in migrations[start:]:
            failure = await _apply_one(conn, migration)
            if failure is not None:
                await conn.execute("COMMIT")  # keep the migrations that did succeed
                raise StorageError(
                    f"Database migration {migration.path.name} failed: {failure}. "
                    f"The database was left unchanged at schema version {current}."
                ) from failure
            log.info(
                "database %s migrated to version %d (%s)", where, migration.version, migration.name
            )
            current = migration.version
        await conn.execute("COMMIT")
    except BaseException:
        if conn.is_in_transaction():
            await conn.execute("ROLLBACK")
        raise
    return start, current


async def _apply_one(
    conn: asyncpg.Connection, migration: Migration
) -> asyncpg.PostgresError | None:
    """Run one file and its version bump in a savepoint; the error if it failed (undone)."""
    await conn.execute("SAVEPOINT migration")
    try:
        for statement in migration.statements():
            await conn.execute(statement)
            if not conn.is_in_transaction():
                raise StorageError(
                    f"Migration {migration.path.name} must not contain BEGIN/COMMIT: "
                    "the runner wraps each file in its own transaction."
                )
        await conn.execute(f"UPDATE {VERSION_TABLE} SET version = $1", migration.version)
    except asyncpg.PostgresError as exc:
        await conn.execute("ROLLBACK TO SAVEPOINT migration")
        return exc
    await conn.execute("RELEASE SAVEPOINT migration")
    return None


async def upgrade(url: str, migrations: list[Migration]) -> tuple[int, int]:
    """Bring the PostgreSQL database at ``url`` up to date (for `python -m bot db upgrade`)."""
    pool = await create_pool(url, max_size=1)
    try:
        return await apply_migrations(pool, redact(url), migrations)
    finally:
        await pool.close()
