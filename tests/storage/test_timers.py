"""TimerRepository against real SQLite files: schedule, due, the atomic claim, complete."""

from __future__ import annotations

import asyncio

from bot.storage import Database


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
    on_time = await db.timers.schedule("turn", "on-time", 100.0, {})
    await db.timers.schedule("turn", "future", 101.0, {})
    assert [t.key for t in await db.timers.due(100.0, 10)] == ["late", "on-time"]
    await db.timers.claim(late, now=100.0, lease_seconds=30)
    assert [t.key for t in await db.timers.due(100.0, 10)] == ["on-time"]
    assert [t.key for t in await db.timers.due(131.0, 10)] == ["late", "on-time", "future"]
    assert on_time.attempts == 0


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
    await db.timers.release(claimed)
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
