"""The rules of the poem games, as a pure state machine: no Discord, no asyncio, no clock.

Every move takes a ``Game`` (and the time, where deadlines matter) and returns the new game
with the events worth telling, or raises ``GameError`` with a message for the person who
tried it. The turn counter ``Game.turn`` moves on with every turn and round, so a timer, a
button or the AI's answer made for an earlier turn is recognised as stale and does nothing.
"""

from __future__ import annotations

import dataclasses
import random

from bot.errors import InkwellError, InvalidRequest
from bot.forms import PoemForm
from bot.forms.spec import shorten
from bot.games.events import (
    AIRetry,
    AISkipped,
    Cancelled,
    CandidateAdded,
    Event,
    Finished,
    Joined,
    Left,
    LineAdded,
    RoundClosed,
    Skipped,
    Started,
    TimedOut,
    VoteCast,
)
from bot.games.lines import clean_line, clean_title, seat_name
from bot.games.model import (
    AI_CANDIDATES,
    AI_NAME,
    DEFAULT_FREE_LINES,
    MAX_LINES,
    MAX_PLAYERS,
    MAX_TURN_TIMEOUT,
    MIN_LINES,
    MIN_TURN_TIMEOUT,
    STANZA_LINES,
    AIWork,
    Candidate,
    Game,
    GameSettings,
    Line,
    Mode,
    Seat,
    Status,
    VoteRound,
)

Outcome = tuple[Game, tuple[Event, ...]]

REMOVED_NAME = "(removed)"
# An AI answer is tried this many times before its work is skipped.
AI_ATTEMPTS = 2
# Voting rounds in a row with nothing to vote on before the game ends.
EMPTY_ROUNDS_TO_END = 2
DEFAULT_TITLE_CHARS = 40


class GameError(InkwellError):
    """A move the rules don't allow; the message says why."""


class GameOver(GameError):
    """A move on a finished or cancelled game."""


class NotInGame(GameError):
    """A move by someone who has no seat."""


class NotYourTurn(GameError):
    """A line from the wrong player."""


class StaleMove(GameError):
    """A move made for a turn or round that has passed."""


# --- setting up ----------------------------------------------------------------------------


def settings_for(
    mode: Mode,
    form: PoemForm,
    lines: int | None,
    turn_timeout: float,
    ai: bool,
    title: str | None = None,
) -> GameSettings:
    """The host's choices, checked; raises ``InvalidRequest`` naming the option to fix."""
    stanza = STANZA_LINES.get(form)
    if lines is None:
        lines = stanza or DEFAULT_FREE_LINES
    if not MIN_LINES <= lines <= MAX_LINES:
        raise InvalidRequest(f"lines must be between {MIN_LINES} and {MAX_LINES}.")
    if stanza is not None and lines % stanza:
        allowed = ", ".join(str(n) for n in range(stanza, MAX_LINES + 1, stanza))
        raise InvalidRequest(
            f"A {form.value} has {stanza} lines a stanza, so lines must be one of: {allowed}."
        )
    if not MIN_TURN_TIMEOUT <= turn_timeout <= MAX_TURN_TIMEOUT:
        raise InvalidRequest(
            f"turn_timeout must be between {MIN_TURN_TIMEOUT} and {MAX_TURN_TIMEOUT} seconds."
        )
    chosen_title = clean_title(title) if title else None
    return GameSettings(mode, form, lines, float(turn_timeout), ai, chosen_title or None)


def new_game(settings: GameSettings, host_id: int, host_name: str) -> Game:
    """A lobby with the host seated (and the AI, when it takes turns)."""
    seats = [Seat(host_id, seat_name(host_name))]
    if settings.ai and settings.mode is not Mode.VOTE:
        seats.append(Seat(None, AI_NAME))
    return Game(settings=settings, host_id=host_id, seats=tuple(seats))


