"""A full database, provoked without mounting anything: ``PRAGMA max_page_count`` caps the
file at the pages it has, so a write that needs one more page fails with SQLite's own
SQLITE_FULL ("database or disk is full"), as on a full disk. (The size-limited tmpfs test is
in tests/cogs/test_storage_faults_e2e.py; it is skipped where mounting is impossible, this
one runs everywhere.) Each write that does not fit is refused whole, with a kind message, and
writes work again once there is room."""

from __future__ import annotations

import pytest

from bot.storage import Database, StorageFull
from bot.storage.sqlite import pragma

# Near a 4 KiB page each: every prompt this long needs a page of its own.
BIG = "the sea keeps what it is given " * 110


async def cap_at_current_size(db: Database) -> int:
    # SQLite never sets the cap below the pages in use: 1 means "exactly what it has now".
    return int(await pragma(db._executor.connection, "PRAGMA max_page_count = 1"))


async def give_room(db: Database) -> None:
    await pragma(db._executor.connection, "PRAGMA max_page_count = 1000000")


async def integrity(db: Database) -> None:
    assert await db._executor.fetch_value("PRAGMA integrity_check") == "ok"
    assert await db._executor.fetch_all("PRAGMA foreign_key_check") == []


@pytest.mark.sqlite_only  # max_page_count is SQLite's
async def test_writes_that_no_longer_fit_are_refused_whole_and_work_again_with_room(db):
    await cap_at_current_size(db)
    saved = 0
    with pytest.raises(StorageFull) as caught:
        for number in range(50):
            await db.prompts.save(1, f"sea {number}", BIG, "poem")
            saved += 1
    assert "storage is full" in caught.value.user_message
    assert "Nothing was saved" in caught.value.user_message
    assert await db.prompts.count(1) == saved  # the one that didn't fit left nothing behind
    assert {p.name for p in await db.prompts.list(1)} == {f"sea {n}" for n in range(saved)}
    await integrity(db)
    await give_room(db)
    await db.prompts.save(1, f"sea {saved}", BIG, "poem")
    assert await db.prompts.count(1) == saved + 1


@pytest.mark.sqlite_only  # max_page_count is SQLite's
async def test_a_transaction_that_fills_the_database_rolls_back_every_statement(db):
    await db.prompts.save(2, "kept", "before the storm", "poem")
    await cap_at_current_size(db)
    with pytest.raises(StorageFull):
        async with db.transaction():
            # The first write fits in a page that has room; the second needs pages of its own.
            await db.prompts.save(2, "small", "a gull", "poem")
            for number in range(50):
                await db.prompts.save(2, f"big {number}", BIG, "poem")
    assert [p.name for p in await db.prompts.list(2)] == ["kept"]
    await integrity(db)
    await give_room(db)
    async with db.transaction():
        await db.prompts.save(2, "small", "a gull", "poem")
    assert await db.prompts.count(2) == 2
