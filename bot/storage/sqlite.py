"""SQLite: the one aiosqlite connection, its pragmas, and how tasks take turns on it.

Every statement goes through `SqliteExecutor`, which serialises access with a lock: on a
single shared connection, a read from task B issued while task A is between two
statements of its transaction would otherwise see (or, worse, become part of) A's
uncommitted work.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.storage.errors import IntegrityViolation, StorageBusy, StorageError, StorageFull
from bot.storage.executor import Executor, Params

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5_000


async def pragma(conn: aiosqlite.Connection, statement: str) -> Any:
    """Run a PRAGMA (or any one-row statement) and return its first value, if any."""
    async with conn.execute(statement) as cursor:
        row = await cursor.fetchone()
    return None if row is None else row[0]


async def connect(path: Path) -> aiosqlite.Connection:
    """Open `path` with Inkwell's pragmas; foreign keys are left OFF for migrations.

    Durability: WAL with synchronous=FULL. WAL + NORMAL already keeps every committed
    transaction when the *process* is killed (the WAL frames are in the OS page cache),
    but can lose the last commits on power loss or an OS crash. FULL fsyncs the WAL
    at each commit so an acknowledged favourite survives those too; at a chat bot's
    write rate the extra fsync costs nothing noticeable.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = await _open(path)
    try:
        mode = await _retry_while_locked(lambda: pragma(conn, "PRAGMA journal_mode = WAL"))
        if str(mode).lower() != "wal":
            log.warning("SQLite refused WAL mode for %s (got %r); continuing", path, mode)
        await pragma(conn, "PRAGMA synchronous = FULL")
        await pragma(conn, "PRAGMA foreign_keys = OFF")
    except sqlite3.OperationalError as exc:  # e.g. locked by another program
        await conn.close()
        raise StorageError(f"Inkwell couldn't open the database file {path}: {exc}.") from exc
    except sqlite3.DatabaseError as exc:
        await conn.close()
        raise StorageError(
            f"{path} is not an Inkwell database, or it is damaged ({exc}). "
            "Restore it from a backup or move it aside to start fresh."
        ) from exc
    except BaseException:
        await conn.close()
        raise
    return conn


async def connect_reader(path: Path) -> aiosqlite.Connection:
    """A read-only connection to an open, migrated database (see ``Executor``)."""
    conn = await _open(path)
    try:
        await pragma(conn, "PRAGMA query_only = ON")
    except BaseException:
        await conn.close()
        raise
    return conn


async def _open(path: Path) -> aiosqlite.Connection:
    """A connection with rows by name and the busy timeout, before any mode is set."""
    # isolation_level=None: we issue BEGIN/COMMIT ourselves; the sqlite3 module's
    # implicit transactions would otherwise commit behind our back.
    try:
        conn = await aiosqlite.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as exc:
        raise StorageError(f"Inkwell couldn't open the database file {path}: {exc}.") from exc
    try:
        conn.row_factory = sqlite3.Row
        await pragma(conn, f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except BaseException:
        await conn.close()
        raise
    return conn


async def _retry_while_locked(
    statement: Callable[[], Awaitable[Any]], budget_seconds: float = BUSY_TIMEOUT_MS / 1000
) -> Any:
    """Run ``statement``, retrying while another process holds the lock. Switching a new
    file to WAL ignores busy_timeout, so two processes opening one new database at once
    would otherwise fail with "database is locked"."""
    deadline = asyncio.get_running_loop().time() + budget_seconds
    delay = 0.01
    while True:
        try:
            return await statement()
        except sqlite3.OperationalError as exc:
            if not _is_locked(exc) or asyncio.get_running_loop().time() + delay > deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.25)


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _is_full(exc: sqlite3.OperationalError) -> bool:
    # SQLITE_FULL: the disk, or PRAGMA max_page_count ("database or disk is full").
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "is full" in str(exc)


