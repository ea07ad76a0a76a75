"""UserDataRepository: export everything, erase everything (and only that)."""

from __future__ import annotations

import json

from bot.storage import Database
from tests.storage.factories import add_piece

ALICE, BOB = 1, 2


async def populate(db: Database) -> dict[str, int]:
    """Alice and Bob each write, star and save; Bob continues and stars Alice's piece."""
    alice_piece = await add_piece(db, user_id=ALICE, user_name="Alice", text="alice's poem")
    alice_child = await add_piece(db, user_id=ALICE, parent_id=alice_piece.id, text="more")
    bob_piece = await add_piece(db, user_id=BOB, user_name="Bob", text="bob's poem")
    bob_remix = await add_piece(db, user_id=BOB, parent_id=alice_piece.id, text="bob's remix")
    await db.favorites.add(ALICE, alice_piece.id)
    await db.favorites.add(ALICE, bob_piece.id)
    await db.favorites.add(BOB, alice_piece.id)
    await db.favorites.add(BOB, alice_child.id)
    await db.favorites.add(BOB, bob_piece.id)
    await db.prompts.save(ALICE, "mine", "alice prompt", "poem", {"x": 1})
    await db.prompts.save(BOB, "his", "bob prompt", "story")
    return {"alice_piece": alice_piece.id, "bob_piece": bob_piece.id, "bob_remix": bob_remix.id}


async def test_export_has_all_and_only_the_users_data(db: Database) -> None:
    ids = await populate(db)
    data = await db.users.export(ALICE)
    json.dumps(data)  # must be serialisable as-is
    assert data["user_id"] == ALICE
    assert [g["text"] for g in data["generations"]] == ["alice's poem", "more"]
    assert all(g["user_id"] == ALICE for g in data["generations"])
    assert data["generations"][0]["params"]["temperature"] == 0.8
    assert [f["generation_id"] for f in data["favorites"]] == [ids["alice_piece"], ids["bob_piece"]]
    assert [(p["name"], p["options"]) for p in data["saved_prompts"]] == [("mine", {"x": 1})]
    assert "bob" not in json.dumps(data).lower()


async def test_export_of_unknown_user_is_empty(db: Database) -> None:
    data = await db.users.export(999)
    assert (data["generations"], data["favorites"], data["saved_prompts"]) == ([], [], [])


async def test_delete_all_erases_the_user_and_others_stars_on_their_pieces(
    db: Database,
) -> None:
    ids = await populate(db)
    counts = await db.users.delete_all(ALICE)
    assert (counts.generations, counts.favorites, counts.prompts) == (2, 2, 1)
    assert counts.others_favorites == 2  # Bob's stars on Alice's two pieces
    assert counts.total == 7

    empty = await db.users.export(ALICE)
    assert (empty["generations"], empty["favorites"], empty["saved_prompts"]) == ([], [], [])
    # Bob keeps his own things; his remix survives without its link to Alice's piece.
    assert [f.piece.id for f in await db.favorites.list(BOB)] == [ids["bob_piece"]]
    assert await db.prompts.get(BOB, "his") is not None
    remix = await db.generations.get(ids["bob_remix"])
    assert remix is not None and remix.parent_id is None and remix.text == "bob's remix"
    assert await db.favorites.stars(ids["bob_piece"]) == 1
    assert await db.integrity_check() == "ok"


async def test_delete_all_is_one_transaction(db: Database) -> None:
    await populate(db)
    try:
        async with db.transaction():
            await db.users.delete_all(ALICE)
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    assert len((await db.users.export(ALICE))["generations"]) == 2


async def test_delete_all_twice_is_harmless(db: Database) -> None:
    await populate(db)
    await db.users.delete_all(ALICE)
    assert (await db.users.delete_all(ALICE)).total == 0


async def test_delete_all_redacts_the_users_words_in_other_peoples_pieces(db: Database) -> None:
    original = await add_piece(db, user_id=1, prompt="a secret about my sister")
    # Bob regenerated Ada's piece, and continued a message of hers: both hold her words.
    regenerated = await add_piece(
        db, user_id=2, prompt=original.prompt, parent_id=original.id, prompt_author_id=1
    )
    continued = await add_piece(db, user_id=2, prompt="her message", prompt_author_id=1)
    bobs_own = await add_piece(db, user_id=2, prompt="bob's own words")

    counts = await db.users.delete_all(1)

    assert counts.redacted_prompts == 2
    for piece in (regenerated, continued):
        kept = await db.generations.get(piece.id)
        assert kept is not None and kept.prompt == "" and kept.prompt_redacted
        assert kept.text == piece.text  # Bob's piece itself stays his
    assert await db.generations.get(bobs_own.id) == bobs_own
    exported = json.dumps(await db.users.export(2))
    assert "secret" not in exported and "her message" not in exported
    assert (await db.users.delete_all(1)).total == 0  # nothing left to erase


async def test_export_leaves_out_other_peoples_words_and_lists_the_users_in_theirs(
    db: Database,
) -> None:
    # Bob continued a message of Alice's and regenerated her piece: both prompts are hers.
    alices = await add_piece(db, user_id=ALICE, prompt="alice's own premise")
    continued = await add_piece(db, user_id=BOB, prompt="alice's message", prompt_author_id=ALICE)
    await add_piece(
        db, user_id=BOB, prompt=alices.prompt, parent_id=alices.id, prompt_author_id=ALICE
    )
    await add_piece(db, user_id=BOB, prompt="bob's own premise")

    bobs = await db.users.export(BOB)
    assert "alice" not in json.dumps(bobs).lower()
    assert [(g["prompt"], g["prompt_by_another_user"]) for g in bobs["generations"]] == [
        ("", True),
        ("", True),
        ("bob's own premise", False),
    ]
    assert bobs["prompts_in_others_pieces"] == []

    alices_export = await db.users.export(ALICE)
    assert [g["prompt"] for g in alices_export["generations"]] == ["alice's own premise"]
    quoted = alices_export["prompts_in_others_pieces"]
    assert [(q["generation_id"], q["prompt"]) for q in quoted] == [
        (continued.id, "alice's message"),
        (continued.id + 1, "alice's own premise"),
    ]
    assert "bob" not in json.dumps(alices_export).lower()
    await db.users.delete_all(ALICE)
    assert (await db.users.export(ALICE))["prompts_in_others_pieces"] == []
