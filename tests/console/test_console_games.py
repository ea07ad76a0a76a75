"""Poem games in the console: named seats at one terminal, the AI at the table, the anthology."""

from __future__ import annotations

import io

import pytest

from bot.config import GenerationSettings, ModelSettings
from bot.console.app import Console
from bot.console.games import console_games, seat_id
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
        yield (
            Console(flow, database, out=out, games=console_games(flow, database, out)),
            out,
            database,
        )
    finally:
        await generation.close()
        await database.close()


async def test_a_round_robin_game_with_named_seats_and_the_ai(console):
    shell, out, database = console
    script = [
        "/poemgame start form:haiku ai:yes title:Harbour",
        "/as alice /poemgame join",
        "/as alice /poemgame join",
        "/as alice /poemgame begin",
        "/poemgame begin",
        "/as alice /poemgame add line:out of turn",
        "/poemgame add line:the harbour lamps are low",
        "/as alice /poemgame add line:and the gulls go home",
        "/anthology list",
    ]
    for line in script:
        await shell.execute(line)
    text = out.getvalue()
    assert "already in this game" in text and "Only the host can start" in text
    assert "It's console's turn." in text  # alice tried to write out of turn
    assert "🖋 Your turn." in text and "alice's turn" in text.lower()
    assert "1. the harbour lamps are low   [console]" in text
    assert "[Inkwell (AI)]" in text  # the AI wrote line 2 through the clock, at once
    assert "3. and the gulls go home   [alice]" in text
    assert "📜 Harbour  (poem #" in text and "#1 Harbour — by console, Inkwell (AI), alice" in text
    poems = await database.games.anthology(None, limit=5)
    assert [line.author_id for line in poems[0].lines] == [0, None, seat_id("alice")]


async def test_exquisite_corpse_shows_only_the_previous_line(console):
    shell, out, _ = console
    for line in [
        "/poemgame start mode:corpse lines:3 ai:no",
        "/as bob /poemgame join",
        "/poemgame begin",
        "/poemgame add line:a secret first line",
        "/as bob /poemgame add line:a second thought",
    ]:
        await shell.execute(line)
    text = out.getvalue()
    assert "✍ console wrote line 1." in text and "✍ bob wrote line 2." in text
    assert "The line before: “a second thought”" in text
    # The first line is only ever shown to the next writer, never listed.
    assert "1. a secret first line" not in text


async def test_bad_console_game_input_is_refused_kindly(console):
    shell, out, _ = console
    assert not await shell.execute("/as /poemgame join")
    assert not await shell.execute("/poemgame start mode:chess")
    assert not await shell.execute("/poemgame start form:haiku lines:4")
    assert not await shell.execute("/poemgame add line:hello")
    text = out.getvalue()
    assert "Use /as NAME /poemgame" in text
    assert "mode is round-robin, corpse or vote" in text
    assert "3 lines a stanza" in text
    assert "no poem game in this channel" in text
