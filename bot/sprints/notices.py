"""What a sprint tells its channel, and the words for it on any front end.

The service hands a ``Notice`` to its board (a Discord channel or the console); the text is
made here once, with the front end's own escaping of members' words and its own way of
showing a time (Discord's ``<t:…:R>``, the console's clock time).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.sprints.rules import COUNT_WINDOW_SECONDS, Ranked
from bot.storage import SprintMember, SprintRow, SprintStats

MAX_MESSAGE_CHARS = 2000
MAX_LISTED = 25  # writers named in a status (names are up to 32 characters each)


@dataclass(frozen=True)
class Announced:
    """A sprint was set up (running at once, or starting later)."""

    starter_name: str


@dataclass(frozen=True)
class Started:
    """The delay is over: go."""


@dataclass(frozen=True)
class PensDown:
    """Time is up: two minutes to send counts."""


@dataclass(frozen=True)
class Results:
    """The results, once."""

    ranked: tuple[Ranked, ...]
    members: int
    early: bool


@dataclass(frozen=True)
class Cancelled:
    """Called off by someone, or because everyone left before it began."""

    by_name: str | None


Notice = Announced | Started | PensDown | Results | Cancelled


class SprintBoard(Protocol):
    """Where a sprint's notices go: a Discord channel, or the console."""

    async def post(self, sprint: SprintRow, notice: Notice) -> int | None:
        """Post ``notice``; returns the message's id where there is one. Raises
        ``DestinationGone`` when the channel can no longer be written to."""
        ...


@dataclass(frozen=True)
class Style:
    """How a front end shows members' words and times."""

    escape: Callable[[str], str]
    when: Callable[[float], str]


def notice_text(sprint: SprintRow, notice: Notice, style: Style) -> str:
    """The message for ``notice``."""
    head = f"Sprint #{sprint.id}"
    prompt = f"\n✏️ Prompt: {style.escape(sprint.prompt)}" if sprint.prompt else ""
    if isinstance(notice, Announced):
        who = style.escape(notice.starter_name)
        if sprint.status == "waiting":
            return (
                f"⏳ {who} set up a {sprint.minutes}-minute sprint (#{sprint.id}): it starts "
                f"{style.when(sprint.starts_at)}. Join with `/sprint join`.{prompt}"
            )
        return (
            f"🏃 {who} started a {sprint.minutes}-minute sprint (#{sprint.id}): go! It ends "
            f"{style.when(sprint.ends_at)}. Join with `/sprint join`.{prompt}"
        )
    if isinstance(notice, Started):
        return f"🏃 {head} has begun: go! It ends {style.when(sprint.ends_at)}.{prompt}"
    if isinstance(notice, PensDown):
        window = int(COUNT_WINDOW_SECONDS // 60)
        return (
            f"⏰ Pens down! {head} is over. You have {window} minutes to send your count "
            "with `/sprint wc words:…` (your total) or `/sprint wrote words:…` (what you "
            f"added); results {style.when(sprint.count_until or sprint.ends_at)}."
        )
    if isinstance(notice, Cancelled):
        if notice.by_name is None:
            return f"🛑 {head} is off: everyone left before it began."
        return f"🛑 {head} was cancelled by {style.escape(notice.by_name)}."
    return results_text(sprint, notice, style)


def results_text(sprint: SprintRow, notice: Results, style: Style) -> str:
    """The results table."""
    length = f"{sprint.minutes} minute{'s' if sprint.minutes != 1 else ''}"
    lines = [f"🏁 **Sprint #{sprint.id} results** ({length})"]
    if notice.early:
        lines[0] += " — everyone left, so it ended early"
    if not notice.ranked:
        lines.append("Nobody sent a count this time.")
    for entry in notice.ranked:
        result = entry.result
        bests = [
            b for b, on in (("most words", entry.best_words), ("fastest", entry.best_wpm)) if on
        ]
        best = f" 🎉 personal best: {', '.join(bests)}" if bests else ""
        lines.append(
            f"{_medal(entry.place)} {style.escape(result.name)} — {result.words:,} words in "
            f"{result.minutes:.1f} min ({result.wpm:.1f} wpm){best}"
        )
    missing = notice.members - len(notice.ranked)
    tail = f"({missing} member{'s' if missing != 1 else ''} sent no count.)" if missing > 0 else ""
    return _fit(lines, tail)


def _fit(lines: list[str], tail: str) -> str:
    """The lines that fit in one Discord message, then how many more there were."""
    kept: list[str] = []
    size = len(tail) + 40  # room for the "and N more" line
    for line in lines:
        if size + len(line) + 1 > MAX_MESSAGE_CHARS:
            kept.append(f"…and {len(lines) - len(kept)} more.")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join([*kept, tail] if tail else kept)


def status_text(
    sprint: SprintRow, members: list[SprintMember], viewer_id: int, style: Style
) -> str:
    """Where the channel's sprint stands, for one member."""
    if sprint.status == "waiting":
        when = f"starts {style.when(sprint.starts_at)}"
    elif sprint.status == "running":
        when = f"running, ends {style.when(sprint.ends_at)}"
    else:
        when = f"over, send your count; results {style.when(sprint.count_until or sprint.ends_at)}"
    names = ", ".join(
        style.escape(m.user_name) + (" (left)" if m.left_at is not None else "")
        for m in members[:MAX_LISTED]
    )
    if len(members) > MAX_LISTED:
        names += f" and {len(members) - MAX_LISTED} more"
    lines = [f"Sprint #{sprint.id} ({sprint.minutes} min): {when}.", f"Writers: {names or '—'}"]
    if sprint.prompt:
        lines.append(f"Prompt: {style.escape(sprint.prompt)}")
    mine = next((m for m in members if m.user_id == viewer_id), None)
    if mine is not None:
        count = "no count yet" if mine.words is None else f"{mine.words - mine.starting_words:,}"
        lines.append(f"You: started at {mine.starting_words:,} words; written: {count}.")
    return "\n".join(lines)


def stats_text(stats: SprintStats | None, name: str) -> str:
    """A member's totals and bests."""
    if stats is None or stats.sprints == 0:
        return f"{name} has no finished sprints here yet. Start one with `/sprint start`."
    average = stats.words / stats.minutes if stats.minutes > 0 else 0.0
    return (
        f"📈 {name}: {stats.sprints} sprint{'s' if stats.sprints != 1 else ''}, "
        f"{stats.words:,} words in {stats.minutes:.0f} minutes ({average:.1f} wpm on average).\n"
        f"Personal bests: {stats.best_words:,} words in one sprint · {stats.best_wpm:.1f} wpm."
    )


def _medal(place: int) -> str:
    return {1: "🥇", 2: "🥈", 3: "🥉"}.get(place, f"{place}.")
