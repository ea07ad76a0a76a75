"""Content safety in guild settings: the rating and the guild's own blocked words, kept in
memory and read back after a restart."""

from __future__ import annotations

import pytest

from bot.storage import Database
from bot.storage.errors import StorageError
from tests.storage.factories import TickingClock

GUILD, OTHER = 900, 901


async def test_rating_defaults_to_standard_and_survives_a_restart(db: Database, db_target) -> None:
    assert (await db.guild_settings.get(GUILD)).content_rating == "standard"
    await db.guild_settings.update(GUILD, temperature=0.5)
    changed = await db.guild_settings.update(GUILD, content_rating="strict")
    assert changed.content_rating == "strict" and changed.temperature == 0.5
    await db.guild_settings.add_blocked_word(GUILD, "moonlight", limit=5)
    reopened = await Database.open(db_target, clock=TickingClock())
    try:
        settings = reopened.guild_settings.cached(GUILD)
        assert settings.content_rating == "strict" and settings.temperature == 0.5
        assert settings.blocked_words == frozenset({"moonlight"})
        assert reopened.guild_settings.cached(OTHER).content_rating == "standard"
    finally:
        await reopened.close()


async def test_an_unknown_rating_is_refused(db: Database) -> None:
    with pytest.raises(ValueError, match="content_rating"):
        await db.guild_settings.update(GUILD, content_rating="lax")
    assert (await db.guild_settings.get(GUILD)).content_rating == "standard"


async def test_blocked_words_add_once_remove_and_stay_within_the_limit(db: Database) -> None:
    repo = db.guild_settings
    assert await repo.add_blocked_word(GUILD, "moon", limit=2)
    assert not await repo.add_blocked_word(GUILD, "moon", limit=2)  # already there
    assert await repo.add_blocked_word(GUILD, "tide", limit=2)
    with pytest.raises(StorageError, match="already blocks 2 words"):
        await repo.add_blocked_word(GUILD, "gull", limit=2)
    assert repo.cached(GUILD).blocked_words == frozenset({"moon", "tide"})
    assert repo.cached(OTHER).blocked_words == frozenset()  # per guild
    assert await repo.remove_blocked_word(GUILD, "moon")
    assert not await repo.remove_blocked_word(GUILD, "moon")
    assert await repo.add_blocked_word(GUILD, "gull", limit=2)  # room again
    assert repo.cached(GUILD).blocked_words == frozenset({"tide", "gull"})


async def test_reset_forgets_the_rating_and_the_words(db: Database) -> None:
    await db.guild_settings.update(GUILD, content_rating="off")
    await db.guild_settings.add_blocked_word(GUILD, "moon", limit=5)
    await db.guild_settings.reset(GUILD)
    settings = await db.guild_settings.get(GUILD)
    assert settings.content_rating == "standard" and settings.blocked_words == frozenset()
