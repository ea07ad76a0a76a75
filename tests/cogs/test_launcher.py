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


async def test_the_configured_caps_on_saved_items_hold_in_the_running_bot(settings, fake_discord):
    from dataclasses import replace

    from bot.config import LimitsSettings

    capped = replace(settings, limits=LimitsSettings(prompts_per_user=1, favorites_per_user=1))
    await sync_commands(capped, None)
    task = asyncio.create_task(run_bot(capped))
    try:
        await fake_discord.wait_for(lambda: fake_discord.gateway.identify_count > 0, timeout=30)
        await asyncio.sleep(0.5)  # READY, then the guild
        first = await fake_discord.slash(
            "prompts save", {"name": "one", "text": "a tide", "form": "continue"}
        )
        assert "Saved" in (await first.wait_private_answer(timeout=15))["content"]
        second = await fake_discord.slash(
            "prompts save", {"name": "two", "text": "a moon", "form": "continue"}
        )
        refused = (await second.wait_private_answer(timeout=15))["content"]
        assert "limit of 1 saved prompts" in refused and "/prompts delete" in refused
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
