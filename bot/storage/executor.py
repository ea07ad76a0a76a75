"""The seam between the repositories and a database: one `Executor` API, one class per backend.

Repositories write SQL once, in the dialect SQLite and PostgreSQL share, with ``?``
placeholders; each backend's executor makes it runnable there (``bot.storage.sqlite`` as is,
``bot.storage.postgres`` translating ``?`` to ``$n`` and ``IS ?`` to ``IS NOT DISTINCT FROM``).
Both give rows by name and by position, run nested transactions as SAVEPOINTs, run
``after_commit`` callbacks, and raise `IntegrityViolation` for a broken constraint and
`StorageError` (with its kind message) for anything the user can only retry.

What the two dialects don't share is settled here, once:
- Snowflakes and every other integer are 64-bit (SQLite INTEGER, PostgreSQL BIGINT); reals
  are doubles; booleans are stored as 0/1 integers on both, read back with ``bool()``.
- Times are ISO-8601 text, JSON is text checked by ``json_valid`` (a function the PostgreSQL
  schema defines), so no column needs a driver-specific type.
- ``insert`` returns the new row's id (``lastrowid`` / ``RETURNING id``).
- ``lock(namespace, key)`` serialises transactions that read before they write the same
  thing: a no-op on SQLite, whose transactions already run one at a time, and a
  transaction-scoped advisory lock on PostgreSQL, whose transactions run side by side.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Protocol

Params = Iterable[Any]
Dialect = Literal["sqlite", "postgresql"]


class Row(Protocol):
    """A result row: ``sqlite3.Row`` or ``asyncpg.Record``; both index by name and position."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> Iterable[str]: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...


class Executor(abc.ABC):
    """Runs statements for the repositories.

    `transaction()` is re-entrant within a task: a nested call becomes a SAVEPOINT, so a
    repository method that fails inside a caller's transaction undoes only its own part.
    Statements outside a transaction run on their own (each its own transaction).
    """

    dialect: Dialect

    @abc.abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[None]:
        """BEGIN ... COMMIT, or ROLLBACK if the block raises (or is cancelled)."""

    @abc.abstractmethod
    def in_transaction(self) -> bool:
        """Whether the calling task is inside `transaction()`."""

    @abc.abstractmethod
    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the caller's transaction has committed; forget it if the
        transaction, or the savepoint it was registered in, rolls back. For in-memory
        copies of what was written."""

    @abc.abstractmethod
    async def lock(self, namespace: str, key: int | str) -> None:
        """Inside a transaction: wait until no other transaction holds ``(namespace, key)``,
        then hold it until this one ends. For read-check-write sequences on one thing (a
        user's prompts, a channel's ideas) that must not interleave with another."""

    @abc.abstractmethod
    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """Run a query and return its first row (or None)."""

    @abc.abstractmethod
    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """Run a query and return all rows."""

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        """Run a query and return the first column of its first row (or None)."""
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]

    @abc.abstractmethod
    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a write; return how many rows it changed."""

    @abc.abstractmethod
    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT of one row into a table with an ``id`` key; return the new id."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Wait for running transactions, then close (idempotent)."""
