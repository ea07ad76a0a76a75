"""No sequence of moves breaks the game's invariants (hypothesis drives random tables)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.errors import InkwellError
from bot.forms import PoemForm
from bot.games import rules
from bot.games.model import AIWork, Game, Mode, Status, state_from_json, state_to_json

USERS = (1, 2, 3, 4)
NOW = 5_000.0

moves = st.one_of(
    st.tuples(st.just("join"), st.sampled_from(USERS)),
    st.tuples(st.just("leave"), st.sampled_from(USERS)),
    st.tuples(st.just("start"), st.sampled_from(USERS)),
    st.tuples(st.just("cancel"), st.sampled_from(USERS)),
    st.tuples(st.just("line"), st.sampled_from(USERS), st.booleans()),
    # Weighted towards moves that make progress, so games get played to the end.
    *[st.tuples(st.just("play"), st.booleans())] * 4,  # whoever's turn it is writes
    *[st.just(("ai", 0, False))] * 3,
    st.tuples(st.just("timeout"), st.integers(-1, 0)),
    st.tuples(st.just("ai"), st.integers(-1, 0), st.booleans()),
    st.tuples(st.just("vote"), st.sampled_from(USERS), st.integers(0, 5)),
    *[st.tuples(st.just("ballot"), st.sampled_from(USERS), st.integers(0, 5))] * 2,
    *[st.tuples(st.just("close"), st.integers(0, 3))] * 2,
    st.tuples(st.just("skip"), st.sampled_from(USERS), st.booleans()),
    st.tuples(st.just("end"), st.sampled_from(USERS), st.booleans()),
)


def apply(game: Game, move: tuple, step: int) -> Game:
    kind, *args = move
    now = NOW + step
    if kind == "join":
        return rules.join(game, args[0], f"user{args[0]}")[0]
    if kind == "leave":
        return rules.leave(game, args[0], now)[0]
    if kind == "start":
        return rules.start(game, args[0], now)[0]
    if kind == "cancel":
        return rules.cancel(game, args[0])[0]
    if kind == "line":
        user, with_turn = args
        return rules.add_line(
            game, user, f"line {step}", now, turn=game.turn if with_turn else None
        )[0]
    if kind == "play":
        seat = game.current_seat
        if seat is not None and seat.user_id is not None:
            return apply(game, ("line", seat.user_id, args[0]), step)
        voter = next((s.user_id for s in game.players), None)
        return apply(game, ("line", voter or 1, args[0]), step)
    if kind == "timeout":
        return rules.timeout(game, game.turn + args[0], now)[0]
    if kind == "ai":
        turn, fails = game.turn + args[0], args[1]
        if fails:
            return rules.ai_failed(game, turn, now)[0]
        if game.ai_work is AIWork.CANDIDATES:
            return rules.ai_candidates(game, turn, [f"ai {step} a", f"ai {step} b"])[0]
        if game.ai_work is AIWork.TITLE:
            return rules.ai_title(game, turn, f"title {step}")[0]
        return rules.ai_line(game, turn, f"ai line {step}", now)[0]
    if kind == "vote":
        number = game.round.number if game.round else 1
        return rules.vote(game, args[0], number, args[1])[0]
    if kind == "ballot":  # a vote for a line that exists
        count = len(game.round.candidates) if game.round else 0
        return apply(game, ("vote", args[0], args[1] % max(count, 1)), step)
    if kind == "close":
        number = game.round.number if game.round else 1
        return rules.close_round(game, number, seed=args[0], now=now)[0]
    if kind == "skip":
        return rules.skip(game, args[0], now, moderator=args[1], seed=step)[0]
    if kind == "end":
        return rules.end(game, args[0], moderator=args[1])[0]
    raise AssertionError(kind)


def check_invariants(before: Game, after: Game, move: tuple) -> None:
    assert len(after.lines) <= after.settings.lines
    assert after.turn >= before.turn
    assert after.lines[: len(before.lines)] == before.lines  # lines are never rewritten
    assert len(after.lines) - len(before.lines) <= 1
    if len(after.lines) > len(before.lines):
        new = after.lines[-1]
        if not new.by_ai:
            if after.settings.mode is Mode.VOTE:
                assert before.round is not None
                assert any(c.author_id == new.author_id for c in before.round.candidates)
            else:
                # Only the seat whose turn it was can write a person's line.
                assert before.current_seat is not None
                assert new.author_id == before.current_seat.user_id
        if (
            after.settings.mode is not Mode.VOTE
            and after.status is Status.RUNNING
            and after.ai_work is not AIWork.TITLE
            and after.seats == before.seats
        ):
            # Turns go round the table in join order, one seat at a time (when the AI
            # filled the line of a player who left since, the seat now in theirs is next).
            gone = before.filling_for is not None and before.seat_of(before.filling_for) is None
            step = 0 if gone else 1
            assert after.seat_index == (before.seat_index + step) % len(after.seats)
    if not before.is_open:
        assert after == before  # nothing moves a finished game
    if after.status is Status.RUNNING:
        assert after.players, "a running game has at least one player"
        assert 0 <= after.seat_index < len(after.seats) or after.settings.mode is Mode.VOTE
        if after.settings.mode is not Mode.VOTE and after.ai_work is None:
            assert after.current_seat is not None and not after.current_seat.is_ai
            assert after.deadline is not None
    if after.round is not None:
        voters = [voter for voter, _ in after.round.votes]
        assert len(voters) == len(set(voters)), "one vote per player"
        for voter, index in after.round.votes:
            assert after.round.candidates[index].author_id != voter, "no vote for your own line"
        authors = [c.author_id for c in after.round.candidates if c.author_id is not None]
        assert len(authors) == len(set(authors)), "one proposal per player"
    assert state_from_json(state_to_json(after), after.lines) == after


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mode=st.sampled_from(list(Mode)),
    ai=st.booleans(),
    lines=st.integers(3, 5),
    guests=st.integers(0, 3),
    script=st.lists(moves, min_size=10, max_size=80),
)
def test_no_sequence_of_moves_breaks_an_invariant(mode, ai, lines, guests, script):
    game = rules.new_game(rules.settings_for(mode, PoemForm.FREE, lines, 60, ai), 1, "host")
    # Most tables fill and start before the chaos, so the running game gets explored.
    opening = [("join", user) for user in USERS[1 : 1 + guests]] + [("start", 1)]
    for step, move in enumerate(opening + script):
        try:
            after = apply(game, move, step)
        except InkwellError:
            continue  # refused with a message: the game is unchanged by definition
        check_invariants(game, after, move)
        game = after
