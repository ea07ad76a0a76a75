"""PostgreSQL's own properties: transactions really run side by side, and what SQLite got from
running them one at a time still holds (one claim wins, a per-user limit isn't overrun), also
between two processes' pools on one database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.storage import Database, LimitReached, NameTaken
from tests.storage.factories import TickingClock, add_piece

pytestmark = pytest.mark.postgresql_only


async def test_two_transactions_are_open_at_once(db: Database) -> None:
    """On SQLite the second would wait for the first's lock; here both get going."""
    both_in = asyncio.Barrier(2)

    async def writer(user_id: int) -> None:
        async with db.transaction():
            await add_piece(db, user_id=user_id)
            await asyncio.wait_for(both_in.wait(), timeout=5)

    await asyncio.gather(writer(1), writer(2))
    assert await db.generations.count_for_user(1) == await db.generations.count_for_user(2) == 1


async def test_two_pools_racing_on_a_timer_claim_win_once(db_target: Path | str) -> None:
    """What two bot processes do: each its own pool, the same timer, claimed at once."""
    first = await Database.open(db_target, clock=TickingClock())
    second = await Database.open(db_target, clock=TickingClock())
    try:
        timers = [await first.timers.schedule("t", str(n), 10.0, {}) for n in range(20)]
        claims = await asyncio.gather(
            *(db.timers.claim(timer, 11.0, 60.0) for timer in timers for db in (first, second))
        )
        won = [claim for claim in claims if claim is not None]
        assert sorted(claim.key for claim in won) == sorted(str(n) for n in range(20))
        assert all(claim.attempts == 1 for claim in won)
    finally:
        await first.close()
        await second.close()


async def test_saves_at_once_respect_the_name_and_the_limit(db: Database) -> None:
    """The count-then-insert of a save holds the user's lock, so racing saves can't overrun."""
    db.prompts._max_per_user = 3
    results = await asyncio.gather(
        *(db.prompts.save(7, f"p{n}", "text", "poem") for n in range(8)),
        *(db.prompts.save(8, "same", f"text {n}", "poem") for n in range(5)),
        return_exceptions=True,
    )
    assert await db.prompts.count(7) == 3
    assert sum(isinstance(r, LimitReached) for r in results[:8]) == 5
    assert await db.prompts.count(8) == 1
    assert sum(isinstance(r, NameTaken) for r in results[8:]) == 4


async def test_an_idle_pool_is_not_a_lock(db: Database) -> None:
    """A slow transaction doesn't hold up another task's reads (no single shared lock)."""
    piece = await add_piece(db)
    started = asyncio.Event()

    async def slow() -> None:
        async with db.transaction():
            await add_piece(db, user_id=5)
            started.set()
            await asyncio.sleep(0.5)

    task = asyncio.create_task(slow())
    await started.wait()
    assert await asyncio.wait_for(db.generations.get(piece.id), timeout=0.25) == piece
    assert await db.generations.count_for_user(5) == 0  # not committed yet
    await task
    assert await db.generations.count_for_user(5) == 1
