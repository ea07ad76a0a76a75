"""GuildSettingsRepository: defaults, partial updates, channel allow-list."""

from __future__ import annotations

import pytest

from bot.storage import Database, GuildSettings

GUILD, OTHER = 900, 901


async def test_defaults_when_never_set(db: Database) -> None:
    settings = await db.guild_settings.get(GUILD)
    assert settings == GuildSettings(GUILD)
    assert settings.allowed_channel_ids == frozenset()
    assert settings.temperature is None and settings.cooldown_seconds is None
    assert settings.allows_channel(12345)


async def test_update_changes_only_what_is_named(db: Database) -> None:
    await db.guild_settings.update(GUILD, temperature=0.7, top_k=40)
    after = await db.guild_settings.update(GUILD, cooldown_seconds=30)
    assert (after.temperature, after.top_k, after.cooldown_seconds) == (0.7, 40, 30)
    assert await db.guild_settings.get(GUILD) == after
    assert await db.guild_settings.get(OTHER) == GuildSettings(OTHER)


async def test_none_resets_to_bot_default(db: Database) -> None:
    await db.guild_settings.update(GUILD, temperature=1.1, max_new_tokens=300, top_p=0.9)
    await db.guild_settings.update(GUILD, temperature=None)
    settings = await db.guild_settings.get(GUILD)
    assert settings.temperature is None
    assert (settings.max_new_tokens, settings.top_p) == (300, 0.9)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"temperature": -0.1}, ValueError),
        ({"temperature": float("nan")}, ValueError),
        ({"max_new_tokens": 0}, ValueError),
        ({"top_k": 2.5}, TypeError),
        ({"cooldown_seconds": True}, TypeError),
        ({"cooldown_seconds": -1}, ValueError),
    ],
)
async def test_nonsense_values_are_refused(db: Database, changes: dict, error: type) -> None:
    with pytest.raises(error):
        await db.guild_settings.update(GUILD, **changes)
    assert await db.guild_settings.get(GUILD) == GuildSettings(GUILD)


async def test_channel_allow_list(db: Database) -> None:
    assert await db.guild_settings.allow_channel(GUILD, 1) is True
    assert await db.guild_settings.allow_channel(GUILD, 1) is False
    assert await db.guild_settings.allow_channel(GUILD, 2) is True
    await db.guild_settings.allow_channel(OTHER, 3)
    settings = await db.guild_settings.get(GUILD)
    assert settings.allowed_channel_ids == frozenset({1, 2})
    assert settings.allows_channel(1) and not settings.allows_channel(3)

    assert await db.guild_settings.disallow_channel(GUILD, 1) is True
    assert await db.guild_settings.disallow_channel(GUILD, 1) is False
    assert await db.guild_settings.clear_channels(GUILD) == 1
    assert (await db.guild_settings.get(GUILD)).allows_channel(3)
    assert (await db.guild_settings.get(OTHER)).allowed_channel_ids == frozenset({3})


async def test_channels_survive_setting_updates_and_reset_forgets_all(db: Database) -> None:
    await db.guild_settings.allow_channel(GUILD, 1)
    settings = await db.guild_settings.update(GUILD, temperature=0.5)
    assert settings.allowed_channel_ids == frozenset({1})
    await db.guild_settings.reset(GUILD)
    assert await db.guild_settings.get(GUILD) == GuildSettings(GUILD)
