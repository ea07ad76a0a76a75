"""GuildSettingsRepository: defaults, partial updates, channel allow-list."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time

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


@pytest.mark.sqlite_only  # SQLite's file lock
async def test_settings_are_read_from_memory_while_another_process_holds_the_write_lock(
    db: Database,
) -> None:
    await db.guild_settings.update(7, cooldown_seconds=30)
    await db.guild_settings.allow_channel(7, 70)
    # Another program holds a long write transaction on the same file.
    other = sqlite3.connect(db.path, timeout=0)
    queued = None
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE guild_settings SET cooldown_seconds = 99")
        # Our own write now waits on that lock and holds the connection meanwhile.
        queued = asyncio.create_task(db.guild_settings.update(8, temperature=0.3))
        await asyncio.sleep(0.2)
        started = time.perf_counter()
        settings = await asyncio.wait_for(db.guild_settings.get(7), timeout=1)
        unknown = await asyncio.wait_for(db.guild_settings.get(8), timeout=1)
        assert time.perf_counter() - started < 0.5
        assert settings.cooldown_seconds == 30 and settings.allowed_channel_ids == {70}
        assert unknown == db.guild_settings.cached(8)
        assert unknown.cooldown_seconds is None and not unknown.allowed_channel_ids
        assert not queued.done()
    finally:
        other.rollback()
        other.close()
    if queued is not None:
        assert (await queued).temperature == 0.3
    assert db.guild_settings.cached(8).temperature == 0.3


async def test_the_cache_follows_every_change_and_a_reopened_database(db_path) -> None:
    db = await Database.open(db_path)
    try:
        await db.guild_settings.update(7, temperature=0.5)
        await db.guild_settings.allow_channel(7, 70)
        assert db.guild_settings.cached(7).temperature == 0.5
        assert db.guild_settings.cached(7).allowed_channel_ids == {70}
        await db.guild_settings.disallow_channel(7, 70)
        assert not db.guild_settings.cached(7).allowed_channel_ids
        await db.guild_settings.allow_channel(9, 90)  # channels only, no settings row
    finally:
        await db.close()
    reopened = await Database.open(db_path)
    try:
        assert reopened.guild_settings.cached(7).temperature == 0.5
        assert reopened.guild_settings.cached(9).allowed_channel_ids == {90}
        await reopened.guild_settings.reset(7)
        assert reopened.guild_settings.cached(7).temperature is None
    finally:
        await reopened.close()


async def test_a_change_rolled_back_never_reaches_the_cache(db: Database) -> None:
    await db.guild_settings.update(GUILD, temperature=0.5)
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await db.guild_settings.update(GUILD, temperature=1.5)
            await db.guild_settings.allow_channel(GUILD, 1)
            await db.guild_settings.reset(OTHER)
            raise RuntimeError("the rest of the action failed")
    assert db.guild_settings.cached(GUILD) == GuildSettings(GUILD, temperature=0.5)


async def test_a_savepoint_rolled_back_drops_only_its_own_changes(db: Database) -> None:
    async with db.transaction():
        await db.guild_settings.update(GUILD, temperature=0.5)
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await db.guild_settings.update(OTHER, temperature=1.5)
                raise RuntimeError("undo this part")
        # Not visible before the whole transaction commits.
        assert db.guild_settings.cached(GUILD).temperature is None
    assert db.guild_settings.cached(GUILD).temperature == 0.5
    assert db.guild_settings.cached(OTHER) == GuildSettings(OTHER)


@pytest.mark.sqlite_only  # reads the file with sqlite3
async def test_the_cache_matches_the_file_wherever_a_change_is_cancelled(db: Database) -> None:
    """A change cancelled at any point (even with COMMIT already queued, which the worker
    thread runs anyway) leaves the cache equal to what the file holds."""
    started = time.perf_counter()
    await db.guild_settings.update(999, top_k=1)
    duration = time.perf_counter() - started
    for step in range(60):
        guild = 1000 + step
        change = asyncio.create_task(db.guild_settings.update(guild, top_k=step + 1))
        await asyncio.sleep(duration * step / 50)
        change.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await change
        with contextlib.closing(sqlite3.connect(db.path)) as reader:
            stored = reader.execute(
                "SELECT top_k FROM guild_settings WHERE guild_id = ?", (guild,)
            ).fetchone()
        assert db.guild_settings.cached(guild).top_k == (None if stored is None else stored[0])
