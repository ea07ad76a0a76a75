"""FavoriteRepository: idempotent stars, privacy, and the hall of fame."""

from __future__ import annotations

import asyncio

import pytest

from bot.storage import Database, NotFound
from tests.storage.factories import add_piece

ALICE, BOB, CARA = 1, 2, 3


async def test_add_is_idempotent(db: Database) -> None:
    piece = await add_piece(db)
    first = await db.favorites.add(ALICE, piece.id)
    again = await db.favorites.add(ALICE, piece.id)
    assert first.created is True
    assert again.created is False
    assert again.favorite == first.favorite
    assert await db.favorites.count(ALICE) == 1


async def test_double_click_from_two_tasks_makes_one_row(db: Database) -> None:
    piece = await add_piece(db)
    results = await asyncio.gather(*(db.favorites.add(ALICE, piece.id) for _ in range(5)))
    assert sum(result.created for result in results) == 1
    assert len({result.favorite.id for result in results}) == 1
    assert await db.favorites.count(ALICE) == 1


async def test_add_missing_piece(db: Database) -> None:
    with pytest.raises(NotFound):
        await db.favorites.add(ALICE, 4242)


async def test_get_and_list_include_the_piece_newest_first(db: Database) -> None:
    pieces = [await add_piece(db, user_id=BOB, text=f"poem {i}") for i in range(3)]
    favorites = [(await db.favorites.add(ALICE, p.id)).favorite for p in pieces]
    listed = await db.favorites.list(ALICE)
    assert [f.favorite.id for f in listed] == [f.id for f in reversed(favorites)]
    assert [f.piece for f in listed] == list(reversed(pieces))
    one = await db.favorites.get(ALICE, favorites[0].id)
    assert one is not None
    assert one.piece == pieces[0]
    assert one.favorite == favorites[0]
    second_page = await db.favorites.list(ALICE, limit=2, offset=2)
    assert [f.favorite.id for f in second_page] == [favorites[0].id]


async def test_users_only_see_and_change_their_own(db: Database) -> None:
    piece = await add_piece(db)
    alices = (await db.favorites.add(ALICE, piece.id)).favorite
    bobs = (await db.favorites.add(BOB, piece.id)).favorite
    assert await db.favorites.get(BOB, alices.id) is None
    assert await db.favorites.remove(BOB, alices.id) is False
    assert await db.favorites.get(ALICE, alices.id) is not None
    assert [f.favorite.id for f in await db.favorites.list(BOB)] == [bobs.id]
    assert await db.favorites.remove(ALICE, alices.id) is True
    assert await db.favorites.remove(ALICE, alices.id) is False
    assert await db.favorites.count(ALICE) == 0
    assert await db.favorites.count(BOB) == 1


async def test_ids_are_not_reused_after_removal(db: Database) -> None:
    a, b = await add_piece(db), await add_piece(db)
    old = (await db.favorites.add(ALICE, a.id)).favorite
    await db.favorites.remove(ALICE, old.id)
    new = (await db.favorites.add(ALICE, b.id)).favorite
    assert new.id > old.id


async def test_remove_piece_and_stars(db: Database) -> None:
    piece = await add_piece(db)
    await db.favorites.add(ALICE, piece.id)
    await db.favorites.add(BOB, piece.id)
    assert await db.favorites.stars(piece.id) == 2
    assert await db.favorites.remove_piece(ALICE, piece.id) is True
    assert await db.favorites.remove_piece(ALICE, piece.id) is False
    assert await db.favorites.stars(piece.id) == 1


async def test_hall_of_fame_orders_by_stars_then_age(db: Database) -> None:
    guild, other_guild = 900, 901
    low = await add_piece(db, guild_id=guild, text="one star")
    top = await add_piece(db, guild_id=guild, text="three stars")
    tie_old = await add_piece(db, guild_id=guild, text="two stars, older")
    tie_new = await add_piece(db, guild_id=guild, text="two stars, newer")
    unstarred = await add_piece(db, guild_id=guild)
    elsewhere = await add_piece(db, guild_id=other_guild)
    console = await add_piece(db, guild_id=None)
    stars = {low: [ALICE], top: [ALICE, BOB, CARA], tie_new: [ALICE, BOB], tie_old: [BOB, CARA]}
    for piece, users in stars.items():
        for user in users:
            await db.favorites.add(user, piece.id)
    for user in (ALICE, BOB, CARA):
        await db.favorites.add(user, elsewhere.id)
        await db.favorites.add(user, console.id)

    hall = await db.favorites.hall_of_fame(guild, limit=10)
    assert [(entry.piece.id, entry.stars) for entry in hall] == [
        (top.id, 3),
        (tie_old.id, 2),
        (tie_new.id, 2),
        (low.id, 1),
    ]
    assert unstarred.id not in {entry.piece.id for entry in hall}
    piece, count = hall[0]  # unpacks as (piece, stars)
    assert piece == top and count == 3
    assert [e.piece.id for e in await db.favorites.hall_of_fame(guild, limit=2)] == [
        top.id,
        tie_old.id,
    ]
    assert await db.favorites.hall_of_fame(12345) == []


async def test_keyset_pages_skip_nothing_when_a_favourite_goes_meanwhile(db: Database) -> None:
    pieces = [await add_piece(db, user_id=BOB, text=f"poem {i}") for i in range(5)]
    ids = [(await db.favorites.add(ALICE, p.id)).favorite.id for p in pieces]
    first = await db.favorites.list_before(ALICE, 2)
    assert [f.favorite.id for f in first] == [ids[4], ids[3]]
    await db.favorites.remove(ALICE, ids[4])  # removed between two pages of an export
    rest = await db.favorites.list_before(ALICE, 10, first[-1].favorite.id)
    assert [f.favorite.id for f in rest] == [ids[2], ids[1], ids[0]]
    # OFFSET paging would have skipped one: the row that slid onto the first page.
    offset_rest = await db.favorites.list(ALICE, 10, 2)
    assert [f.favorite.id for f in offset_rest] == [ids[1], ids[0]]


@pytest.mark.sqlite_only  # reads SQLite's EXPLAIN QUERY PLAN
async def test_keyset_pages_use_the_index(db: Database) -> None:
    plan = await db._executor.fetch_all(
        "EXPLAIN QUERY PLAN SELECT id FROM favorites WHERE user_id = ? AND id < ?"
        " ORDER BY id DESC LIMIT 10",
        (ALICE, 100),
    )
    details = " ".join(row["detail"] for row in plan)
    assert "favorites_by_user" in details and "SCAN" not in details, details
