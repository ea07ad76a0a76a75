"""TimerRepository against real SQLite files: schedule, due, the atomic claim, complete."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.shards import SHARD_SHIFT, ShardGroup, shard_of
from bot.storage import Database

REPO_ROOT = Path(__file__).resolve().parents[2]


async def test_schedule_replaces_the_timer_and_its_claim(db: Database) -> None:
    first = await db.timers.schedule("turn", "game-1", 100.0, {"seat": 1})
    claimed = await db.timers.claim(first, now=100.0, lease_seconds=60)
    assert claimed is not None and claimed.attempts == 1
    moved = await db.timers.schedule("turn", "game-1", 200.0, {"seat": 2})
    assert moved.id == first.id and moved.due_at == 200.0 and dict(moved.payload) == {"seat": 2}
    assert moved.claimed_until is None and moved.attempts == 0
    assert await db.timers.get("turn", "game-1") == moved


async def test_due_lists_only_unclaimed_due_timers_oldest_first(db: Database) -> None:
    late = await db.timers.schedule("turn", "late", 50.0, {})
    await db.timers.schedule("turn", "on-time", 100.0, {})
    await db.timers.schedule("turn", "future", 101.0, {})
    assert [t.key for t in await db.timers.due(100.0, 10)] == ["late", "on-time"]
    await db.timers.claim(late, now=100.0, lease_seconds=30)
    assert [t.key for t in await db.timers.due(100.0, 10)] == ["on-time"]
    assert [t.key for t in await db.timers.due(131.0, 10)] == ["late", "on-time", "future"]


async def test_a_claim_is_won_once_and_expires_with_its_lease(db: Database) -> None:
    timer = await db.timers.schedule("turn", "t", 10.0, {})
    assert await db.timers.claim(timer, now=10.0, lease_seconds=5) is not None
    assert await db.timers.claim(timer, now=12.0, lease_seconds=5) is None
    retry = await db.timers.claim(timer, now=15.5, lease_seconds=5)
    assert retry is not None and retry.attempts == 2


async def test_a_stale_read_cannot_claim_a_rescheduled_timer(db: Database) -> None:
    stale = await db.timers.schedule("turn", "t", 10.0, {})
    await db.timers.schedule("turn", "t", 99.0, {})
    assert await db.timers.claim(stale, now=10.0, lease_seconds=5) is None


async def test_complete_removes_or_moves_and_respects_a_newer_plan(db: Database) -> None:
    timer = await db.timers.schedule("daily", "g", 10.0, {})
    claimed = await db.timers.claim(timer, now=10.0, lease_seconds=5)
    assert claimed is not None
    assert await db.timers.complete(claimed, next_due_at=86_410.0)
    moved = await db.timers.get("daily", "g")
    assert moved is not None and moved.due_at == 86_410.0 and moved.claimed_until is None

    again = await db.timers.claim(moved, now=86_410.0, lease_seconds=5)
    assert again is not None
    await db.timers.schedule("daily", "g", 500_000.0, {})  # rescheduled while firing
    assert not await db.timers.complete(again, next_due_at=None)
    assert (await db.timers.get("daily", "g")).due_at == 500_000.0  # type: ignore[union-attr]


async def test_release_and_cancel(db: Database) -> None:
    timer = await db.timers.schedule("turn", "t", 10.0, {})
    claimed = await db.timers.claim(timer, now=10.0, lease_seconds=600)
    assert claimed is not None
    assert await db.timers.release(claimed)
    assert [t.key for t in await db.timers.due(11.0, 10)] == ["t"]
    assert await db.timers.cancel("turn", "t")
    assert not await db.timers.cancel("turn", "t")
    assert await db.timers.get("turn", "t") is None


async def test_two_connections_claiming_together_win_once(tmp_path) -> None:
    path = tmp_path / "race.db"
    first, second = await Database.open(path), await Database.open(path)
    try:
        timers = [await first.timers.schedule("turn", f"t{i}", 1.0, {}) for i in range(30)]
        wins = await asyncio.gather(
            *(
                db.timers.claim(t, now=2.0, lease_seconds=60)
                for t in timers
                for db in (first, second)
            )
        )
        assert sum(win is not None for win in wins) == len(timers)
    finally:
        await first.close()
        await second.close()


async def test_a_lapsed_claim_cannot_release_the_claim_that_replaced_it(db: Database) -> None:
    timer = await db.timers.schedule("turn", "t", 10.0, {})
    slow = await db.timers.claim(timer, now=10.0, lease_seconds=5)
    assert slow is not None
    retry = await db.timers.claim(timer, now=16.0, lease_seconds=5)  # slow's lease ran out
    assert retry is not None
    assert not await db.timers.release(slow)
    assert await db.timers.due(17.0, 10) == []  # the retry still holds it: nobody else fires it
    assert await db.timers.release(retry)
    assert [t.id for t in await db.timers.due(17.0, 10)] == [timer.id]


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
async def test_times_must_be_finite(db: Database, bad: float) -> None:
    with pytest.raises(ValueError, match="due_at"):
        await db.timers.schedule("turn", "t", bad, {})
    timer = await db.timers.schedule("turn", "t", 1.0, {})
    with pytest.raises(ValueError, match="now"):
        await db.timers.claim(timer, now=bad, lease_seconds=5)
    with pytest.raises(ValueError, match="lease_seconds"):
        await db.timers.claim(timer, now=1.0, lease_seconds=0)
    with pytest.raises(ValueError, match="next_due_at"):
        await db.timers.complete(timer, next_due_at=bad)
    assert await db.timers.get("turn", "t") == timer


async def schedule_timers(path: Path, count: int) -> list[int]:
    async with await Database.open(path) as db:
        return [(await db.timers.schedule("turn", f"t{i}", 1.0, {})).id for i in range(count)]


async def claim_counts(path: Path, count: int) -> list[int]:
    async with await Database.open(path) as db:
        timers = [await db.timers.get("turn", f"t{i}") for i in range(count)]
    return [timer.attempts for timer in timers if timer is not None]


def test_processes_claiming_together_win_each_timer_once(tmp_path) -> None:
    path = tmp_path / "race.db"
    ids = asyncio.run(schedule_timers(path, 40))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    claimers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.storage.timer_claimer", str(path)],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        for claimer in claimers:  # each has read the same 40 due timers
            assert claimer.stdout is not None and claimer.stdout.readline() == "ready\n"
        for claimer in claimers:
            assert claimer.stdin is not None
            claimer.stdin.write("go\n")
            claimer.stdin.flush()
        results = [(*claimer.communicate(timeout=30), claimer.returncode) for claimer in claimers]
    finally:
        for claimer in claimers:
            if claimer.poll() is None:
                claimer.kill()
    wins: list[int] = []
    for out, err, code in results:
        assert code == 0, err
        wins += [int(word) for word in out.split()]
    assert sorted(wins) == sorted(ids)  # each timer won exactly once
    assert asyncio.run(claim_counts(path, 40)) == [1] * 40


async def test_each_shard_group_sees_only_the_timers_of_its_guilds(db: Database) -> None:
    """Two processes, each holding half of 4 shards, split one table's timers between them;
    timers outside any guild go to the process holding shard 0."""
    guilds = [(n << SHARD_SHIFT) + 12345 for n in range(8)]  # shards 0, 1, 2, 3, 0, 1, 2, 3
    for guild_id in guilds:
        await db.timers.schedule("daily", str(guild_id), 10.0, {}, guild_id)
    await db.timers.schedule("sweep", "all", 10.0, {})
    low, high = ShardGroup.of(4, [0, 1]), ShardGroup.of(4, [2, 3])
    seen_low = {t.key for t in await db.timers.due(11.0, 100, shards=low)}
    seen_high = {t.key for t in await db.timers.due(11.0, 100, shards=high)}
    assert seen_low == {str(g) for g in guilds if shard_of(g, 4) < 2} | {"all"}
    assert seen_high == {str(g) for g in guilds if shard_of(g, 4) >= 2}
    assert len(seen_high) == 4
    everything = ShardGroup.of(4, [0, 1, 2, 3])
    assert len(await db.timers.due(11.0, 100, shards=everything)) == 9
    # Moving a timer to another guild moves it to that guild's process.
    await db.timers.schedule("daily", str(guilds[0]), 10.0, {}, guilds[2])
    assert str(guilds[0]) in {t.key for t in await db.timers.due(11.0, 100, shards=high)}