def join(game: Game, user_id: int, name: str) -> Outcome:
    """Take a seat in the lobby."""
    _check_open(game)
    if game.seat_of(user_id) is not None:
        raise GameError("You're already in this game.")
    if game.status is not Status.LOBBY:
        raise GameError("This game has already started. Join the next one!")
    if len(game.players) >= MAX_PLAYERS:
        raise GameError(f"This game is full: it seats {MAX_PLAYERS} players.")
    seat = Seat(user_id, seat_name(name))
    return dataclasses.replace(game, seats=(*game.seats, seat)), (Joined(seat),)


def start(game: Game, user_id: int, now: float) -> Outcome:
    """The host starts the game: a duet with the AI, or with at least two players."""
    _check_open(game)
    if game.status is not Status.LOBBY:
        raise GameError("This game has already started.")
    if user_id != game.host_id:
        raise GameError("Only the host can start the game.")
    if len(game.players) < 2 and not game.settings.ai:
        raise GameError(
            "You need at least one more player to start. "
            "Or start a game with ai:true and write a duet with me."
        )
    running = dataclasses.replace(game, status=Status.RUNNING, started=True)
    if game.settings.mode is Mode.VOTE:
        return _open_round(running, 1, now), (Started(),)
    return _begin_turn(running, 0, now), (Started(),)


def cancel(game: Game, user_id: int, *, moderator: bool = False) -> Outcome:
    """The host calls the game off in the lobby."""
    _check_open(game)
    if game.status is not Status.LOBBY:
        raise GameError("The game has started: use /poemgame end to finish it.")
    if user_id != game.host_id and not moderator:
        raise GameError("Only the host can cancel the game.")
    return _stopped(game, Status.CANCELLED, None), (Cancelled(),)


def abandon(game: Game, note: str) -> Game:
    """The game can't go on (its channel is gone): stopped, without a poem."""
    return dataclasses.replace(_stopped(game, Status.CANCELLED, None), end_note=note)


# --- playing -------------------------------------------------------------------------------


def add_line(
    game: Game, user_id: int, text: str, now: float, *, turn: int | None = None
) -> Outcome:
    """A player's line: their turn's line, or their proposal in a voting round. ``turn``
    is the turn the player saw (a modal opened earlier), when known."""
    _check_running(game)
    seat = game.seat_of(user_id)
    if seat is None:
        raise NotInGame("You're not in this game. Join the next one!")
    if game.settings.mode is Mode.VOTE:
        return _propose(game, seat, text, turn)
    if turn is not None and turn != game.turn:
        mine = [line for line in game.lines if line.author_id == user_id and line.turn == turn]
        if mine:
            raise StaleMove("Your line is already in the poem.")
        raise StaleMove(f"That turn is over. {_whose_turn(game)}")
    current = game.current_seat
    if current is None or current.user_id != user_id or game.ai_work is not None:
        raise NotYourTurn(_whose_turn(game))
    line = Line(user_id, seat.name, clean_line(text), by_ai=False, turn=game.turn)
    played = dataclasses.replace(game, quiet_turns=0, warned=game.warned - {user_id})
    return _append(played, line, now)


def timeout(game: Game, turn: int, now: float) -> Outcome:
    """A turn's deadline passed (or a voting round's window closed, see ``close_round``)."""
    if game.status is not Status.RUNNING or turn != game.turn or game.ai_work is not None:
        return game, ()
    if game.settings.mode is Mode.VOTE:
        return game, ()
    seat = game.current_seat
    assert seat is not None and seat.user_id is not None  # the AI's turns have no deadline
    told = seat.user_id in game.warned
    warned = game.warned | {seat.user_id}
    event = TimedOut(seat, first_time=not told, filled_by_ai=game.settings.ai)
    if game.settings.ai:
        filling = dataclasses.replace(
            game,
            warned=warned,
            turn=game.turn + 1,
            deadline=None,
            ai_work=AIWork.LINE,
            ai_attempts=0,
            filling_for=seat.user_id,
        )
        return filling, (event,)
    quiet = dataclasses.replace(game, warned=warned, quiet_turns=game.quiet_turns + 1)
    if quiet.quiet_turns >= len(game.players):
        note = "Everyone was away for a whole round, so the game ended."
        return _end_early(quiet, note, (event,))
    return _begin_turn(quiet, game.seat_index + 1, now), (event,)


