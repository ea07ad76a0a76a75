"""The game rules, move by move: every transition, and every move the rules refuse."""

from __future__ import annotations

import pytest

from bot.errors import InvalidRequest
from bot.forms import PoemForm
from bot.games import rules
from bot.games.events import (
    AIRetry,
    AISkipped,
    Cancelled,
    CandidateAdded,
    Finished,
    Left,
    LineAdded,
    RoundClosed,
    TimedOut,
    VoteCast,
)
from bot.games.model import AIWork, Game, Mode, Status, state_from_json, state_to_json
from bot.games.rules import GameError, GameOver, NotInGame, NotYourTurn, StaleMove

HOST, ALICE, BOB, CAROL = 1, 2, 3, 4
NOW = 1_000.0


def lobby(mode: Mode = Mode.ROUND_ROBIN, *, ai: bool = False, lines: int = 4, **kw) -> Game:
    settings = rules.settings_for(mode, PoemForm.FREE, lines, 60, ai, **kw)
    return rules.new_game(settings, HOST, "Hana")


def running(mode: Mode = Mode.ROUND_ROBIN, *, ai: bool = False, lines: int = 4, **kw) -> Game:
    game = lobby(mode, ai=ai, lines=lines, **kw)
    game, _ = rules.join(game, ALICE, "Alice")
    game, _ = rules.start(game, HOST, NOW)
    return game


# --- settings ------------------------------------------------------------------------------


def test_fixed_forms_take_their_length_and_repeat_by_stanzas():
    assert rules.settings_for(Mode.ROUND_ROBIN, PoemForm.HAIKU, None, 60, False).lines == 3
    assert rules.settings_for(Mode.ROUND_ROBIN, PoemForm.HAIKU, 9, 60, False).lines == 9
    assert rules.settings_for(Mode.ROUND_ROBIN, PoemForm.FREE, None, 60, False).lines == 8
    with pytest.raises(InvalidRequest, match="3, 6, 9"):
        rules.settings_for(Mode.ROUND_ROBIN, PoemForm.HAIKU, 4, 60, False)
    with pytest.raises(InvalidRequest, match="14, 28"):
        rules.settings_for(Mode.ROUND_ROBIN, PoemForm.SONNET, 10, 60, False)


@pytest.mark.parametrize(("lines", "timeout"), [(2, 60), (31, 60), (5, 29), (5, 86_401)])
def test_out_of_range_options_name_the_option(lines, timeout):
    with pytest.raises(InvalidRequest, match=r"lines|turn_timeout"):
        rules.settings_for(Mode.ROUND_ROBIN, PoemForm.FREE, lines, timeout, False)


def test_the_ai_takes_a_seat_except_in_vote_mode():
    assert [s.name for s in lobby(ai=True).seats] == ["Hana", "Inkwell"]
    assert [s.name for s in lobby(Mode.VOTE, ai=True).seats] == ["Hana"]


# --- lobby ---------------------------------------------------------------------------------


def test_join_twice_is_refused_and_counts_once():
    game, events = rules.join(lobby(), ALICE, "Alice")
    assert len(events) == 1
    with pytest.raises(GameError, match="already in"):
        rules.join(game, ALICE, "Alice")
    assert len(game.players) == 2


def test_only_the_host_starts_and_needs_a_partner_or_the_ai():
    game = lobby()
    with pytest.raises(GameError, match="one more player"):
        rules.start(game, HOST, NOW)
    game, _ = rules.join(game, ALICE, "Alice")
    with pytest.raises(GameError, match="Only the host"):
        rules.start(game, ALICE, NOW)
    started, _ = rules.start(game, HOST, NOW)
    assert started.status is Status.RUNNING
    assert started.current_seat is not None and started.current_seat.user_id == HOST
    assert started.deadline == NOW + 60
    duet, _ = rules.start(lobby(ai=True), HOST, NOW)
    assert duet.status is Status.RUNNING


def test_joining_a_running_game_is_refused():
    with pytest.raises(GameError, match="already started"):
        rules.join(running(), BOB, "Bob")


def test_host_cancels_the_lobby_but_cannot_leave_it():
    game, _ = rules.join(lobby(), ALICE, "Alice")
    with pytest.raises(GameError, match="press Cancel"):
        rules.leave(game, HOST, NOW)
    with pytest.raises(GameError, match="Only the host"):
        rules.cancel(game, ALICE)
    cancelled, events = rules.cancel(game, HOST)
    assert cancelled.status is Status.CANCELLED and isinstance(events[0], Cancelled)
    with pytest.raises(GameOver):
        rules.join(cancelled, BOB, "Bob")


