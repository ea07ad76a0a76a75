"""Game lines, titles and names on hostile text, and whole games played with such lines by
arbitrary players: only domain errors, and what is kept is always one clean, short line."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import InkwellError, InvalidRequest
from bot.forms import PoemForm
from bot.games import rules
from bot.games.lines import (
    MAX_LINE_CHARS,
    MAX_SEAT_NAME_CHARS,
    MAX_TITLE_CHARS,
    clean_ai_line,
    clean_line,
    clean_title,
    seat_name,
)
from bot.games.model import Game, Mode
from bot.links import contains_invite
from tests.games.test_rule_properties import NOW, USERS, check_invariants
from tests.strategies import hostile_text, scaled

texts = st.one_of(
    hostile_text(max_size=12),
    st.text(st.sampled_from("ab \n\u200b\u0301e"), max_size=MAX_LINE_CHARS + 10),
    st.just("word " * 41),
    st.sampled_from(["discord\u200b.gg/abc", "DISCORD.GG/x", "e\u200b\u0301", "\r\n", " \t "]),
)


def assert_clean(line: str, limit: int = MAX_LINE_CHARS) -> None:
    """One visible-length-bounded line, with no hidden characters and no invite."""
    assert line and line == line.strip()
    assert len(line) <= limit
    assert "\n" not in line and "\r" not in line
    assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in line)
    assert not contains_invite(line)


@given(text=texts)
def test_a_players_line_is_one_clean_line_or_refused_kindly(text: str) -> None:
    try:
        line = clean_line(text)
    except InvalidRequest as error:
        assert error.user_message
        return
    assert_clean(line)
    assert clean_line(line) == line  # a kept line is kept as it is when read back


@given(text=texts)
def test_the_ais_line_is_always_one_a_player_could_have_written(text: str) -> None:
    line = clean_ai_line(text)
    if line is not None:
        assert_clean(line)
        assert clean_line(line) == line  # rules.ai_line cleans it again: it must not refuse


@given(text=texts)
def test_titles_and_seat_names_are_single_short_lines(text: str) -> None:
    try:
        title = clean_title(text)
    except InvalidRequest as error:
        assert "Invite" in error.user_message
    else:
        assert "\n" not in title and len(title) <= MAX_TITLE_CHARS + 1  # + the "…"
        assert not contains_invite(title)
    name = seat_name(text)
    assert name and "\n" not in name and len(name) <= MAX_SEAT_NAME_CHARS


moves = st.one_of(
    st.tuples(st.just("join"), st.sampled_from(USERS), texts),
    st.tuples(st.just("start"), st.sampled_from(USERS), st.just("")),
    *[st.tuples(st.just("line"), st.sampled_from(USERS), texts)] * 3,
    *[st.tuples(st.just("turn"), st.just(0), texts)] * 4,  # whoever's turn it is writes
    st.tuples(st.just("propose"), st.sampled_from(USERS), texts),
    st.tuples(st.just("ai"), st.just(0), texts),
    st.tuples(st.just("close"), st.integers(0, 3), st.just("")),
    st.tuples(st.just("leave"), st.sampled_from(USERS), st.just("")),
)


def play(game: Game, move: tuple[str, int, str], step: int) -> Game:
    kind, who, text = move
    now = NOW + step
    if kind == "join":
        return rules.join(game, who, text)[0]
    if kind == "start":
        return rules.start(game, who, now)[0]
    if kind == "leave":
        return rules.leave(game, who, now)[0]
    if kind == "close":
        return rules.close_round(game, game.round.number if game.round else 1, seed=who, now=now)[0]
    if kind == "ai":
        line = clean_ai_line(text)
        return game if line is None else rules.ai_line(game, game.turn, line, now)[0]
    if kind == "turn":
        seat = game.current_seat
        who = seat.user_id if seat is not None and seat.user_id is not None else 1
    return rules.add_line(game, who, text, now, turn=game.turn if kind == "propose" else None)[0]


@settings(max_examples=scaled(80))
@given(
    mode=st.sampled_from(list(Mode)),
    ai=st.booleans(),
    host_name=texts,
    title=st.one_of(st.none(), texts),
    script=st.lists(moves, min_size=5, max_size=40),
)
def test_games_played_with_any_text_by_anyone_keep_their_invariants(
    mode: Mode, ai: bool, host_name: str, title: str | None, script: list[tuple[str, int, str]]
) -> None:
    try:
        chosen = rules.settings_for(mode, PoemForm.FREE, 4, 60, ai, title)
    except InvalidRequest:
        chosen = rules.settings_for(mode, PoemForm.FREE, 4, 60, ai)
    game = rules.new_game(chosen, 1, host_name)
    for step, move in enumerate([("join", 2, "guest"), ("start", 1, ""), *script]):
        try:
            after = play(game, move, step)
        except InkwellError:
            continue  # refused with a message; the game is unchanged
        check_invariants(game, after, move)
        game = after
        for line in game.lines:
            assert_clean(line.text)
        for seat in game.seats:
            assert seat.name and "\n" not in seat.name