def ai_line(game: Game, turn: int, text: str, now: float) -> Outcome:
    """The AI's line for ``turn`` (its own turn, or a timed-out player's)."""
    if game.status is not Status.RUNNING or turn != game.turn or game.ai_work is not AIWork.LINE:
        raise StaleMove("The AI's line came too late: the game has moved on.")
    line = Line(None, AI_NAME, clean_line(text), by_ai=True, turn=game.turn)
    return _append(game, line, now)


def ai_candidates(game: Game, turn: int, texts: list[str]) -> Outcome:
    """The AI's proposals for the voting round of ``turn``."""
    if (
        game.status is not Status.RUNNING
        or turn != game.turn
        or game.ai_work is not AIWork.CANDIDATES
        or game.round is None
    ):
        raise StaleMove("The AI's lines came too late: the round is over.")
    round_ = game.round
    events: list[Event] = []
    seen = {c.text.casefold() for c in round_.candidates}
    for text in texts[:AI_CANDIDATES]:
        line = clean_line(text)
        if line.casefold() in seen:
            continue
        seen.add(line.casefold())
        candidate = Candidate(None, AI_NAME, line)
        round_ = dataclasses.replace(round_, candidates=(*round_.candidates, candidate))
        events.append(CandidateAdded(candidate, len(round_.candidates) - 1))
    round_ = dataclasses.replace(round_, ai_proposed=True)
    done = dataclasses.replace(game, round=round_, ai_work=None, ai_attempts=0)
    return done, tuple(events)


def ai_title(game: Game, turn: int, text: str) -> Outcome:
    """The AI's suggested title for the finished poem."""
    if game.status is not Status.RUNNING or turn != game.turn or game.ai_work is not AIWork.TITLE:
        raise StaleMove("The title came too late: the game has moved on.")
    title = clean_title(text) or default_title(game)
    return _stopped(game, Status.FINISHED, title), (Finished(),)


def ai_failed(game: Game, turn: int, now: float) -> Outcome:
    """The AI could not do its work for ``turn``: it tries once more, then its work is
    skipped with a note (a skipped line passes the turn on; a skipped title uses the first
    words of the poem)."""
    if game.status is not Status.RUNNING or turn != game.turn or game.ai_work is None:
        return game, ()
    attempts = game.ai_attempts + 1
    if attempts < AI_ATTEMPTS:
        return dataclasses.replace(game, ai_attempts=attempts), (AIRetry(),)
    work = game.ai_work
    if work is AIWork.TITLE:
        title = default_title(game)
        return _stopped(game, Status.FINISHED, title), (AISkipped("title"), Finished())
    if work is AIWork.CANDIDATES:
        assert game.round is not None
        round_ = dataclasses.replace(game.round, ai_proposed=True)
        return dataclasses.replace(game, round=round_, ai_work=None, ai_attempts=0), (
            AISkipped("candidates"),
        )
    return _begin_turn(game, _next_index(game), now), (AISkipped("line"),)


def skip(
    game: Game, user_id: int, now: float, *, moderator: bool = False, seed: int = 0
) -> Outcome:
    """The host (or a moderator) passes the current turn on, or closes the voting round
    now; ``seed`` breaks a tie then."""
    _check_started(game)
    if user_id != game.host_id and not moderator:
        raise GameError("Only the host, or someone who can Manage Messages, can skip a turn.")
    if game.ai_work is AIWork.TITLE:
        return _stopped(game, Status.FINISHED, default_title(game)), (Skipped(None), Finished())
    if game.settings.mode is Mode.VOTE:
        assert game.round is not None
        closed, events = close_round(game, game.round.number, seed, now)
        return closed, (Skipped(None), *events)
    seat = game.current_seat
    return _begin_turn(game, _next_index(game), now), (Skipped(seat),)


