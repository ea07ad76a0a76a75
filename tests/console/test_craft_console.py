"""/check and /score in the console, with a real tiny model."""

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
        GenerationSettings(max_new_tokens_cap=48, max_prompt_tokens=96),
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


async def test_check_prints_counts_problems_and_a_suggestion(console):
    shell, out = console
    ok = await shell.execute(
        "/check form:haiku Grey waves fold and break / salt wind combs the dunes / one gull"
    )
    text = out.getvalue()
    assert ok, text
    assert "**Haiku check: 5·5·2**" in text
    assert "Line 2 has 5 syllables; it needs 7." in text
    assert "Suggestion for line 3" in text  # the line furthest from its count


async def test_check_of_a_limerick_that_keeps_its_form(console):
    shell, out = console
    poem = (
        "There once was a cat from Peru / Who dreamed he was eating a shoe / He woke with a "
        "fright / In the middle of night / And found that his dream had come true"
    )
    assert await shell.execute(f"/check form:limerick {poem}")
    assert "AABBA ✓" in out.getvalue() and "Suggestion" not in out.getvalue()


async def test_unknown_form_and_empty_poem_are_refused(console):
    shell, out = console
    assert not await shell.execute("/check form:villanelle a / b")
    assert "/check knows these forms" in out.getvalue()
    assert not await shell.execute("/check form:haiku")
    assert "no poem to check" in out.getvalue()


async def test_score_prints_the_perplexity_in_plain_words(console):
    shell, out = console
    assert await shell.execute("/score The quiet poem waits beside the river.")
    text = out.getvalue()
    assert "**Score: " in text and "Most surprising words:" in text
    assert "lower means the model expected the words more" in text


async def test_help_lists_the_craft_commands(console):
    shell, out = console
    assert await shell.execute("/help")
    assert "/check form:" in out.getvalue() and "/score text" in out.getvalue()
