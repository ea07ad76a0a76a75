"""What a line of a poem game may be, for a player's line and for the AI's alike."""

from __future__ import annotations

import unicodedata

from bot.errors import InvalidRequest
from bot.links import contains_invite

MAX_LINE_CHARS = 200
MAX_TITLE_CHARS = 100
MAX_SEAT_NAME_CHARS = 64

# Characters that would let one "line" look like several, or hide text.
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}


def clean_line(text: str) -> str:
    """A player's line, tidied; raises ``InvalidRequest`` with a kind reason when it can't be
    used (empty, several lines, too long, an invite)."""
    flat = _tidy(text)
    if "\n" in flat:
        raise InvalidRequest("A line is one line of text: please take out the line breaks.")
    if not flat:
        raise InvalidRequest("Your line is empty: write a few words, then send it again.")
    if len(flat) > MAX_LINE_CHARS:
        raise InvalidRequest(
            f"Your line is {len(flat)} characters long; a line can have at most "
            f"{MAX_LINE_CHARS}. Try splitting the thought, or trimming a few words."
        )
    if contains_invite(flat):
        raise InvalidRequest("Invite links can't go into a poem: please take the link out.")
    return flat


def clean_ai_line(text: str) -> str | None:
    """The AI's line made to fit (first non-empty line, cut at a word to the limit), or None
    when nothing usable is left."""
    for raw in _tidy(text).split("\n"):
        line = raw.strip().strip('"“”').strip()
        if not line or contains_invite(line):
            continue
        if len(line) > MAX_LINE_CHARS:
            cut = line[:MAX_LINE_CHARS]
            space = cut.rfind(" ")
            line = cut[:space] if space > MAX_LINE_CHARS // 2 else cut
        return line.rstrip()
    return None


def clean_title(text: str) -> str:
    """A title for the poem (the host's or the AI's): one line, not too long."""
    flat = " ".join(_tidy(text).split()).strip('"“”*# ').strip()
    if len(flat) > MAX_TITLE_CHARS:
        cut = flat[:MAX_TITLE_CHARS]
        space = cut.rfind(" ")
        flat = (cut[:space] if space > MAX_TITLE_CHARS // 2 else cut).rstrip(" ,;:.-") + "…"
    if contains_invite(flat):
        raise InvalidRequest("Invite links can't go into a title: please take the link out.")
    return flat


def seat_name(name: str) -> str:
    """A display name as the game shows it."""
    flat = " ".join(_tidy(name).split()) or "someone"
    return flat[:MAX_SEAT_NAME_CHARS]


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\t", " ")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    kept = (
        ch
        for ch in text
        if ch == "\n"
        or (ch not in _INVISIBLE and unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    )
    # NFC after the hidden characters are gone: "a", ZWSP, combining acute composes to "á"
    # only then, so a line reads back (and compares) the same however often it is tidied.
    return unicodedata.normalize("NFC", "".join(kept)).strip()
