"""PostgreSQL: an asyncpg pool whose transactions run side by side, behind the `Executor` API.

Each transaction takes its own pooled connection for as long as it runs, and belongs to the
task that opened it (a nested ``transaction()`` in that task is a SAVEPOINT on the same
connection). Statements outside a transaction borrow a connection for one statement. The
isolation level is PostgreSQL's READ COMMITTED: the repositories' compare-and-swap UPDATEs
(``... WHERE version = ?``) re-check their condition on the row a concurrent writer just
committed, so exactly one of two racing claims wins; read-check-write sequences take
`lock()` first.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bot.storage.errors import (
    IntegrityViolation,
    InvalidText,
    StorageBusy,
    StorageError,
    StorageFull,
)
from bot.storage.executor import Executor, Params

log = logging.getLogger(__name__)

T = TypeVar("T")

POOL_MAX_SIZE = 10
CONNECT_TIMEOUT_SECONDS = 10.0

_QUOTED = re.compile(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")")
_IS_PARAM = re.compile(r"\bIS\s+\?", re.IGNORECASE)
_KEY_COLUMNS = re.compile(r"Key \(([^)]*)\)=")

BUSY_MESSAGE = "Inkwell's database was busy with another change just then; please try again."
LOST_MESSAGE = "Inkwell lost its connection to the database; please try again in a moment."


def is_postgres_url(location: object) -> bool:
    """Whether ``location`` (a `storage.url`, a path, ...) names a PostgreSQL database."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def redact(url: str) -> str:
    """``url`` without its password (in the address or the query), for logs and messages."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    query = "&".join(
        f"{name}=***" if name.lower() in ("password", "passfile") else f"{name}={value}"
        for name, _, value in (pair.partition("=") for pair in parts.query.split("&") if pair)
    )
    return urlunsplit(parts._replace(netloc=netloc, query=query))


@lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """Our shared SQL with ``?`` placeholders as PostgreSQL's ``$1, $2, ...``.

    ``x IS ?`` (SQLite's null-safe comparison) becomes ``x IS NOT DISTINCT FROM $n``.
    Quoted text is left alone, so a ``?`` inside a string literal stays a question mark.
    """
    parts = _QUOTED.split(sql)
    count = 0

    def number(_: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"${count}"

    for index in range(0, len(parts), 2):  # even parts are outside quotes
        code = _IS_PARAM.sub("IS NOT DISTINCT FROM ?", parts[index])
        parts[index] = re.sub(r"\?", number, code)
    return "".join(parts)


def lock_key(namespace: str, key: int | str) -> int:
    """A stable signed 64-bit advisory-lock key: the same in every process (not ``hash()``)."""
    digest = hashlib.blake2b(f"{namespace}\x1f{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _integrity(exc: asyncpg.IntegrityConstraintViolationError) -> IntegrityViolation:
    table = getattr(exc, "table_name", None) or ""
    columns: tuple[str, ...] = ()
    match = _KEY_COLUMNS.search(getattr(exc, "detail", None) or "")
    if match:
        columns = tuple(name.strip() for name in match.group(1).split(","))
    elif getattr(exc, "column_name", None):
        columns = (exc.column_name,)
    return IntegrityViolation(str(exc), table, columns)


@contextmanager
def driver_errors() -> Iterator[None]:
    """asyncpg's errors as the storage layer's: `IntegrityViolation` for a constraint,
    `StorageError` with a kind message for what the user can only retry."""
    try:
        yield
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise _integrity(exc) from exc
    except (asyncpg.TransactionRollbackError, asyncpg.TooManyConnectionsError) as exc:
        # Serialization failure or deadlock: PostgreSQL rolled the transaction back.
        log.warning("PostgreSQL refused a transaction: %s", exc)
        raise StorageError(BUSY_MESSAGE) from exc
    except asyncpg.DiskFullError as exc:
        log.error("PostgreSQL's disk is full: %s", exc)
        raise StorageFull() from exc
    except asyncpg.LockNotAvailableError as exc:  # lock_timeout ran out
        log.warning("PostgreSQL lock not granted in time: %s", exc)
        raise StorageBusy() from exc
    except (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError) as exc:
        raise InvalidText(
            "That text holds a character Inkwell can't store (the NUL character, U+0000). "
            "Please remove it and try again."
        ) from exc
    except (
        asyncpg.PostgresConnectionError,
        asyncpg.OperatorInterventionError,
        asyncpg.InterfaceError,
        OSError,
        TimeoutError,
    ) as exc:
        log.warning("PostgreSQL connection problem: %r", exc)
        raise StorageError(LOST_MESSAGE) from exc


async def create_pool(url: str, *, max_size: int = POOL_MAX_SIZE) -> asyncpg.Pool:
    """A pool of connections to ``url``, or `StorageError` naming what went wrong."""
    try:
        pool = await asyncpg.create_pool(
            url, min_size=1, max_size=max_size, timeout=CONNECT_TIMEOUT_SECONDS
        )
    except (asyncpg.InvalidAuthorizationSpecificationError, asyncpg.InvalidCatalogNameError) as exc:
        raise StorageError(
            f"Inkwell couldn't open the PostgreSQL database {redact(url)}: {exc}."
        ) from exc
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise StorageError(
            f"Inkwell couldn't reach the PostgreSQL server of {redact(url)} "
            f"({exc or type(exc).__name__}). "
            "Check storage.url and that the server is running."
        ) from exc
    assert pool is not None
    return pool


@dataclass
class _Transaction:
    """A task's open transaction: its connection, savepoint depth and on-commit callbacks."""

    conn: asyncpg.Connection
    depth: int = 0
    on_commit: list[tuple[int, Callable[[], None]]] = field(default_factory=list)


class PostgresExecutor(Executor):
    """Runs statements on a pool; each task's transaction has a connection of its own."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.dialect = "postgresql"
        self._pool = pool
        self._transactions: dict[asyncio.Task[Any], _Transaction] = {}
        self._closed = False

    @property
    def pool(self) -> asyncpg.Pool:
        """The pool (for the Database's own housekeeping and the copy tool)."""
        return self._pool

    async def close(self) -> None:
        """Stop new work, wait for running transactions to release their connections, then
        close the pool (idempotent)."""
        if self._closed:
            return
        self._closed = True
        await self._pool.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("Inkwell is shutting down; please try again in a moment.")

    def _current(self) -> _Transaction | None:
        task = asyncio.current_task()
        return None if task is None else self._transactions.get(task)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """BEGIN ... COMMIT on a connection of this task's own, or ROLLBACK if the block
        raises (or is cancelled); nested calls are savepoints."""
        current = self._current()
        if current is not None:
            async with self._savepoint(current):
                yield
            return
        self._check_open()
        task = asyncio.current_task()
        assert task is not None
        with driver_errors():
            conn = await self._pool.acquire()
        tx = _Transaction(conn)
        self._transactions[task] = tx
        try:
            await self._run(conn.execute("BEGIN"))
            yield
            callbacks, tx.on_commit = tx.on_commit, []
            # Shielded: a COMMIT the server may already have run must not be abandoned
            # half-way, or nobody would know whether the callbacks' changes are stored.
            commit = asyncio.ensure_future(self._run(conn.execute("COMMIT")))
            try:
                await asyncio.shield(commit)
            except asyncio.CancelledError:
                await asyncio.wait([commit])
                if not commit.cancelled() and commit.exception() is None:
                    self._run_callbacks(callbacks)  # committed all the same
                raise
            self._run_callbacks(callbacks)
        except BaseException:
            tx.on_commit.clear()
            await self._rollback(conn)
            raise
        finally:
            del self._transactions[task]
            await self._release(conn)

    def in_transaction(self) -> bool:
        """Whether the calling task is inside `transaction()`."""
        return self._current() is not None

    def after_commit(self, callback: Callable[[], None]) -> None:
        """See `Executor.after_commit`. Callbacks run as soon as their COMMIT returns, so two
        transactions that wrote the same row (the second waited for the first's row lock)
        run theirs in commit order; unrelated ones may finish in either order."""
        current = self._current()
        if current is None:
            raise RuntimeError("after_commit() must be called inside transaction()")
        current.on_commit.append((current.depth, callback))

    async def lock(self, namespace: str, key: int | str) -> None:
        """A transaction-scoped advisory lock, so it is held by this process's and every
        other process's transactions alike until this one commits or rolls back."""
        current = self._current()
        if current is None:
            raise RuntimeError("lock() must be called inside transaction()")
        await self._run(
            current.conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key(namespace, key))
        )

    @staticmethod
    def _run_callbacks(callbacks: list[tuple[int, Callable[[], None]]]) -> None:
        for _, callback in callbacks:
            callback()

    @asynccontextmanager
    async def _savepoint(self, tx: _Transaction) -> AsyncIterator[None]:
        tx.depth += 1
        name = f"sp_{tx.depth}"
        try:
            await self._run(tx.conn.execute(f"SAVEPOINT {name}"))
            try:
                yield
            except BaseException:
                depth = tx.depth
                tx.on_commit = [entry for entry in tx.on_commit if entry[0] < depth]
                await self._run(tx.conn.execute(f"ROLLBACK TO SAVEPOINT {name}"))
                await self._run(tx.conn.execute(f"RELEASE SAVEPOINT {name}"))
                raise
            await self._run(tx.conn.execute(f"RELEASE SAVEPOINT {name}"))
            # What this savepoint kept now belongs to the enclosing one (and goes with it).
            depth = tx.depth
            tx.on_commit = [(min(d, depth - 1), callback) for d, callback in tx.on_commit]
        finally:
            tx.depth -= 1

    async def _rollback(self, conn: asyncpg.Connection) -> None:
        """Roll back; if the connection can't (lost, or busy with a cancelled query), drop
        it, which makes the server roll the transaction back itself."""
        try:
            if not conn.is_closed():
                await conn.execute("ROLLBACK")
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            log.debug("ROLLBACK failed (%r); closing that connection", exc)
            conn.terminate()

    async def _release(self, conn: asyncpg.Connection) -> None:
        try:
            await self._pool.release(conn)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            log.debug("releasing a connection failed (%r)", exc)

    @staticmethod
    async def _run(operation: Awaitable[T]) -> T:
        with driver_errors():
            return await operation

    async def _call(self, method: str, sql: str, params: Params) -> Any:
        """Run ``conn.<method>(sql, *params)`` on this task's transaction, or on a pooled
        connection of its own."""
        query = translate(sql)
        args = tuple(params)
        current = self._current()
        if current is not None:
            return await self._run(getattr(current.conn, method)(query, *args))
        self._check_open()
        with driver_errors():
            async with self._pool.acquire() as conn:
                return await getattr(conn, method)(query, *args)

    async def fetch_one(self, sql: str, params: Params = ()) -> asyncpg.Record | None:
        """Run a query and return its first row (or None)."""
        return await self._call("fetchrow", sql, params)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[asyncpg.Record]:
        """Run a query and return all rows."""
        return list(await self._call("fetch", sql, params))

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a write; return how many rows it changed (from the status, e.g. "UPDATE 3")."""
        status: str = await self._call("execute", sql, params)
        last = status.rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else 0

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT of one row; return its id (``RETURNING id``)."""
        row_id = await self._call("fetchval", f"{sql} RETURNING id", params)
        if row_id is None:
            raise RuntimeError("INSERT did not return an id")
        return int(row_id)