def test_a_player_leaves_the_lobby():
    game, _ = rules.join(lobby(), ALICE, "Alice")
    game, events = rules.leave(game, ALICE, NOW)
    assert [s.user_id for s in game.seats] == [HOST] and isinstance(events[0], Left)
    with pytest.raises(NotInGame):
        rules.leave(game, ALICE, NOW)


# --- round robin ---------------------------------------------------------------------------


def test_turns_go_in_join_order_and_the_poem_finishes_at_its_length():
    game = running(lines=3)
    game, events = rules.add_line(game, HOST, "first line", NOW)
    assert isinstance(events[0], LineAdded)
    assert game.current_seat is not None and game.current_seat.user_id == ALICE
    with pytest.raises(NotYourTurn, match="Alice's turn"):
        rules.add_line(game, HOST, "again", NOW)
    game, _ = rules.add_line(game, ALICE, "second line", NOW)
    game, events = rules.add_line(game, HOST, "third line", NOW)
    assert game.status is Status.FINISHED
    assert isinstance(events[-1], Finished)
    assert game.title == "first line"
    assert [line.author_id for line in game.lines] == [HOST, ALICE, HOST]
    with pytest.raises(GameOver, match="over"):
        rules.add_line(game, ALICE, "fourth", NOW)


def test_a_line_from_someone_outside_the_game_is_refused():
    with pytest.raises(NotInGame):
        rules.add_line(running(), CAROL, "hello", NOW)


def test_moves_before_the_start_are_refused():
    with pytest.raises(GameError, match="hasn't started"):
        rules.add_line(lobby(), HOST, "early", NOW)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("   ", "empty"),
        ("x" * 201, "201 characters"),
        ("one\ntwo", "one line"),
        ("join discord.gg/abc", "Invite"),
    ],
)
def test_bad_lines_are_refused_kindly(text, reason):
    with pytest.raises(InvalidRequest, match=reason):
        rules.add_line(running(), HOST, text, NOW)


def test_a_line_is_tidied():
    game, _ = rules.add_line(running(), HOST, "  the\u200b moon\tlow  ", NOW)
    assert game.lines[0].text == "the moon low"


def test_a_stale_turn_is_refused_and_a_double_submit_says_it_is_in():
    game = running()
    turn = game.turn
    game, _ = rules.add_line(game, HOST, "mine", NOW, turn=turn)
    with pytest.raises(StaleMove, match="already in"):
        rules.add_line(game, HOST, "mine", NOW, turn=turn)
    with pytest.raises(StaleMove, match="turn is over"):
        rules.add_line(game, ALICE, "late", NOW, turn=turn)


def test_a_timeout_without_ai_skips_and_tells_the_player_once():
    game = running(lines=6)
    game, events = rules.timeout(game, game.turn, NOW + 60)
    assert events == (TimedOut(game.seats[0], first_time=True, filled_by_ai=False),)
    assert game.current_seat is not None and game.current_seat.user_id == ALICE
    assert game.deadline == NOW + 120
    game, _ = rules.add_line(game, ALICE, "alice writes", NOW)
    game, events = rules.timeout(game, game.turn, NOW + 200)
    assert isinstance(events[0], TimedOut) and not events[0].first_time
    assert HOST in game.warned
    # Playing again resets the warning: the host's next timeout is told again.
    game, _ = rules.add_line(game, ALICE, "alice again", NOW)
    game, _ = rules.add_line(game, HOST, "the host plays", NOW)
    assert HOST not in game.warned
    game, _ = rules.add_line(game, ALICE, "alice once more", NOW)
    game, events = rules.timeout(game, game.turn, NOW + 300)
    assert events[0].seat.user_id == HOST and events[0].first_time


def test_a_stale_timeout_does_nothing():
    game = running()
    moved, _ = rules.add_line(game, HOST, "quick", NOW)
    assert rules.timeout(moved, game.turn, NOW + 60) == (moved, ())


def test_everyone_away_for_a_whole_round_ends_the_game():
    game = running()
    game, _ = rules.add_line(game, HOST, "one", NOW)
    game, _ = rules.timeout(game, game.turn, NOW)
    game, events = rules.timeout(game, game.turn, NOW)
    assert game.status is Status.FINISHED
    assert isinstance(events[-1], Finished) and "away" in (events[-1].note or "")


def test_everyone_away_before_any_line_cancels():
    game = running()
    game, _ = rules.timeout(game, game.turn, NOW)
    game, events = rules.timeout(game, game.turn, NOW)
    assert game.status is Status.CANCELLED and isinstance(events[-1], Cancelled)