def end(game: Game, user_id: int, *, moderator: bool = False) -> Outcome:
    """The host (or a moderator) ends the game now; the lines so far are the poem."""
    _check_open(game)
    if user_id != game.host_id and not moderator:
        raise GameError("Only the host, or someone who can Manage Messages, can end the game.")
    return _end_early(game, None, ())


def leave(game: Game, user_id: int, now: float) -> Outcome:
    """A player leaves. The host can't leave the lobby (they cancel instead); a host who
    leaves a running game hands the role to the next player."""
    _check_open(game)
    seat = game.seat_of(user_id)
    if seat is None:
        raise NotInGame("You're not in this game.")
    if game.status is Status.LOBBY and user_id == game.host_id:
        raise GameError("You're the host: press Cancel to call the game off.")
    index = game.seats.index(seat)
    seats = game.seats[:index] + game.seats[index + 1 :]
    left = dataclasses.replace(game, seats=seats, warned=game.warned - {user_id})
    new_host: Seat | None = None
    if user_id == game.host_id:
        new_host = next((s for s in seats if not s.is_ai), None)
        if new_host is not None:
            assert new_host.user_id is not None
            left = dataclasses.replace(left, host_id=new_host.user_id)
    events: tuple[Event, ...] = (Left(seat, new_host),)
    if game.status is Status.LOBBY:
        return left, events
    if not left.players:
        return _end_early(left, "Everyone left, so the game ended.", events)
    if game.ai_work is AIWork.TITLE:
        return dataclasses.replace(left, seat_index=0), events  # no turn to pass on
    if game.settings.mode is Mode.VOTE:
        assert left.round is not None
        votes = tuple(pair for pair in left.round.votes if pair[0] != user_id)
        return dataclasses.replace(left, round=dataclasses.replace(left.round, votes=votes)), events
    if index < game.seat_index:
        return dataclasses.replace(left, seat_index=game.seat_index - 1), events
    if index == game.seat_index and game.ai_work is None:
        # Their turn passes to whoever sat next, now at the same index.
        return _begin_turn(left, index, now), events
    if index == game.seat_index:
        # The AI is filling their line: it carries on, then play moves to whoever sat next
        # (``_next_index`` sees that the player it fills for has gone).
        return dataclasses.replace(left, seat_index=index % len(seats)), events
    return left, events


def forget(game: Game, user_id: int) -> Game:
    """What the game holds of a member whose data was erased: their seat keeps its place
    (they may play on) but not their name, and their proposal and vote in an open round go.
    (Their lines are blanked in storage.)"""
    seats = tuple(
        Seat(seat.user_id, REMOVED_NAME) if seat.user_id == user_id else seat for seat in game.seats
    )
    round_ = game.round
    if round_ is not None:
        kept = [i for i, c in enumerate(round_.candidates) if c.author_id != user_id]
        renumbered = {old: new for new, old in enumerate(kept)}
        round_ = dataclasses.replace(
            round_,
            candidates=tuple(round_.candidates[i] for i in kept),
            votes=tuple(
                (voter, renumbered[index])
                for voter, index in round_.votes
                if voter != user_id and index in renumbered
            ),
        )
    return dataclasses.replace(game, seats=seats, round=round_, warned=game.warned - {user_id})


def scrubbed(game: Game) -> Game:
    """A finished game as it is kept: the poem's lines and settings, no longer who sat where
    (the lines name their authors, and erasing one blanks them)."""
    return dataclasses.replace(game, host_id=0, seats=(), warned=frozenset(), round=None)


