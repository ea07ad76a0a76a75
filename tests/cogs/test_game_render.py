"""How games look on Discord, at the sizes Discord refuses: a 30-line poem of long lines, a
full table, a round with every candidate."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import discord

from bot.forms import PoemForm
from bot.games import rules
from bot.games.model import AI_CANDIDATES, MAX_PLAYERS, Candidate, Mode, VoteRound
from bot.games.service import StoredGame
from bot.storage import ANTHOLOGY_USER_ID, GameLine, GenerationRecord
from cogs.game_buttons import board_view
from cogs.game_render import board_embed, embed_messages, lobby_embed, poem_embeds

LONG_NAME = "N" * 60  # with a two-digit suffix, under the 64 a seat keeps


def stored(game) -> StoredGame:
    return StoredGame(1, 10, 20, None, 1, None, None, game)


def within_limits(embed: discord.Embed) -> None:
    assert len(embed.description or "") <= 4096
    assert len(embed.fields) <= 25
    for field in embed.fields:
        assert len(field.name or "") <= 256 and len(field.value or "") <= 1024
    assert len(embed) <= 6000


def test_a_thirty_line_poem_of_long_lines_is_shown_whole_within_discords_limits():
    lines = tuple(
        GameLine(i, 1000 + i, f"{LONG_NAME}{i}", f"line {i:02d} " + "w" * 190, False)
        for i in range(30)
    )
    game = rules.new_game(
        rules.settings_for(Mode.ROUND_ROBIN, PoemForm.FREE, 30, 60, False, "Long"), 1, "Hana"
    )
    poem = GenerationRecord(
        7,
        ANTHOLOGY_USER_ID,
        "Poem game",
        10,
        20,
        "poem",
        "free",
        None,
        "Long",
        {},
        0,
        "people",
        "\n".join(line.text for line in lines),
        None,
        datetime.now(UTC),
    )
    messages = embed_messages(poem_embeds(game, poem, lines))
    assert len(messages) >= 2
    shown = ""
    for embeds in messages:
        assert len(embeds) <= 10 and sum(len(e) for e in embeds) <= 6000
        for embed in embeds:
            within_limits(embed)
            shown += (embed.description or "") + "\n"
    assert [f"line {i:02d}" in shown for i in range(30)] == [True] * 30
    authors = " ".join(field.value or "" for field in messages[-1][-1].fields)
    assert all(f"{LONG_NAME}{i}" in authors for i in range(30))


def test_a_full_table_and_a_full_round_fit_one_message():
    settings = rules.settings_for(Mode.VOTE, PoemForm.FREE, 30, 60, True)
    game = rules.new_game(settings, 1, LONG_NAME)
    for user in range(2, MAX_PLAYERS + 1):
        game, _ = rules.join(game, user, f"{LONG_NAME}{user}")
    within_limits(lobby_embed(stored(game)))
    names = " ".join(field.value or "" for field in lobby_embed(stored(game)).fields)
    assert f"{LONG_NAME}{MAX_PLAYERS}" in names
    game, _ = rules.start(game, 1, 0.0)
    lines = tuple(rules.Line(2, "x", "l" * 200, False) for _ in range(29))
    candidates = tuple(
        Candidate(None if i < AI_CANDIDATES else i, "c", f"candidate {i} " + "c" * 180)
        for i in range(AI_CANDIDATES + MAX_PLAYERS)
    )
    game = dataclasses.replace(game, lines=lines, round=VoteRound(1, candidates))
    embed = board_embed(stored(game))
    within_limits(embed)
    listed = " ".join(field.value or "" for field in embed.fields)
    assert all(f"**{i + 1}.** candidate {i} " in listed for i in range(len(candidates)))
    view = board_view(stored(game))
    assert view is not None and len(view.children) <= 25
