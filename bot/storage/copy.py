"""`python -m bot db migrate-to postgresql://…`: copy an SQLite database into PostgreSQL.

The source is read through a read-only connection and must be at the latest schema version
(``db upgrade`` first); the target is migrated to that same version, so both have the same
tables and columns. Tables are copied parents first (from SQLite's own foreign-key list),
each row with its id, in one PostgreSQL transaction: either everything arrives or nothing
does. Identity sequences then continue after the highest id SQLite ever handed out (its
``sqlite_sequence``, not just the surviving rows), so an id shown to a user and deleted since
is never reused. Row counts are compared table by table before the COMMIT.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import aiosqlite
import asyncpg

from bot.storage.errors import StorageError
from bot.storage.migrate import discover
from bot.storage.migrate_postgres import VERSION_TABLE, apply_migrations
from bot.storage.postgres import create_pool, driver_errors, redact

BATCH_ROWS = 5_000


@dataclass(frozen=True, slots=True)
class TableCopy:
    """One table's outcome: rows read from SQLite and rows now in PostgreSQL."""

    name: str
    source_rows: int
    target_rows: int


async def copy_sqlite_to_postgres(
    source: Path,
    url: str,
    *,
    replace: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> list[TableCopy]:
    """Copy every table of the SQLite file ``source`` into the PostgreSQL database at ``url``.

    Refuses (`StorageError`) a target that already holds rows unless ``replace``, which
    empties its tables first (in the same transaction). Returns the per-table counts, which
    have been checked to match.
    """
    migrations = discover(None, "postgresql")
    reader = await _open_source(source, len(migrations))
    try:
        order = await _tables_in_dependency_order(reader)
        pool = await create_pool(url, max_size=1)
        try:
            await apply_migrations(pool, redact(url), migrations)
            with driver_errors():
                async with pool.acquire() as conn, conn.transaction():
                    await _check_same_tables(conn, order, url)
                    await _empty_or_refuse(conn, order, url, replace=replace)
                    results = []
                    for table in order:
                        copied = await _copy_table(reader, conn, table)
                        progress(f"{table}: {copied} rows")
                        target = int(await conn.fetchval(f'SELECT count(*) FROM "{table}"'))
                        results.append(TableCopy(table, copied, target))
                    await _continue_sequences(reader, conn, order)
                    mismatched = [r for r in results if r.source_rows != r.target_rows]
                    if mismatched:
                        raise StorageError(
                            "Row counts differ after copying ("
                            + ", ".join(
                                f"{r.name}: {r.source_rows} in SQLite, {r.target_rows} here"
                                for r in mismatched
                            )
                            + "); nothing was committed."
                        )
        finally:
            await pool.close()
    finally:
        await reader.close()
    return results


async def _open_source(path: Path, latest: int) -> aiosqlite.Connection:
    if not await asyncio.to_thread(path.is_file):
        raise StorageError(f"There is no SQLite database at {path} to copy.")
    try:
        reader = await aiosqlite.connect(f"file:{path}?mode=ro", uri=True)
        version = (await (await reader.execute("PRAGMA user_version")).fetchone() or (0,))[0]
    except sqlite3.Error as exc:
        raise StorageError(f"Inkwell couldn't read {path} as an SQLite database: {exc}.") from exc
    if version != latest:
        await reader.close()
        raise StorageError(
            f"{path} is at schema version {version}, this Inkwell's is {latest}: run "
            "`python -m bot db upgrade` on it first (with a backup), then copy it."
            if version < latest
            else f"{path} was written by a newer Inkwell (schema {version}); upgrade Inkwell."
        )
    return reader


async def _tables_in_dependency_order(reader: aiosqlite.Connection) -> list[str]:
    """The source's tables, each after the tables its foreign keys point to."""
    async with reader.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name"
    ) as cursor:
        tables = [row[0] for row in await cursor.fetchall()]
    graph: dict[str, set[str]] = {}
    for table in tables:
        async with reader.execute(f"PRAGMA foreign_key_list('{table}')") as cursor:
            parents = {row[2] for row in await cursor.fetchall()}
        graph[table] = parents - {table}  # a self-reference is served by copying in id order
    try:
        return list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise StorageError(f"The tables' foreign keys form a cycle: {exc.args[1]}.") from exc


async def _check_same_tables(conn: asyncpg.Connection, tables: list[str], url: str) -> None:
    rows = await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> $1",
        VERSION_TABLE,
    )
    target = {row[0] for row in rows}
    if target != set(tables):
        raise StorageError(
            f"{redact(url)} has other tables than the SQLite file "
            f"(only there: {sorted(target - set(tables))}, "
            f"only in SQLite: {sorted(set(tables) - target)}); is it another program's database?"
        )


async def _empty_or_refuse(
    conn: asyncpg.Connection, tables: list[str], url: str, *, replace: bool
) -> None:
    filled = [t for t in tables if await conn.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{t}")')]
    if not filled:
        return
    if not replace:
        raise StorageError(
            f"{redact(url)} already holds Inkwell data (in {', '.join(filled)}). Copy into an "
            "empty database, or pass --replace to delete what is there first."
        )
    quoted = ", ".join(f'"{t}"' for t in tables)
    await conn.execute(f"TRUNCATE {quoted} RESTART IDENTITY")


async def _copy_table(reader: aiosqlite.Connection, conn: asyncpg.Connection, table: str) -> int:
    async with reader.execute(f"PRAGMA table_info('{table}')") as cursor:
        info = await cursor.fetchall()
    columns = [row[1] for row in info]
    keys = [row[1] for row in sorted(info, key=lambda row: row[5]) if row[5]] or ["rowid"]
    select = ", ".join(f'"{c}"' for c in columns)
    order = ", ".join(f'"{k}"' if k != "rowid" else k for k in keys)
    copied = 0
    # In key order: a generation's parent (a smaller id) arrives before it.
    async with reader.execute(f'SELECT {select} FROM "{table}" ORDER BY {order}') as cursor:
        while batch := await cursor.fetchmany(BATCH_ROWS):
            await conn.copy_records_to_table(table, records=batch, columns=columns)
            copied += len(batch)
    return copied


async def _continue_sequences(
    reader: aiosqlite.Connection, conn: asyncpg.Connection, tables: list[str]
) -> None:
    async with reader.execute("SELECT name, seq FROM sqlite_sequence") as cursor:
        handed_out = {row[0]: int(row[1]) for row in await cursor.fetchall()}
    for table in tables:
        sequence = await conn.fetchval(
            "SELECT pg_get_serial_sequence($1, 'id') WHERE EXISTS (SELECT 1 FROM"
            " information_schema.columns WHERE table_name = $1 AND column_name = 'id')",
            table,
        )
        if sequence is None:
            continue
        highest = int(await conn.fetchval(f'SELECT COALESCE(max(id), 0) FROM "{table}"'))
        following = max(highest, handed_out.get(table, 0)) + 1
        await conn.execute("SELECT setval($1, $2, false)", sequence, following)
