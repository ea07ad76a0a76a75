"""One bot process per token, database and shard: a second one refuses to start.

Two processes answering the same interactions would double every reply, so ``python -m bot
run`` takes this lock before it loads the model or connects. The shards of one bot run as
several processes on purpose (README → Scaling out): each takes its own shards, so groups
with different shards coexist and groups that overlap are refused.

Why OS-level locks rather than a row with a renewed lease: the operating system (an
``fcntl`` lock on a file next to the SQLite database) or PostgreSQL (a session-level advisory
lock on a connection held for the process's life) releases them the moment the process dies,
``kill -9`` included, so a crash never blocks the next start, and there is no lease to tune
or clock to trust. The locks are keyed by a hash of the token, never the token itself.

The plan is the same on both: a "whole bot" lock, exclusive for an unsharded process and
shared for a shard group, plus an exclusive lock per shard id the group holds.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bot.errors import InkwellError
from bot.shards import ShardGroup
from bot.storage.postgres import CONNECT_TIMEOUT_SECONDS, is_postgres_url, lock_key, redact


class AlreadyRunning(InkwellError):
    """Another process already serves this token and database (or these shards of it)."""


@dataclass(frozen=True)
class LockPart:
    """One lock to take: ``shard`` None for the whole bot; ``exclusive`` or shared."""

    shard: int | None
    exclusive: bool


def token_fingerprint(token: str) -> str:
    """A short hash naming the bot in lock names: the token never leaves the process."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def lock_plan(group: ShardGroup | None) -> list[LockPart]:
    """What a process holding ``group`` (None: every shard) must lock, in order."""
    if group is None:
        return [LockPart(None, exclusive=True)]
    return [LockPart(None, exclusive=False), *(LockPart(s, exclusive=True) for s in group.ids)]


def _refusal(group: ShardGroup | None, part: LockPart, where: str) -> AlreadyRunning:
    held = "the whole bot" if part.shard is None else f"shard {part.shard}"
    mine = "every shard" if group is None else group.name
    return AlreadyRunning(
        f"Another Inkwell process with this token and database ({where}) already holds "
        f"{held}, so this one (for {mine}) will not start: two would answer every "
        "interaction twice. Stop the other process first, or give each process shards of "
        "its own (discord.shard_ids)."
    )


def lock_file_path(database: Path, token: str) -> Path:
    """The lock file next to an SQLite database, named after the token's fingerprint."""
    return database.with_name(f"{database.name}.{token_fingerprint(token)}.lock")


@contextlib.asynccontextmanager
async def hold_instance_lock(
    location: str | Path, token: str, group: ShardGroup | None
) -> AsyncIterator[None]:
    """Hold this process's lock for the block; `AlreadyRunning` if another process has it."""
    if is_postgres_url(location):
        async with _postgres_lock(str(location), token, group):
            yield
    else:
        with _file_lock(Path(location), token, group):
            yield


@contextlib.contextmanager
def _file_lock(database: Path, token: str, group: ShardGroup | None) -> Iterator[None]:
    path = lock_file_path(database, token)
    path.parent.mkdir(parents=True, exist_ok=True)
    # POSIX record locks, one byte per part: byte 0 is the whole bot, byte 1 + n shard n.
    # One descriptor for the process's life: closing any descriptor of the file would drop
    # every lock this process holds on it.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        for part in lock_plan(group):
            mode = fcntl.LOCK_EX if part.exclusive else fcntl.LOCK_SH
            offset = 0 if part.shard is None else 1 + part.shard
            try:
                fcntl.lockf(fd, mode | fcntl.LOCK_NB, 1, offset)
            except (BlockingIOError, PermissionError):
                raise _refusal(group, part, str(path)) from None
        yield
    finally:
        os.close(fd)  # releases every lock this process took on the file


@contextlib.asynccontextmanager
async def _postgres_lock(url: str, token: str, group: ShardGroup | None) -> AsyncIterator[None]:
    fingerprint = token_fingerprint(token)
    try:
        conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_SECONDS)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise InkwellError(
            f"Inkwell couldn't reach {redact(url)} to take its instance lock ({exc})."
        ) from exc
    try:
        for part in lock_plan(group):
            key = lock_key(
                "instance", f"{fingerprint}:{'bot' if part.shard is None else part.shard}"
            )
            function = "pg_try_advisory_lock" if part.exclusive else "pg_try_advisory_lock_shared"
            if not await conn.fetchval(f"SELECT {function}($1)", key):
                raise _refusal(group, part, redact(url))
        yield
    finally:
        # Closing the session releases its advisory locks.
        await conn.close()
