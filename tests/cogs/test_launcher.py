"""The launcher's own path (python -m bot sync/run) against the fake Discord."""

from __future__ import annotations

import asyncio

import pytest

from bot.errors import InkwellError
from cogs.launcher import run_bot, sync_commands
from tests.cogs.conftest import CORE_COMMANDS, stack_settings


@pytest.fixture
def settings(tiny_gpt2_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("INKWELL_DISCORD_TOKEN", "fake.launcher.token")
    base = stack_settings(str(tiny_gpt2_dir))
    from dataclasses import replace

    from bot.config import StorageSettings

    return replace(base, storage=StorageSettings(database=str(tmp_path / "db.sqlite")))


async def test_sync_to_one_guild_publishes_every_command(settings, fake_discord):
    guild_id = fake_discord.guild.id
    names = await sync_commands(settings, guild_id)
    assert set(names) >= CORE_COMMANDS
    assert fake_discord.requests_to("PUT /applications/{app_id}/guilds/{guild_id}/commands")


async def test_run_serves_until_stopped(settings, fake_discord):
    task = asyncio.create_task(run_bot(settings))
    await fake_discord.wait_for(lambda: fake_discord.gateway.identify_count > 0, timeout=30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_missing_token_is_explained(settings, monkeypatch):
    monkeypatch.delenv("INKWELL_DISCORD_TOKEN")
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    with pytest.raises(InkwellError, match="INKWELL_DISCORD_TOKEN"):
        await run_bot(settings)
