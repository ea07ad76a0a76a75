"""A poem game's state: its settings, seats, lines and voting round, and their JSON form.

Frozen values only: every move in ``bot.games.rules`` returns a new ``Game``. Storage keeps the
lines in their own rows (so erasing a member's data can blank them) and everything else as the
JSON of ``state_to_json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from bot.forms import PoemForm

AI_NAME = "Inkwell"
MAX_PLAYERS = 20
MIN_LINES, MAX_LINES = 3, 30
MIN_TURN_TIMEOUT, MAX_TURN_TIMEOUT = 30, 86_400
DEFAULT_VOTE_WINDOW = 60.0
AI_CANDIDATES = 3

# Lines in one stanza of each fixed form; a longer game repeats the pattern.
STANZA_LINES: dict[PoemForm, int] = {
    PoemForm.HAIKU: 3,
    PoemForm.QUATRAIN: 4,
    PoemForm.LIMERICK: 5,
    PoemForm.SONNET: 14,
}
DEFAULT_FREE_LINES = 8


class Mode(StrEnum):
    """How the table writes."""

    ROUND_ROBIN = "round-robin"
    CORPSE = "corpse"
    VOTE = "vote"


class Status(StrEnum):
    """Where a game is in its life."""

    LOBBY = "lobby"
    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class AIWork(StrEnum):
    """What the AI owes the game right now."""

    LINE = "line"  # its own turn, or a timed-out player's line it fills
    CANDIDATES = "candidates"  # its three proposals for a voting round
    TITLE = "title"  # the poem is complete and needs a name


@dataclass(frozen=True)
class GameSettings:
    """What the host chose at ``/poemgame start``."""

    mode: Mode
    form: PoemForm
    lines: int
    turn_timeout: float
    ai: bool
    title: str | None = None
    vote_window: float = DEFAULT_VOTE_WINDOW


@dataclass(frozen=True)
class Seat:
    """A place at the table; ``user_id`` None is the AI."""

    user_id: int | None
    name: str

    @property
    def is_ai(self) -> bool:
        """Whether the AI sits here."""
        return self.user_id is None


@dataclass(frozen=True)
class Line:
    """A line of the poem: who wrote it and in which turn."""

    author_id: int | None
    author_name: str
    text: str
    by_ai: bool
    turn: int = 0


@dataclass(frozen=True)
class Candidate:
    """A line proposed in a voting round; ``author_id`` None is the AI."""

    author_id: int | None
    author_name: str
    text: str

    @property
    def by_ai(self) -> bool:
        """Whether the AI proposed it."""
        return self.author_id is None


@dataclass(frozen=True)
class VoteRound:
    """One voting round: its candidates and each voter's current choice."""

    number: int
    candidates: tuple[Candidate, ...] = ()
    votes: tuple[tuple[int, int], ...] = ()  # (voter id, candidate index), one per voter
    ai_proposed: bool = False

    def vote_of(self, voter_id: int) -> int | None:
        """The candidate ``voter_id`` votes for now, or None."""
        return next((index for voter, index in self.votes if voter == voter_id), None)

    def tally(self) -> list[int]:
        """Votes per candidate, in candidate order."""
        counts = [0] * len(self.candidates)
        for _, index in self.votes:
            counts[index] += 1
        return counts


@dataclass(frozen=True)
class Game:
    """A whole game. ``turn`` counts every change of turn or round, so a timer or a button
    made for an earlier turn can tell it is stale."""

    settings: GameSettings
    host_id: int
    status: Status = Status.LOBBY
    started: bool = False
    seats: tuple[Seat, ...] = ()
    lines: tuple[Line, ...] = ()
    turn: int = 0
    seat_index: int = 0
    deadline: float | None = None
    ai_work: AIWork | None = None
    ai_attempts: int = 0
    filling_for: int | None = None  # the timed-out player whose line the AI is writing
    round: VoteRound | None = None
    quiet_turns: int = 0  # turns in a row that passed without a line
    warned: frozenset[int] = field(default_factory=frozenset)  # told once about timing out
    title: str | None = None
    end_note: str | None = None

    @property
    def players(self) -> tuple[Seat, ...]:
        """The human seats."""
        return tuple(seat for seat in self.seats if not seat.is_ai)

    @property
    def has_ai_seat(self) -> bool:
        """Whether the AI takes turns (round robin and corpse with ``ai:true``)."""
        return any(seat.is_ai for seat in self.seats)

    @property
    def current_seat(self) -> Seat | None:
        """Whose turn it is (round robin and corpse, while running)."""
        if self.status is not Status.RUNNING or self.settings.mode is Mode.VOTE:
            return None
        if self.ai_work is AIWork.TITLE or not self.seats:
            return None
        return self.seats[self.seat_index]

    @property
    def is_open(self) -> bool:
        """In the lobby or running."""
        return self.status in (Status.LOBBY, Status.RUNNING)

    def seat_of(self, user_id: int) -> Seat | None:
        """``user_id``'s seat, or None."""
        return next((seat for seat in self.seats if seat.user_id == user_id), None)

    def stanza_position(self, line_number: int) -> tuple[int, int] | None:
        """(stanza, line in stanza) for a fixed form; None for free verse."""
        size = STANZA_LINES.get(self.settings.form)
        return None if size is None else divmod(line_number, size)


