"""PromptRepository: private names, case-insensitive uniqueness, limits, autocomplete."""

from __future__ import annotations

import pytest

from bot.storage import (
    MAX_PROMPT_CHARS,
    MAX_SAVED_PROMPTS,
    Database,
    InvalidName,
    LimitReached,
    NameTaken,
    NotFound,
    TooLong,
)

ALICE, BOB = 1, 2


async def test_save_and_get(db: Database) -> None:
    saved = await db.prompts.save(
        ALICE, "  Storm sonnet  ", "a storm at sea", "poem", {"poem_form": "sonnet"}
    )
    assert saved.name == "Storm sonnet"  # surrounding spaces are not part of the name
    assert dict(saved.options) == {"poem_form": "sonnet"}
    assert await db.prompts.get(ALICE, "storm SONNET") == saved
    assert await db.prompts.get(ALICE, "storm") is None
    assert await db.prompts.get(ALICE, "   ") is None


async def test_same_name_in_any_case_is_taken(db: Database) -> None:
    await db.prompts.save(ALICE, "Été", "summer", "poem")
    with pytest.raises(NameTaken) as caught:
        await db.prompts.save(ALICE, "ÉTÉ", "other", "poem")
    assert "Été" in caught.value.user_message
    assert (await db.prompts.get(ALICE, "été")).text == "summer"  # type: ignore[union-attr]


async def test_replace_overwrites_but_keeps_identity(db: Database) -> None:
    first = await db.prompts.save(ALICE, "daily", "old", "poem", {"a": 1})
    second = await db.prompts.save(ALICE, "DAILY", "new", "story", {"b": 2}, replace=True)
    assert second.id == first.id
    assert second.created_at == first.created_at
    assert second.updated_at > first.updated_at
    assert (second.name, second.text, second.form, dict(second.options)) == (
        "DAILY",
        "new",
        "story",
        {"b": 2},
    )
    assert await db.prompts.count(ALICE) == 1


async def test_prompts_are_private(db: Database) -> None:
    await db.prompts.save(ALICE, "secret", "alice's idea", "poem")
    await db.prompts.save(BOB, "secret", "bob's idea", "poem")  # same name, other user: fine
    assert (await db.prompts.get(BOB, "secret")).text == "bob's idea"  # type: ignore[union-attr]
    assert [p.text for p in await db.prompts.list(ALICE)] == ["alice's idea"]
    assert await db.prompts.autocomplete(BOB, "sec") == ["secret"]
    assert await db.prompts.delete(BOB, "secret") is True
    assert await db.prompts.get(ALICE, "secret") is not None
    with pytest.raises(NotFound):
        await db.prompts.rename(BOB, "secret", "mine now")
    assert (await db.prompts.get(ALICE, "secret")).name == "secret"  # type: ignore[union-attr]


async def test_list_is_alphabetical_ignoring_case(db: Database) -> None:
    for name in ["beta", "Alpha", "gamma", "ALPHA 2"]:
        await db.prompts.save(ALICE, name, "text", "poem")
    assert [p.name for p in await db.prompts.list(ALICE)] == ["Alpha", "ALPHA 2", "beta", "gamma"]


async def test_delete(db: Database) -> None:
    await db.prompts.save(ALICE, "gone soon", "text", "poem")
    assert await db.prompts.delete(ALICE, "GONE SOON") is True
    assert await db.prompts.delete(ALICE, "gone soon") is False
    assert await db.prompts.count(ALICE) == 0


async def test_rename(db: Database) -> None:
    await db.prompts.save(ALICE, "draft", "text", "poem")
    await db.prompts.save(ALICE, "final", "text", "poem")
    renamed = await db.prompts.rename(ALICE, "DRAFT", "  Draft v2 ")
    assert renamed.name == "Draft v2"
    assert await db.prompts.get(ALICE, "draft") is None
    with pytest.raises(NameTaken):
        await db.prompts.rename(ALICE, "draft v2", "FINAL")
    # Changing only the case of a name is allowed.
    assert (await db.prompts.rename(ALICE, "final", "Final")).name == "Final"
    with pytest.raises(NotFound, match="nope"):
        await db.prompts.rename(ALICE, "nope", "anything")
    with pytest.raises(InvalidName):
        await db.prompts.rename(ALICE, "Final", "   ")


async def test_autocomplete_prefix_first_then_substring(db: Database) -> None:
    for name in ["sea shanty", "Seaside", "the sea", "forest", "Overseas"]:
        await db.prompts.save(ALICE, name, "text", "poem")
    assert await db.prompts.autocomplete(ALICE, "SEA") == [
        "sea shanty",
        "Seaside",
        "Overseas",
        "the sea",
    ]
    assert await db.prompts.autocomplete(ALICE, "") == [
        "forest",
        "Overseas",
        "sea shanty",
        "Seaside",
        "the sea",
    ]
    assert await db.prompts.autocomplete(ALICE, "%") == []  # no LIKE wildcards
    assert await db.prompts.autocomplete(ALICE, "_") == []
    assert await db.prompts.autocomplete(ALICE, "x" * 500) == []


async def test_autocomplete_caps_at_25(db: Database) -> None:
    for i in range(30):
        await db.prompts.save(ALICE, f"idea {i:02d}", "text", "poem")
    assert len(await db.prompts.autocomplete(ALICE, "idea")) == 25
    assert len(await db.prompts.autocomplete(ALICE, "idea", limit=100)) == 25
    assert await db.prompts.autocomplete(ALICE, "idea", limit=3) == [
        "idea 00",
        "idea 01",
        "idea 02",
    ]


async def test_per_user_limit(db: Database) -> None:
    async with db.transaction():
        for i in range(MAX_SAVED_PROMPTS):
            await db.prompts.save(ALICE, f"p{i}", "text", "poem")
    with pytest.raises(LimitReached) as caught:
        await db.prompts.save(ALICE, "one too many", "text", "poem")
    assert f"{MAX_SAVED_PROMPTS}" in caught.value.user_message
    # Overwriting an existing one doesn't need room; other users are unaffected.
    await db.prompts.save(ALICE, "P0", "new text", "poem", replace=True)
    await db.prompts.save(BOB, "p0", "text", "poem")
    assert await db.prompts.count(ALICE) == MAX_SAVED_PROMPTS
    await db.prompts.delete(ALICE, "p1")
    await db.prompts.save(ALICE, "one too many", "text", "poem")


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", InvalidName),
        (" \t\n ", InvalidName),
        ("x" * 65, TooLong),
        ("two\nlines", InvalidName),
        ("nul\x00name", InvalidName),
    ],
)
async def test_bad_names_are_refused(db: Database, name: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        await db.prompts.save(ALICE, name, "text", "poem")
    assert await db.prompts.count(ALICE) == 0


async def test_name_length_counts_after_stripping(db: Database) -> None:
    saved = await db.prompts.save(ALICE, "   " + "n" * 64 + "   ", "text", "poem")
    assert saved.name == "n" * 64


async def test_text_limit(db: Database) -> None:
    await db.prompts.save(ALICE, "max", "t" * MAX_PROMPT_CHARS, "poem")
    with pytest.raises(TooLong) as caught:
        await db.prompts.save(ALICE, "over", "t" * (MAX_PROMPT_CHARS + 1), "poem")
    assert "4,001" in caught.value.user_message and "4,000" in caught.value.user_message