# --- voting --------------------------------------------------------------------------------


def vote(game: Game, user_id: int, round_number: int, index: int) -> Outcome:
    """A player's vote in the open round: one each, changeable, never for their own line."""
    _check_running(game)
    if game.settings.mode is not Mode.VOTE or game.round is None:
        raise GameError("This game has no vote.")
    if game.seat_of(user_id) is None:
        raise NotInGame("Only the players can vote. Join the next game!")
    round_ = game.round
    if round_number != round_.number:
        raise StaleMove("That round is over: vote in the current one.")
    if not 0 <= index < len(round_.candidates):
        raise GameError("There is no such line to vote for.")
    if round_.candidates[index].author_id == user_id:
        raise GameError("You can't vote for your own line.")
    before = round_.vote_of(user_id)
    if before == index:
        return game, ()  # a double click counts once
    votes = (*(pair for pair in round_.votes if pair[0] != user_id), (user_id, index))
    voted = dataclasses.replace(game, round=dataclasses.replace(round_, votes=votes))
    return voted, (VoteCast(user_id, index, changed=before is not None),)


def close_round(game: Game, round_number: int, seed: int, now: float) -> Outcome:
    """The voting window closed: the line with most votes joins the poem. A tie, or nobody
    voting, is broken at random with ``seed`` (shown to the table)."""
    if game.status is not Status.RUNNING or game.round is None:
        return game, ()
    round_ = game.round
    if round_number != round_.number or game.ai_work is AIWork.TITLE:
        return game, ()
    tally = round_.tally()
    if not round_.candidates:
        closed = RoundClosed(round_.number, None, (), None)
        quiet = dataclasses.replace(game, quiet_turns=game.quiet_turns + 1, ai_work=None)
        if quiet.quiet_turns >= EMPTY_ROUNDS_TO_END:
            note = "Nobody proposed a line for two rounds, so the game ended."
            return _end_early(quiet, note, (closed,))
        return _open_round(quiet, round_.number + 1, now), (closed,)
    best = max(tally)
    leaders = [i for i, count in enumerate(tally) if count == best]
    shown_seed: int | None = None
    if len(leaders) == 1:
        winner_index = leaders[0]
    else:
        winner_index = random.Random(seed).choice(leaders)
        shown_seed = seed
    winner = round_.candidates[winner_index]
    closed = RoundClosed(round_.number, winner, tuple(tally), shown_seed)
    line = Line(winner.author_id, winner.author_name, winner.text, winner.by_ai, game.turn)
    quiet = dataclasses.replace(game, quiet_turns=0, ai_work=None)
    appended, events = _append(quiet, line, now)
    return appended, (closed, *events)


def _propose(game: Game, seat: Seat, text: str, turn: int | None) -> Outcome:
    round_ = game.round
    assert round_ is not None
    if turn is not None and turn != game.turn:
        raise StaleMove("That round is over: propose a line in the current one.")
    if any(c.author_id == seat.user_id for c in round_.candidates):
        raise GameError("You've already proposed a line this round: one each.")
    line = clean_line(text)
    if any(c.text.casefold() == line.casefold() for c in round_.candidates):
        raise GameError("That line is already a candidate: vote for it instead!")
    candidate = Candidate(seat.user_id, seat.name, line)
    proposed = dataclasses.replace(round_, candidates=(*round_.candidates, candidate))
    event = CandidateAdded(candidate, len(proposed.candidates) - 1)
    return dataclasses.replace(game, round=proposed), (event,)


# --- the flow of turns ---------------------------------------------------------------------


def _append(game: Game, line: Line, now: float) -> Outcome:
    lines = (*game.lines, line)
    added = LineAdded(line, len(lines) - 1)
    grown = dataclasses.replace(game, lines=lines)
    if len(lines) >= game.settings.lines:
        return _complete(grown, (added,))
    if game.settings.mode is Mode.VOTE:
        assert game.round is not None
        return _open_round(grown, game.round.number + 1, now), (added,)
    return _begin_turn(grown, _next_index(game), now), (added,)