def test_with_ai_a_timed_out_line_is_filled_by_the_ai():
    game = running(ai=True)
    assert [s.name for s in game.seats] == ["Hana", "Inkwell", "Alice"]
    game, events = rules.timeout(game, game.turn, NOW)
    assert events[0].filled_by_ai
    assert game.ai_work is AIWork.LINE and game.filling_for == HOST
    with pytest.raises(NotYourTurn, match="Inkwell"):
        rules.add_line(game, HOST, "too late", NOW)
    game, _ = rules.ai_line(game, game.turn, "the AI fills in", NOW)
    assert game.lines[0].by_ai and game.lines[0].author_id is None
    # The turn passed to the next seat, which is the AI's own.
    assert game.current_seat is not None and game.current_seat.is_ai


def test_the_ai_takes_its_turn_then_suggests_a_title():
    game = running(ai=True, lines=3)
    game, _ = rules.add_line(game, HOST, "host line", NOW)
    assert game.ai_work is AIWork.LINE
    turn = game.turn
    game, _ = rules.ai_line(game, turn, "ai line", NOW)
    with pytest.raises(StaleMove):
        rules.ai_line(game, turn, "twice", NOW)
    game, _ = rules.add_line(game, ALICE, "alice line", NOW)
    assert game.status is Status.RUNNING and game.ai_work is AIWork.TITLE
    game, events = rules.ai_title(game, game.turn, '"Three Voices"')
    assert game.status is Status.FINISHED and game.title == "Three Voices"
    assert isinstance(events[-1], Finished)


def test_a_failed_ai_line_is_retried_once_then_skipped():
    game = running(ai=True)
    game, _ = rules.add_line(game, HOST, "host", NOW)
    turn = game.turn
    game, events = rules.ai_failed(game, turn, NOW)
    assert events == (AIRetry(),) and game.turn == turn
    game, events = rules.ai_failed(game, turn, NOW)
    assert events == (AISkipped("line"),)
    assert game.current_seat is not None and game.current_seat.user_id == ALICE
    assert len(game.lines) == 1


def test_a_failed_title_falls_back_to_the_first_words():
    game = running(ai=True, lines=3)
    game, _ = rules.add_line(game, HOST, "a long first line about the sea at night", NOW)
    game, _ = rules.ai_line(game, game.turn, "x", NOW)
    game, _ = rules.add_line(game, ALICE, "y", NOW)
    game, _ = rules.ai_failed(game, game.turn, NOW)
    game, _ = rules.ai_failed(game, game.turn, NOW)
    assert game.status is Status.FINISHED
    assert game.title == "a long first line about the sea at night"


def test_skip_and_end_need_the_host_or_a_moderator():
    game = running(lines=5)
    with pytest.raises(GameError, match="Manage Messages"):
        rules.skip(game, ALICE, NOW)
    skipped, _ = rules.skip(game, ALICE, NOW, moderator=True)
    assert skipped.current_seat is not None and skipped.current_seat.user_id == ALICE
    with pytest.raises(GameError, match="Manage Messages"):
        rules.end(game, ALICE)
    ended, events = rules.end(rules.add_line(game, HOST, "only line", NOW)[0], HOST)
    assert ended.status is Status.FINISHED and isinstance(events[-1], Finished)
    nothing, _ = rules.end(game, HOST)
    assert nothing.status is Status.CANCELLED


def test_leaving_on_your_turn_passes_it_on_and_the_host_role_moves():
    game, _ = rules.join(lobby(lines=6), ALICE, "Alice")
    game, _ = rules.join(game, BOB, "Bob")
    game, _ = rules.start(game, HOST, NOW)
    game, events = rules.leave(game, HOST, NOW)
    assert game.host_id == ALICE and events[0].new_host is not None
    assert game.current_seat is not None and game.current_seat.user_id == ALICE
    game, _ = rules.add_line(game, ALICE, "a", NOW)
    game, _ = rules.leave(game, ALICE, NOW)  # before the current seat: order holds
    assert game.current_seat is not None and game.current_seat.user_id == BOB
    game, events = rules.leave(game, BOB, NOW)
    assert game.status is Status.FINISHED and "Everyone left" in (events[-1].note or "")


# --- vote ----------------------------------------------------------------------------------


