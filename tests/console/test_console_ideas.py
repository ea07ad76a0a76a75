"""/idea in the console: a prompt for the terminal, then write it, save it, or another."""

from __future__ import annotations

import io
import re

import pytest

from bot.community.ideas_service import NEW_CYCLE
from bot.config import GenerationSettings, ModelSettings
from bot.console.app import Console
from bot.generation.service import GenerationService
from bot.storage import CONSOLE_USER_ID, Database
from bot.writing.fairness import FairnessGate
from bot.writing.flow import WriteFlow
from bot.writing.pieces import WritingService


@pytest.fixture
async def console(tiny_gpt2_dir, tmp_path):
    generation = GenerationService(
        ModelSettings(name=str(tiny_gpt2_dir)),
        GenerationSettings(max_new_tokens_cap=32, max_prompt_tokens=96),
    )
    await generation.start()
    database = await Database.open(tmp_path / "inkwell.db")
    out = io.StringIO()
    flow = WriteFlow(
        WritingService(generation), database, FairnessGate(database), cooldown_seconds=0
    )
    try:
        yield Console(flow, database, out=out), out, database
    finally:
        await generation.close()
        await database.close()


def idea_numbers(text: str) -> list[int]:
    return [int(found) for found in re.findall(r"💡 Idea #(\d+)", text)]


async def test_idea_then_write_save_and_another(console):
    shell, out, database = console
    ok = await shell.run_lines(
        ["/idea genre:poetry theme:winter", "/idea write", "/idea save", "/idea another"]
    )
    text = out.getvalue()
    assert ok, text
    first, second = idea_numbers(text)
    idea = await database.ideas.get(first)
    assert idea is not None and idea.genre == "poetry" and idea.user_id == CONSOLE_USER_ID
    assert f"💡 Idea #{first} (Curated · poetry · poem" in text and idea.text in text
    assert "Written by AI" in text or "piece #" in text  # the piece was written and shown
    saved = await database.prompts.get(CONSOLE_USER_ID, f"idea-{first}")
    assert saved is not None and saved.form == "poem" and saved.text == idea.text
    other = await database.ideas.get(second)
    assert other is not None and other.pool == idea.pool and other.curated_key != idea.curated_key


async def test_the_terminal_is_one_channel_without_repeats(console):
    shell, out, database = console
    assert await shell.run_lines(["/idea theme:autumn"] * 3)
    first, second, third = [await database.ideas.get(n) for n in idea_numbers(out.getvalue())]
    assert first.curated_key != second.curated_key != third.curated_key
    assert out.getvalue().count(NEW_CYCLE) == 1


async def test_bad_options_are_explained(console):
    shell, out, _ = console
    assert not await shell.execute("/idea write")
    assert not await shell.execute("/idea genre:western")
    assert not await shell.execute("/idea source:maybe")
    text = out.getvalue()
    assert "Ask for an idea first" in text and "I know these genres" in text
    assert "source is one of: any, curated, ai" in text
    assert await shell.execute("/help") and "/idea genre:?" in out.getvalue()
