"""BlocklistRepository and the per-user caps on saved items (favourites, prompts)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.storage import Database, LimitReached, Quotas, TooLong
from tests.storage.factories import TickingClock, add_piece

ALICE, BOB = 1, 2
GUILD = 900


async def test_block_unblock_and_list(db: Database) -> None:
    assert await db.blocklist.block("user", ALICE, "spam") is True
    assert await db.blocklist.block("guild", GUILD) is True
    assert await db.blocklist.is_blocked("user", ALICE)
    assert await db.blocklist.is_blocked("guild", GUILD)
    # A user id and a guild id never stand for each other.
    assert not await db.blocklist.is_blocked("guild", ALICE)
    assert not await db.blocklist.is_blocked("user", BOB)
    blocks = await db.blocklist.all()
    assert [(b.kind, b.target_id, b.reason) for b in blocks] == [
        ("user", ALICE, "spam"),
        ("guild", GUILD, ""),
    ]
    assert await db.blocklist.unblock("user", ALICE) is True
    assert await db.blocklist.unblock("user", ALICE) is False
    assert not await db.blocklist.is_blocked("user", ALICE)


async def test_blocking_again_keeps_the_time_and_takes_the_reason(db: Database) -> None:
    await db.blocklist.block("user", ALICE, "first")
    [before] = await db.blocklist.all()
    assert await db.blocklist.block("user", ALICE, "second") is False
    [after] = await db.blocklist.all()
    assert after.blocked_at == before.blocked_at
    assert after.reason == "second"


async def test_a_long_reason_is_refused(db: Database) -> None:
    with pytest.raises(TooLong):
        await db.blocklist.block("user", ALICE, "x" * 201)
    assert await db.blocklist.all() == []


@pytest.fixture
async def small(db_target: Path | str) -> Database:
    database = await Database.open(db_target, clock=TickingClock(), quotas=Quotas(3, 2))
    yield database  # type: ignore[misc]
    await database.close()


async def test_favourites_stop_at_the_cap_with_how_to_free_one(small: Database) -> None:
    pieces = [await add_piece(small, text=f"poem {i}") for i in range(4)]
    for piece in pieces[:3]:
        await small.favorites.add(ALICE, piece.id)
    with pytest.raises(LimitReached) as refused:
        await small.favorites.add(ALICE, pieces[3].id)
    assert "limit of 3 favourites" in refused.value.user_message
    assert "/favorites remove" in refused.value.user_message
    # Starring one already starred is still fine, and another user has room of their own.
    assert (await small.favorites.add(ALICE, pieces[0].id)).created is False
    assert (await small.favorites.add(BOB, pieces[3].id)).created is True


async def test_a_burst_of_stars_cannot_pass_the_cap(small: Database) -> None:
    pieces = [await add_piece(small, text=f"poem {i}") for i in range(8)]
    results = await asyncio.gather(
        *(small.favorites.add(ALICE, p.id) for p in pieces), return_exceptions=True
    )
    assert sum(isinstance(r, LimitReached) for r in results) == 5
    assert await small.favorites.count(ALICE) == 3


async def test_prompts_stop_at_the_configured_cap(small: Database) -> None:
    await small.prompts.save(ALICE, "one", "rain", "poem")
    await small.prompts.save(ALICE, "two", "snow", "poem")
    with pytest.raises(LimitReached) as refused:
        await small.prompts.save(ALICE, "three", "hail", "poem")
    assert "limit of 2 saved prompts" in refused.value.user_message
    assert "/prompts delete" in refused.value.user_message
    assert await small.prompts.count(ALICE) == 2