@contextmanager
def _driver_errors() -> Iterator[None]:
    """sqlite3's errors as the storage layer's: `IntegrityViolation` for a constraint, and
    `StorageFull` or `StorageBusy` (with their kind text) for a full disk or a lock held past
    busy_timeout. The transaction they happen in rolls back as the error passes through it."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise IntegrityViolation.from_sqlite(str(exc)) from exc
    except sqlite3.OperationalError as exc:
        if _is_full(exc):
            log.error("SQLite storage is full: %s", exc)
            raise StorageFull() from exc
        if _is_locked(exc):
            log.warning("SQLite stayed locked past busy_timeout: %s", exc)
            raise StorageBusy() from exc
        raise


class SqliteExecutor(Executor):
    """Runs statements on the shared connection, one task at a time.

    `transaction()` is re-entrant within a task: a nested call becomes a SAVEPOINT,
    so a repository method that fails inside a caller's transaction undoes only its
    own part. Don't await another task that uses the database from inside a
    transaction: it would wait for the lock you hold.
    """

    def __init__(
        self, conn: aiosqlite.Connection, reader: aiosqlite.Connection | None = None
    ) -> None:
        self.dialect = "sqlite"
        self._conn = conn
        # Reads outside a transaction go to a second, read-only connection: in WAL mode it
        # never waits on a writer, so a lookup made before Discord's 3-second acknowledgement
        # cannot queue behind a transaction waiting out busy_timeout on the shared one.
        self._reader = reader
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._depth = 0
        self._closed = False
        # (savepoint depth, callback) to run once the transaction has committed.
        self._on_commit: list[tuple[int, Callable[[], None]]] = []

    @property
    def connection(self) -> aiosqlite.Connection:
        """The raw connection (for the Database's own housekeeping)."""
        return self._conn

    async def close(self) -> None:
        """Wait for the running transaction, if any, then close (idempotent)."""
        async with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                # Cheap upkeep SQLite recommends before closing a long-lived connection. It is
                # only upkeep: another process on the file (a second shard group stopping at
                # the same moment) may hold the lock, and closing must not fail for that.
                await pragma(self._conn, "PRAGMA optimize")
            except sqlite3.OperationalError as error:
                log.info("Skipped PRAGMA optimize on close: %s", error)
            finally:
                await self._conn.close()
                if self._reader is not None:
                    await self._reader.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("Inkwell is shutting down; please try again in a moment.")

    def _owns_lock(self) -> bool:
        task = asyncio.current_task()
        return task is not None and task is self._owner

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK if the block raises (or is cancelled).

        IMMEDIATE takes the write lock up front, so a second process (the `db` CLI)
        waits on busy_timeout instead of failing half-way with SQLITE_BUSY.
        """
        if self._owns_lock():
            async with self._savepoint():
                yield
            return
        async with self._lock:
            self._check_open()
            self._owner = asyncio.current_task()
            committing = False
            try:
                # BEGIN is inside the try: if we are cancelled while it waits on
                # busy_timeout, the worker thread still runs it, and the ROLLBACK
                # queued behind it must end that orphaned transaction.
                await self._begin()
                yield
                committing = True
                with _driver_errors():  # COMMIT itself may find the disk full
                    await self._raw("COMMIT")
            except BaseException as exc:
                rolled_back = await self._rollback("ROLLBACK")
                # Cancelled while COMMIT was queued: the worker thread ran it anyway, and
                # there was nothing left to roll back, so the changes are in the file.
                if committing and isinstance(exc, asyncio.CancelledError) and not rolled_back:
                    self._committed()
                raise
            else:
                self._committed()
            finally:
                self._on_commit.clear()
                self._owner = None

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the caller's transaction has committed (in commit order,
        before the next transaction starts); forget it if the transaction, or the savepoint
        it was registered in, rolls back. For in-memory copies of what was written."""
        if not self._owns_lock():
            raise RuntimeError("after_commit() must be called inside transaction()")
        self._on_commit.append((self._depth, callback))

    def in_transaction(self) -> bool:
        """Whether the calling task is inside `transaction()`."""
        return self._owns_lock()

    async def lock(self, namespace: str, key: int | str) -> None:
        """Nothing to do: BEGIN IMMEDIATE already runs SQLite's transactions one at a time."""
        if not self._owns_lock():
            raise RuntimeError("lock() must be called inside transaction()")

    def _committed(self) -> None:
        callbacks, self._on_commit = self._on_commit, []
        for _, callback in callbacks:
            callback()

    async def _begin(self) -> None:
        with _driver_errors():
            await self._raw("BEGIN IMMEDIATE")

    @asynccontextmanager
    async def _savepoint(self) -> AsyncIterator[None]:
        self._depth += 1
        name = f"sp_{self._depth}"
        try:
            with _driver_errors():
                await self._raw(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                depth = self._depth
                self._on_commit = [entry for entry in self._on_commit if entry[0] < depth]
                await self._rollback(f"ROLLBACK TO {name}")
                await self._rollback(f"RELEASE {name}")
                raise
            with _driver_errors():
                await self._raw(f"RELEASE {name}")
            # What this savepoint kept now belongs to the enclosing one (and goes with it).
            depth = self._depth
            self._on_commit = [(min(d, depth - 1), callback) for d, callback in self._on_commit]
        finally:
            self._depth -= 1

    async def _raw(self, statement: str) -> None:
        async with self._conn.execute(statement):
            pass

    async def _rollback(self, statement: str) -> bool:
        """Run a ROLLBACK (TO) or RELEASE; False if there was nothing to roll back."""
        # Nothing to roll back is not an error: we may have been cancelled after COMMIT
        # was queued (the worker thread still runs it), BEGIN may have failed, or
        # SQLite may already have rolled the whole transaction back (e.g. disk full).
        try:
            await self._raw(statement)
        except sqlite3.OperationalError as exc:
            if "no transaction is active" not in str(exc) and "no such savepoint" not in str(exc):
                raise
            log.debug("rollback after commit already ran: %s", exc)
            return False
        return True

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[aiosqlite.Connection]:
        """Hold the connection for one statement, unless this task already holds it."""
        if self._owns_lock():
            yield self._conn
            return
        async with self._lock:
            self._check_open()
            yield self._conn

    @asynccontextmanager
    async def _read_turn(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection for one query: the reader, unless this task is inside a
        transaction (which must see its own writes) or there is no reader."""
        if self._reader is None or self._owns_lock():
            async with self._turn() as conn:
                yield conn
            return
        self._check_open()
        yield self._reader

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """Run a query and return its first row (or None)."""
        # Also for reads: an INSERT ... RETURNING fails its constraint here.
        with _driver_errors():
            async with self._read_turn() as conn, conn.execute(sql, tuple(params)) as cursor:
                return await cursor.fetchone()

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Run a query and return all rows."""
        with _driver_errors():
            async with self._read_turn() as conn, conn.execute(sql, tuple(params)) as cursor:
                return list(await cursor.fetchall())

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a write; return how many rows it changed."""
        with _driver_errors():
            async with self._turn() as conn, conn.execute(sql, tuple(params)) as cursor:
                return cursor.rowcount

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT of one row; return its rowid."""
        with _driver_errors():
            async with self._turn() as conn, conn.execute(sql, tuple(params)) as cursor:
                row_id = cursor.lastrowid
        if row_id is None:
            raise RuntimeError("INSERT did not report a row id")
        return row_id
