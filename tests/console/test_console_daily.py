"""The prompt of the day in the console: one prompt per day, the same all day, archived."""

from __future__ import annotations

import io

import pytest

from bot.config import GenerationSettings, ModelSettings
from bot.console.app import Console
from bot.generation.service import GenerationService
from bot.storage import Database
from bot.writing.fairness import FairnessGate
from bot.writing.flow import WriteFlow
from bot.writing.pieces import WritingService


@pytest.fixture
async def console(tiny_gpt2_dir, tmp_path):
    generation = GenerationService(
        ModelSettings(name=str(tiny_gpt2_dir)),
        GenerationSettings(max_new_tokens_cap=32, max_prompt_tokens=256),
    )
    await generation.start()
    database = await Database.open(tmp_path / "inkwell.db")
    out = io.StringIO()
    flow = WriteFlow(
        WritingService(generation), database, FairnessGate(database), cooldown_seconds=0
    )
    try:
        yield Console(flow, database, out=out), out
    finally:
        await generation.close()
        await database.close()


async def test_daily_today_is_the_same_prompt_all_day_and_archived(console):
    shell, out = console
    assert await shell.execute("/daily today")
    assert await shell.execute("/daily today")
    assert await shell.execute("/daily archive")
    assert not await shell.execute("/daily tomorrow")
    lines = out.getvalue().splitlines()
    shown = [line for line in lines if line.startswith("🌅 Prompt of the day")]
    assert len(shown) == 2 and shown[0] == shown[1]
    prompt = shown[0].split("): ", 1)[1]
    assert any(line.endswith(prompt) and not line.startswith("🌅") for line in lines)
    assert "Try /daily today or /daily archive." in out.getvalue()
