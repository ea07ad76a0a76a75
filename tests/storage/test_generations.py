"""GenerationRepository against a real file."""

from __future__ import annotations

import dataclasses
from datetime import UTC

import pytest

from bot.config import MAX_CHARS_PER_TOKEN, MAX_NEW_TOKENS_CAP
from bot.storage import MAX_GENERATION_CHARS, MAX_PROMPT_CHARS, Database, TooLong
from tests.storage.factories import START, add_piece, new_generation


async def test_add_then_get_returns_the_same_record(db: Database) -> None:
    added = await add_piece(db, genre="gothic", guild_id=None, channel_id=None)
    fetched = await db.generations.get(added.id)
    assert fetched == added
    assert fetched.created_at.tzinfo == UTC
    assert fetched.created_at > START
    assert dict(fetched.params) == {
        "temperature": 0.8,
        "top_p": 0.95,
        "top_k": 50,
        "max_new_tokens": 120,
    }


async def test_records_are_frozen(db: Database) -> None:
    piece = await add_piece(db)
    with pytest.raises(dataclasses.FrozenInstanceError):
        piece.text = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        piece.params["temperature"] = 2.0  # type: ignore[index]


async def test_get_missing_returns_none(db: Database) -> None:
    assert await db.generations.get(12345) is None


async def test_parent_chain(db: Database) -> None:
    first = await add_piece(db)
    second = await add_piece(db, parent_id=first.id, text="and then")
    assert second.parent_id == first.id


async def test_a_piece_whose_parent_was_erased_meanwhile_is_stored_without_it(db: Database):
    parent = await add_piece(db, user_id=1, prompt="my own words")
    await db.users.delete_all(1)
    # Another user's regenerate of it finishes after the erase: kept, unlinked, and
    # without the erased author's prompt.
    child = await add_piece(
        db, user_id=2, parent_id=parent.id, prompt="my own words", prompt_author_id=1
    )
    assert child.parent_id is None and child.prompt == "" and child.prompt_redacted
    assert await db.generations.get(child.id) == child
    # One of your own pieces keeps its prompt: it was your text all along.
    mine = await add_piece(db, user_id=3, parent_id=999, prompt="mine")
    assert mine.parent_id is None and mine.prompt == "mine" and not mine.prompt_redacted
    # Naming yourself as the prompt's author is the same as naming nobody.
    own = await add_piece(db, user_id=3, parent_id=999, prompt="mine", prompt_author_id=3)
    assert own.prompt_author_id is None and own.prompt == "mine" and not own.prompt_redacted


async def test_a_prompt_copied_from_a_piece_whose_prompt_was_erased_meanwhile_is_not_kept(
    db: Database,
) -> None:
    # Carol's piece holds Ada's words (she continued Ada's message); Bob regenerates it.
    carols = await add_piece(db, user_id=3, prompt="ada's message", prompt_author_id=1)
    await db.users.delete_all(1)  # Ada erases her data while Bob's piece is being written
    bobs = await add_piece(
        db, user_id=2, parent_id=carols.id, prompt="ada's message", prompt_author_id=1
    )
    assert bobs.parent_id == carols.id and bobs.prompt == "" and bobs.prompt_redacted
    assert await db.generations.get(bobs.id) == bobs
    # Continuing Carol's piece quotes Carol, who erased nothing: that prompt stays.
    continued = await add_piece(
        db, user_id=2, parent_id=carols.id, prompt="carol's text", prompt_author_id=3
    )
    assert continued.prompt == "carol's text" and not continued.prompt_redacted


async def test_console_user_and_big_snowflakes(db: Database) -> None:
    snowflake = 1_234_567_890_123_456_789
    console = await add_piece(db, user_id=0, guild_id=None, channel_id=None)
    discord = await add_piece(db, user_id=snowflake, guild_id=snowflake - 1)
    assert (await db.generations.get(console.id)).user_id == 0  # type: ignore[union-attr]
    fetched = await db.generations.get(discord.id)
    assert fetched is not None
    assert (fetched.user_id, fetched.guild_id) == (snowflake, snowflake - 1)


async def test_list_for_user_newest_first_with_paging(db: Database) -> None:
    mine = [await add_piece(db, user_id=1, text=f"piece {i}") for i in range(5)]
    await add_piece(db, user_id=2)
    page1 = await db.generations.list_for_user(1, limit=2)
    page2 = await db.generations.list_for_user(1, limit=2, offset=2)
    page3 = await db.generations.list_for_user(1, limit=2, offset=4)
    assert [p.id for p in page1 + page2 + page3] == [p.id for p in reversed(mine)]
    assert await db.generations.count_for_user(1) == 5
    assert await db.generations.count_for_user(3) == 0


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (101, 0), (5, -1)])
async def test_bad_paging_is_a_bug(db: Database, limit: int, offset: int) -> None:
    with pytest.raises(ValueError):
        await db.generations.list_for_user(1, limit=limit, offset=offset)


async def test_length_limits(db: Database) -> None:
    await add_piece(db, text="x" * MAX_GENERATION_CHARS, prompt="p" * MAX_PROMPT_CHARS)
    with pytest.raises(TooLong) as caught:
        await add_piece(db, text="x" * (MAX_GENERATION_CHARS + 1))
    assert f"{MAX_GENERATION_CHARS:,}" in caught.value.user_message
    with pytest.raises(TooLong, match="prompt"):
        await add_piece(db, prompt="p" * (MAX_PROMPT_CHARS + 1))
    assert await db.generations.count_for_user(111) == 1


async def test_a_piece_as_long_as_the_config_allows_is_stored(db: Database) -> None:
    # A model stuck repeating its longest token until the highest token cap the config accepts.
    longest = "#" * (MAX_NEW_TOKENS_CAP * MAX_CHARS_PER_TOKEN)
    piece = await add_piece(db, text=longest)
    assert (await db.generations.get(piece.id)).text == longest  # type: ignore[union-attr]


async def test_params_must_be_json(db: Database) -> None:
    with pytest.raises(ValueError):
        await db.generations.add(new_generation(params={"temperature": float("nan")}))
    with pytest.raises(TypeError):
        await db.generations.add(new_generation(params={"temperature": object()}))
    assert await db.generations.count_for_user(111) == 0
