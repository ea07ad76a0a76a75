"""The rules of a writing sprint, as plain functions of times and counts (unix seconds).

A member sprints from when the sprint starts (or they joined, if later) until it ends (or they
left, if earlier). Their words per minute are what they wrote over that time, which is also
what a count is checked against: more than ``max_wpm`` words a minute is refused as
implausible, with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.errors import InkwellError

MIN_MINUTES, MAX_MINUTES = 1, 120
MIN_DELAY, MAX_DELAY = 0, 60
# "Pens down, send your count": how long members have after the end.
COUNT_WINDOW_SECONDS = 120.0
DEFAULT_MAX_WPM = 150
# Counts are checked against at least this much time, so a count sent in the first seconds
# (someone who wrote offline before joining, say) isn't refused for a tiny division.
MIN_CHECKED_MINUTES = 1.0
MAX_WORDS = 10_000_000


class Status(StrEnum):
    """Where a sprint stands; it only moves forward."""

    WAITING = "waiting"
    RUNNING = "running"
    COUNTING = "counting"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class SprintError(InkwellError):
    """A sprint action that can't be done, with the reason for the member."""


class ImplausibleCount(SprintError):
    """A count faster than anyone writes."""


class MemberLike(Protocol):
    """What the rules read of a member (storage's ``SprintMember`` is one)."""

    @property
    def user_name(self) -> str: ...
    @property
    def user_id(self) -> int: ...
    @property
    def starting_words(self) -> int: ...
    @property
    def words(self) -> int | None: ...
    @property
    def joined_at(self) -> float: ...
    @property
    def left_at(self) -> float | None: ...


@dataclass(frozen=True)
class Plan:
    """When a new sprint starts and ends."""

    starts_at: float
    ends_at: float


@dataclass(frozen=True)
class Result:
    """One member's sprint: words written over the minutes they sprinted."""

    user_id: int
    name: str
    words: int
    minutes: float

    @property
    def wpm(self) -> float:
        """Words per minute (0 for a member who sprinted no time at all)."""
        return self.words / self.minutes if self.minutes > 0 else 0.0


@dataclass(frozen=True)
class Totals:
    """A member's totals and personal bests."""

    sprints: int = 0
    words: int = 0
    minutes: float = 0.0
    best_words: int = 0
    best_wpm: float = 0.0


@dataclass(frozen=True)
class Ranked:
    """A result with its place and whether it beat the member's bests."""

    place: int
    result: Result
    best_words: bool
    best_wpm: bool


def plan(now: float, minutes: int, delay: int) -> Plan:
    """The sprint's start and end; refuses lengths and delays out of range."""
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise SprintError(f"A sprint lasts {MIN_MINUTES} to {MAX_MINUTES} minutes.")
    if not MIN_DELAY <= delay <= MAX_DELAY:
        raise SprintError(f"A sprint can start in {MIN_DELAY} to {MAX_DELAY} minutes.")
    starts_at = now + delay * 60
    return Plan(starts_at, starts_at + minutes * 60)


def count_until(ends_at: float, now: float) -> float:
    """When the count window closes: two minutes after the end, or after now when the end
    passed unseen (the bot was down), so members still get their two minutes."""
    return max(ends_at, now) + COUNT_WINDOW_SECONDS


def sprinted_seconds(member: MemberLike, starts_at: float, until: float) -> float:
    """How long the member sprinted: from max(start, joined) to min(until, left)."""
    begin = max(starts_at, member.joined_at)
    end = until if member.left_at is None else min(until, member.left_at)
    return max(0.0, end - begin)


def total_after_wc(words: int) -> int:
    """``/sprint wc``: the member's whole count, as given."""
    return _checked_total(words)


def total_after_wrote(member: MemberLike, delta: int) -> int:
    """``/sprint wrote``: words added to the member's last count (or to their start)."""
    base = member.starting_words if member.words is None else member.words
    return _checked_total(base + delta)


def _checked_total(total: int) -> int:
    if total < 0:
        raise SprintError("A word count can't be below zero.")
    if total > MAX_WORDS:
        raise SprintError(f"I can only count up to {MAX_WORDS:,} words.")
    return total


def written(member: MemberLike, total: int) -> int:
    """What the member wrote in the sprint, if their total is ``total``."""
    return total - member.starting_words


def check_count(
    member: MemberLike, total: int, starts_at: float, until: float, max_wpm: int
) -> int:
    """Check a new total count; returns the words written. ``until`` is now while the
    sprint runs, its end after. Refuses fewer words than the member started with, and more
    than ``max_wpm`` a minute over the time they sprinted (at least a minute)."""
    words = written(member, total)
    if words < 0:
        raise SprintError(
            f"That's fewer than the {member.starting_words:,} words you started with. Send "
            "your whole count with /sprint wc, or how many you added with /sprint wrote."
        )
    minutes = sprinted_seconds(member, starts_at, until) / 60
    allowed = max_wpm * max(minutes, MIN_CHECKED_MINUTES)
    if words > allowed:
        shown = max(minutes, MIN_CHECKED_MINUTES)
        raise ImplausibleCount(
            f"{words:,} words in {_minutes(shown)} is {words / shown:.0f} words a minute; "
            f"I count at most {max_wpm} a minute. If you started with words already, "
            "set them with /sprint join starting_words:…"
        )
    return words


def results(members: list[MemberLike], starts_at: float, ended_at: float) -> list[Result]:
    """Everyone who sent a count, most words first (then fastest, then by name)."""
    found = [
        Result(
            member.user_id,
            member.user_name,
            max(0, written(member, member.words)),
            sprinted_seconds(member, starts_at, ended_at) / 60,
        )
        for member in members
        if member.words is not None
    ]
    return sorted(found, key=lambda r: (-r.words, -r.wpm, r.name.casefold(), r.user_id))


def rank(found: list[Result], previous: dict[int, Totals]) -> list[Ranked]:
    """Places (ties share one) and the personal bests each result beat."""
    ranked: list[Ranked] = []
    for index, result in enumerate(found):
        place = index + 1
        if index and found[index - 1].words == result.words:
            place = ranked[-1].place
        before = previous.get(result.user_id, Totals())
        ranked.append(
            Ranked(
                place,
                result,
                best_words=result.words > before.best_words,
                best_wpm=result.minutes > 0 and result.wpm > before.best_wpm,
            )
        )
    return ranked


def add_result(before: Totals, result: Result) -> Totals:
    """The member's totals and bests with this sprint counted."""
    return Totals(
        sprints=before.sprints + 1,
        words=before.words + result.words,
        minutes=before.minutes + result.minutes,
        best_words=max(before.best_words, result.words),
        best_wpm=max(before.best_wpm, result.wpm) if result.minutes > 0 else before.best_wpm,
    )


def _minutes(minutes: float) -> str:
    if math.isclose(minutes, round(minutes)):
        whole = round(minutes)
        return f"{whole} minute" if whole == 1 else f"{whole} minutes"
    return f"{minutes:.1f} minutes"
