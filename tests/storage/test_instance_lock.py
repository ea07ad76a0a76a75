"""The instance lock on both backends: a second bot with the same token and database is
refused, shard groups that do not overlap coexist, and a killed holder blocks nothing.

The holder is a real second process (POSIX record locks never conflict within one process,
and a PostgreSQL session is what a process holds)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.shards import ShardGroup
from bot.storage.instance_lock import (
    AlreadyRunning,
    hold_instance_lock,
    lock_file_path,
    lock_plan,
    token_fingerprint,
)

REPO = Path(__file__).resolve().parents[2]
TOKEN = "MTIz.secret-bot-token"


@asynccontextmanager
async def holder(
    location: Path | str, token: str = TOKEN, group: ShardGroup | None = None
) -> AsyncIterator[asyncio.subprocess.Process]:
    args = [str(location), token]
    if group is not None:
        args += [str(group.count), ",".join(map(str, group.ids))]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.storage.lock_holder",
        *args,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        assert line == b"held\n", line
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def can_start(location: Path | str, group: ShardGroup | None, token: str = TOKEN) -> bool:
    try:
        async with hold_instance_lock(location, token, group):
            return True
    except AlreadyRunning:
        return False


def shards(count: int, *ids: int) -> ShardGroup:
    return ShardGroup.of(count, ids)


def test_the_plan_shares_the_whole_bot_among_shard_groups_and_owns_each_shard():
    assert [(p.shard, p.exclusive) for p in lock_plan(None)] == [(None, True)]
    plan = lock_plan(shards(4, 2, 0))
    assert [(p.shard, p.exclusive) for p in plan] == [(None, False), (0, True), (2, True)]


async def test_a_second_bot_on_the_same_token_and_database_is_refused(db_target):
    async with holder(db_target):
        with pytest.raises(AlreadyRunning, match="already holds the whole bot"):
            async with hold_instance_lock(db_target, TOKEN, None):
                pass
        assert not await can_start(db_target, shards(2, 1))  # nor any shard of it
        assert await can_start(db_target, None, token="another-bot")  # another bot is free
    assert await can_start(db_target, None)  # and once it stopped, this one may start


async def test_shard_groups_coexist_unless_their_shards_overlap(db_target):
    async with holder(db_target, group=shards(4, 0, 1)):
        assert await can_start(db_target, shards(4, 2, 3))
        with pytest.raises(AlreadyRunning, match="already holds shard 1"):
            async with hold_instance_lock(db_target, TOKEN, shards(4, 1, 2)):
                pass
        assert not await can_start(db_target, None)  # an unsharded bot overlaps every group


async def test_a_killed_holder_blocks_nothing(db_target):
    async with holder(db_target) as process:
        process.send_signal(signal.SIGKILL)
        await process.wait()
        assert await can_start(db_target, None)


@pytest.mark.sqlite_only
async def test_the_lock_file_names_a_hash_of_the_token_never_the_token(db_target, backend):
    """SQLite only: the lock file exists only there."""
    async with holder(db_target):
        path = lock_file_path(Path(db_target), TOKEN)
        assert path.exists() and path.parent == Path(db_target).parent
        assert token_fingerprint(TOKEN) in path.name and TOKEN not in path.name
        assert TOKEN.encode() not in path.read_bytes()
