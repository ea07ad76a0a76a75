"""What a move changed, for the front end to tell the table (the board itself is redrawn from
the game's state after every move; these are the things worth saying once)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.games.model import Candidate, Line, Seat


@dataclass(frozen=True)
class Joined:
    """Someone took a seat in the lobby."""

    seat: Seat


@dataclass(frozen=True)
class Left:
    """Someone left; ``new_host`` when the host's role passed on."""

    seat: Seat
    new_host: Seat | None = None


@dataclass(frozen=True)
class Started:
    """The host started the game."""


@dataclass(frozen=True)
class LineAdded:
    """A line joined the poem (0-based ``position``)."""

    line: Line
    position: int


@dataclass(frozen=True)
class TimedOut:
    """A player's turn ran out; ``first_time`` is whether to tell them (once per game until
    they play again); ``filled_by_ai`` whether the AI writes their line."""

    seat: Seat
    first_time: bool
    filled_by_ai: bool


@dataclass(frozen=True)
class Skipped:
    """The host or a moderator skipped the turn (or closed the round)."""

    seat: Seat | None


@dataclass(frozen=True)
class AIRetry:
    """The AI's attempt failed; it tries once more."""


@dataclass(frozen=True)
class AISkipped:
    """The AI failed twice: its work is skipped."""

    what: str


@dataclass(frozen=True)
class CandidateAdded:
    """A line was proposed in the voting round."""

    candidate: Candidate
    index: int


@dataclass(frozen=True)
class VoteCast:
    """A vote was cast or changed (shown only to the voter)."""

    voter_id: int
    index: int
    changed: bool


@dataclass(frozen=True)
class RoundClosed:
    """A voting round ended; ``winner`` None when there was nothing to choose from. ``seed``
    is shown when a tie (or nobody voting) was broken at random."""

    number: int
    winner: Candidate | None
    votes: tuple[int, ...]
    seed: int | None


@dataclass(frozen=True)
class Finished:
    """The poem is done; ``note`` says why it ended early, when it did."""

    note: str | None = None


@dataclass(frozen=True)
class Cancelled:
    """The game was called off before any line was written."""

    note: str | None = None


Event = (
    Joined
    | Left
    | Started
    | LineAdded
    | TimedOut
    | Skipped
    | AIRetry
    | AISkipped
    | CandidateAdded
    | VoteCast
    | RoundClosed
    | Finished
    | Cancelled
)
