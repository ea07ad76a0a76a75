"""Any text users type comes back byte-for-byte, and SQL in it is just text."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.storage import Database, InvalidText
from tests.storage.factories import add_piece

TRICKY = [
    "👩‍👩‍👧‍👦 family, 🏳️‍🌈 flag, 🇯🇵",  # ZWJ sequences and regional indicators
    "שלום עולם \u202eoverride\u202c مرحبا",  # RTL text and bidi controls
    "zero\u200bwidth\u200c\u200d\ufeffjoiners",
    "nul\x00inside",
    "e\u0301 vs \u00e9, Å vs \u212b",  # combining vs precomposed: must not be normalised
    "\U0001d518\U0001d52b\U0001d526 \U00010348 astral plane",  # Fraktur, Gothic
    "line\r\nbreaks\rand\ttabs",
    "'; DROP TABLE favorites; --",
    "Robert'); DELETE FROM generations WHERE ('1'='1",
    "%s %d {0} {name} ? ?1 :name @x $y \\ \\' \"",
    "%_% LIKE wildcards _",
]

SQL_NAMES = ["'; DROP TABLE saved_prompts; --", "x' OR '1'='1", "?", "%", "a_b"]


@pytest.mark.parametrize("text", TRICKY)
async def test_generation_fields_round_trip(db: Database, text: str) -> None:
    if "\x00" in text and db.dialect == "postgresql":
        # PostgreSQL's text can't hold NUL: refused kindly, and nothing is stored.
        with pytest.raises(InvalidText, match="NUL"):
            await add_piece(db, text=text)
        assert await db.generations.count_for_user(111) == 0
        return
    piece = await add_piece(
        db,
        user_name=text,
        prompt=text,
        text=text,
        genre=text,
        params={"temperature": 0.5, "note": text},
    )
    fetched = await db.generations.get(piece.id)
    assert fetched == piece
    assert fetched.text == text and fetched.params["note"] == text


@pytest.mark.parametrize("text", TRICKY)
async def test_saved_prompt_text_round_trips(db: Database, text: str) -> None:
    if "\x00" in text and db.dialect == "postgresql":
        with pytest.raises(InvalidText, match="NUL"):
            await db.prompts.save(1, "tricky", text, "poem")
        return
    await db.prompts.save(1, "tricky", text, "poem", {"extra": text})
    fetched = await db.prompts.get(1, "tricky")
    assert fetched is not None
    assert fetched.text == text and fetched.options["extra"] == text


async def test_names_are_stored_literally(db: Database) -> None:
    for name in SQL_NAMES:
        await db.prompts.save(1, name, f"text for {name}", "poem")
    assert sorted(p.name for p in await db.prompts.list(1)) == sorted(SQL_NAMES)
    for name in SQL_NAMES:
        fetched = await db.prompts.get(1, name)
        assert fetched is not None and fetched.text == f"text for {name}"
    assert await db.prompts.autocomplete(1, "'") == [SQL_NAMES[0], SQL_NAMES[1]]
    assert await db.prompts.delete(1, "%") is True
    assert await db.prompts.count(1) == len(SQL_NAMES) - 1
    assert await db.integrity_check() == "ok"


async def test_emoji_and_rtl_names_and_unicode_case_folding(db: Database) -> None:
    for name in ["🌊 Sea", "שיר", "Straße", "ΣΊΣΥΦΟΣ"]:
        await db.prompts.save(1, name, "text", "poem")
    assert (await db.prompts.get(1, "🌊 sea")).name == "🌊 Sea"  # type: ignore[union-attr]
    assert (await db.prompts.get(1, "STRASSE")).name == "Straße"  # type: ignore[union-attr]
    assert (await db.prompts.get(1, "σίσυφος")).name == "ΣΊΣΥΦΟΣ"  # type: ignore[union-attr]
    assert await db.prompts.autocomplete(1, "שי") == ["שיר"]


def test_any_text_round_trips(tmp_path: Path) -> None:
    """Property test over arbitrary Unicode (one database, many examples)."""
    loop = asyncio.new_event_loop()
    db = loop.run_until_complete(Database.open(tmp_path / "prop.db"))
    users = itertools.count(1)
    try:

        @settings(
            max_examples=150,
            deadline=None,
            database=None,  # no .hypothesis/ example store in the repo
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(
            text=st.text(max_size=400),
            name=st.text(min_size=1, max_size=64).filter(
                lambda s: s.strip() and s == s.strip() and s.isprintable()
            ),
        )
        def check(text: str, name: str) -> None:
            async def round_trip() -> None:
                user = next(users)
                piece = await add_piece(db, user_id=user, text=text, prompt=text)
                assert await db.generations.get(piece.id) == piece
                saved = await db.prompts.save(user, name, text, "poem", {"k": text})
                fetched = await db.prompts.get(user, name)
                assert fetched == saved
                assert (fetched.name, fetched.text) == (name, text)
                assert name in await db.prompts.autocomplete(user, name)

            loop.run_until_complete(round_trip())

        check()
    finally:
        loop.run_until_complete(db.close())
        loop.close()


async def test_tables_survive_injection_attempts(db: Database) -> None:
    texts = [text for text in TRICKY if "\x00" not in text or db.dialect == "sqlite"]
    for text in texts:
        piece = await add_piece(db, text=text)
        await db.favorites.add(1, piece.id)
    tables = {
        "sqlite": "SELECT name FROM sqlite_master",
        "postgresql": "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'",
    }
    names = {row["name"] for row in await db._executor.fetch_all(tables[db.dialect])}
    assert {"generations", "favorites", "saved_prompts"} <= names
    assert await db.favorites.count(1) == len(texts)