# --- JSON --------------------------------------------------------------------------------


def state_to_json(game: Game) -> dict[str, Any]:
    """Everything but the lines, as JSON-ready data (lines are stored as rows)."""
    settings = game.settings
    return {
        "settings": {
            "mode": settings.mode.value,
            "form": settings.form.value,
            "lines": settings.lines,
            "turn_timeout": settings.turn_timeout,
            "ai": settings.ai,
            "title": settings.title,
            "vote_window": settings.vote_window,
        },
        "host_id": game.host_id,
        "status": game.status.value,
        "started": game.started,
        "seats": [{"user_id": s.user_id, "name": s.name} for s in game.seats],
        "turn": game.turn,
        "seat_index": game.seat_index,
        "deadline": game.deadline,
        "ai_work": None if game.ai_work is None else game.ai_work.value,
        "ai_attempts": game.ai_attempts,
        "filling_for": game.filling_for,
        "round": None if game.round is None else _round_to_json(game.round),
        "quiet_turns": game.quiet_turns,
        "warned": sorted(game.warned),
        "title": game.title,
        "end_note": game.end_note,
        "line_turns": [line.turn for line in game.lines],
    }


def state_from_json(data: dict[str, Any], lines: tuple[Line, ...]) -> Game:
    """The game ``state_to_json`` wrote, with its lines from their rows."""
    raw = data["settings"]
    settings = GameSettings(
        mode=Mode(raw["mode"]),
        form=PoemForm(raw["form"]),
        lines=int(raw["lines"]),
        turn_timeout=float(raw["turn_timeout"]),
        ai=bool(raw["ai"]),
        title=raw.get("title"),
        vote_window=float(raw.get("vote_window", DEFAULT_VOTE_WINDOW)),
    )
    turns = data.get("line_turns", [])
    lines = tuple(
        replace(line, turn=turns[i]) if i < len(turns) else line for i, line in enumerate(lines)
    )
    ai_work = data.get("ai_work")
    return Game(
        settings=settings,
        host_id=int(data["host_id"]),
        status=Status(data["status"]),
        started=bool(data.get("started", False)),
        seats=tuple(Seat(s["user_id"], s["name"]) for s in data["seats"]),
        lines=lines,
        turn=int(data["turn"]),
        seat_index=int(data["seat_index"]),
        deadline=data.get("deadline"),
        ai_work=None if ai_work is None else AIWork(ai_work),
        ai_attempts=int(data.get("ai_attempts", 0)),
        filling_for=data.get("filling_for"),
        round=None if data.get("round") is None else _round_from_json(data["round"]),
        quiet_turns=int(data.get("quiet_turns", 0)),
        warned=frozenset(data.get("warned", ())),
        title=data.get("title"),
        end_note=data.get("end_note"),
    )


def _round_to_json(round_: VoteRound) -> dict[str, Any]:
    return {
        "number": round_.number,
        "candidates": [
            {"author_id": c.author_id, "author_name": c.author_name, "text": c.text}
            for c in round_.candidates
        ],
        "votes": [list(pair) for pair in round_.votes],
        "ai_proposed": round_.ai_proposed,
    }


def _round_from_json(data: dict[str, Any]) -> VoteRound:
    return VoteRound(
        number=int(data["number"]),
        candidates=tuple(
            Candidate(c["author_id"], c["author_name"], c["text"]) for c in data["candidates"]
        ),
        votes=tuple((int(voter), int(index)) for voter, index in data["votes"]),
        ai_proposed=bool(data.get("ai_proposed", False)),
    )