def test_a_voting_round_appends_the_winner():
    game = running(Mode.VOTE, ai=True, lines=3)
    assert game.round is not None and game.ai_work is AIWork.CANDIDATES
    game, events = rules.ai_candidates(game, game.turn, ["ai one", "ai two", "ai three"])
    assert [e.index for e in events if isinstance(e, CandidateAdded)] == [0, 1, 2]
    game, _ = rules.add_line(game, HOST, "host's own", NOW)
    with pytest.raises(GameError, match="already proposed"):
        rules.add_line(game, HOST, "another", NOW)
    with pytest.raises(GameError, match="own line"):
        rules.vote(game, HOST, 1, 3)
    game, events = rules.vote(game, HOST, 1, 1)
    assert events == (VoteCast(HOST, 1, changed=False),)
    assert rules.vote(game, HOST, 1, 1) == (game, ())  # a double click counts once
    game, events = rules.vote(game, HOST, 1, 2)
    assert events[0].changed and game.round is not None and game.round.votes == ((HOST, 2),)
    game, _ = rules.vote(game, ALICE, 1, 2)
    game, events = rules.close_round(game, 1, seed=7, now=NOW)
    closed = events[0]
    assert isinstance(closed, RoundClosed)
    assert closed.winner is not None and closed.winner.text == "ai three"
    assert closed.votes == (0, 0, 2, 0) and closed.seed is None
    assert game.lines[-1].by_ai and game.round is not None and game.round.number == 2


def test_a_tie_and_nobody_voting_are_broken_by_the_shown_seed():
    game = running(Mode.VOTE, ai=True)
    game, _ = rules.ai_candidates(game, game.turn, ["one", "two", "three"])
    first, events = rules.close_round(game, 1, seed=42, now=NOW)
    again, _ = rules.close_round(game, 1, seed=42, now=NOW)
    assert events[0].seed == 42 and first.lines == again.lines
    winners = {rules.close_round(game, 1, seed=s, now=NOW)[0].lines[-1].text for s in range(40)}
    assert winners == {"one", "two", "three"}


def test_votes_are_for_players_in_the_current_round_only():
    game = running(Mode.VOTE, ai=True)
    game, _ = rules.ai_candidates(game, game.turn, ["one", "two"])
    with pytest.raises(NotInGame):
        rules.vote(game, CAROL, 1, 0)
    with pytest.raises(StaleMove):
        rules.vote(game, HOST, 2, 0)
    with pytest.raises(GameError, match="no such line"):
        rules.vote(game, HOST, 1, 5)


def test_empty_rounds_end_the_game():
    game = running(Mode.VOTE, ai=False)
    game, events = rules.close_round(game, 1, seed=1, now=NOW)
    assert events[0] == RoundClosed(1, None, (), None) and game.status is Status.RUNNING
    game, events = rules.close_round(game, 2, seed=1, now=NOW)
    assert game.status is Status.CANCELLED


def test_late_ai_candidates_are_stale():
    game = running(Mode.VOTE, ai=True)
    turn = game.turn
    game, _ = rules.close_round(game, 1, seed=1, now=NOW)
    with pytest.raises(StaleMove):
        rules.ai_candidates(game, turn, ["late"])


# --- storage form --------------------------------------------------------------------------


def test_state_round_trips_through_json():
    game = running(Mode.VOTE, ai=True)
    game, _ = rules.ai_candidates(game, game.turn, ["one", "two"])
    game, _ = rules.vote(game, HOST, 1, 0)
    game, _ = rules.close_round(game, 1, seed=3, now=NOW)
    assert state_from_json(state_to_json(game), game.lines) == game


@pytest.mark.parametrize("mode", list(Mode))
def test_while_the_ai_chooses_a_title_moves_are_refused_kindly(mode):
    game = running(mode, ai=True, lines=3)
    # Fill the poem: in vote mode by closing rounds, else by turns.
    while game.ai_work is not AIWork.TITLE:
        if mode is Mode.VOTE:
            game, _ = rules.ai_candidates(game, game.turn, [f"line {len(game.lines)}"])
            game, _ = rules.close_round(game, game.round.number, seed=1, now=NOW)
        elif game.ai_work is AIWork.LINE:
            game, _ = rules.ai_line(game, game.turn, f"ai {len(game.lines)}", NOW)
        else:
            game, _ = rules.add_line(game, game.current_seat.user_id, f"p {len(game.lines)}", NOW)
    assert game.status is Status.RUNNING and game.round is None
    with pytest.raises(StaleMove, match="choosing its title"):
        rules.add_line(game, HOST, "late line", NOW)
    with pytest.raises(StaleMove, match="choosing its title"):
        rules.vote(game, HOST, 1, 0)
    left, _ = rules.leave(game, ALICE, NOW)
    assert left.seat_of(ALICE) is None and left.ai_work is AIWork.TITLE
    skipped, events = rules.skip(game, HOST, NOW)
    assert skipped.status is Status.FINISHED and isinstance(events[-1], Finished)