def _next_index(game: Game) -> int:
    """The seat after the current one; when the AI filled a line for a player who has left
    since, the seat now at the current index is already the next one."""
    if game.filling_for is not None and game.seat_of(game.filling_for) is None:
        return game.seat_index
    return game.seat_index + 1


def _begin_turn(game: Game, seat_index: int, now: float) -> Game:
    index = seat_index % len(game.seats)
    seat = game.seats[index]
    if seat.is_ai:
        return dataclasses.replace(
            game,
            seat_index=index,
            turn=game.turn + 1,
            deadline=None,
            ai_work=AIWork.LINE,
            ai_attempts=0,
            filling_for=None,
        )
    return dataclasses.replace(
        game,
        seat_index=index,
        turn=game.turn + 1,
        deadline=now + game.settings.turn_timeout,
        ai_work=None,
        ai_attempts=0,
        filling_for=None,
    )


def _open_round(game: Game, number: int, now: float) -> Game:
    return dataclasses.replace(
        game,
        round=VoteRound(number),
        turn=game.turn + 1,
        deadline=now + game.settings.vote_window,
        ai_work=AIWork.CANDIDATES if game.settings.ai else None,
        ai_attempts=0,
    )


def _complete(game: Game, events: tuple[Event, ...]) -> Outcome:
    if game.settings.title is None and game.settings.ai:
        titling = dataclasses.replace(
            game,
            turn=game.turn + 1,
            deadline=None,
            ai_work=AIWork.TITLE,
            ai_attempts=0,
            round=None,
            filling_for=None,
        )
        return titling, events
    title = game.settings.title or default_title(game)
    return _stopped(game, Status.FINISHED, title), (*events, Finished())


def _end_early(game: Game, note: str | None, events: tuple[Event, ...]) -> Outcome:
    if not game.lines:
        cancelled = dataclasses.replace(_stopped(game, Status.CANCELLED, None), end_note=note)
        return cancelled, (*events, Cancelled(note))
    title = game.settings.title or default_title(game)
    finished = dataclasses.replace(_stopped(game, Status.FINISHED, title), end_note=note)
    return finished, (*events, Finished(note))


def _stopped(game: Game, status: Status, title: str | None) -> Game:
    return dataclasses.replace(
        game,
        status=status,
        title=title,
        turn=game.turn + 1,
        deadline=None,
        ai_work=None,
        ai_attempts=0,
        filling_for=None,
        round=None,
    )


def default_title(game: Game) -> str:
    """The host's title, else the first words of the poem."""
    if game.settings.title:
        return game.settings.title
    first = next((line.text for line in game.lines if line.text), "")
    return shorten(first, DEFAULT_TITLE_CHARS) or "Untitled"


def _whose_turn(game: Game) -> str:
    seat = game.current_seat
    if seat is None:
        return "It's nobody's turn right now."
    if seat.is_ai or game.ai_work is AIWork.LINE:
        return f"It's {AI_NAME}'s turn: the line is being written now."
    return f"It's {seat.name}'s turn."


def _check_open(game: Game) -> None:
    if game.status is Status.FINISHED:
        raise GameOver("This game is over: its poem is in /anthology.")
    if game.status is Status.CANCELLED:
        raise GameOver("This game was cancelled.")


def _check_started(game: Game) -> None:
    _check_open(game)
    if game.status is Status.LOBBY:
        raise GameError("The game hasn't started yet: the host starts it from the lobby.")


def _check_running(game: Game) -> None:
    """Started, and still taking lines and votes (not only waiting for its title)."""
    _check_started(game)
    if game.ai_work is AIWork.TITLE:
        raise StaleMove(f"The poem is complete: {AI_NAME} is choosing its title.")
