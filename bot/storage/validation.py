"""Limits and input checks shared by the repositories.

Lengths are counted in Python characters (code points), the same way Discord's
option limits are described to users.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.storage.errors import InvalidName, TooLong

MAX_NAME_CHARS = 64
# Discord's paragraph text input allows 4,000 characters; a premise typed there must
# be storable both in a generation and as a saved prompt, so both use the same limit.
MAX_PROMPT_CHARS = 4_000
# Generated text is bounded by the model's token cap, not by anyone's typing: room for the
# config's highest generation.max_new_tokens_cap (4,096) times the most characters a token
# adds (128, see bot/config.py), so a finished piece is never refused for its length.
MAX_GENERATION_CHARS = 4_096 * 128
MAX_OPTIONS_CHARS = 4_000
MAX_GAME_LINE_CHARS = 200  # one line of a poem game (the 1-200 characters)
# A game's rules state (seats, turn, votes, candidate lines): generous, but a runaway state
# (a bug that appends forever) is refused instead of growing the file each move.
MAX_GAME_STATE_CHARS = 100_000
MAX_SAVED_PROMPTS = 100
MAX_FAVORITES = 500


@dataclass(frozen=True)
class Quotas:
    """How many saved items each user may keep (config ``[limits]``). Each is enforced where
    the row is inserted, in the same transaction as the count, so a double click cannot go
    over it."""

    favorites: int = MAX_FAVORITES
    prompts: int = MAX_SAVED_PROMPTS


MAX_PAGE_SIZE = 100
MAX_AUTOCOMPLETE = 25  # Discord shows at most 25 choices.


def clean_name(name: str, what: str = "name") -> str:
    """Strip surrounding whitespace and check a user-chosen name.

    Control characters (newlines, NUL, ...) are refused because names are shown in
    single-line autocomplete lists; everything else (emoji, RTL, zero-width) is kept.
    """
    cleaned = name.strip()
    if not cleaned:
        raise InvalidName(f"The {what} can't be empty.")
    if len(cleaned) > MAX_NAME_CHARS:
        raise TooLong(what, len(cleaned), MAX_NAME_CHARS)
    if any(unicodedata.category(ch) == "Cc" for ch in cleaned):
        raise InvalidName(f"The {what} can't contain line breaks or control characters.")
    return cleaned


def name_key(name: str) -> str:
    """The form of a name used for case-insensitive uniqueness and matching.

    SQLite's NOCASE only folds ASCII, so "Été" and "été" would be different names;
    NFC + casefold in Python handles every script.
    """
    return unicodedata.normalize("NFC", name.strip()).casefold()


def check_length(value: str, what: str, limit: int) -> str:
    """Return `value` unchanged, or raise `TooLong` naming `what`."""
    if len(value) > limit:
        raise TooLong(what, len(value), limit)
    return value


def to_json(value: Mapping[str, Any], what: str, limit: int = MAX_OPTIONS_CHARS) -> str:
    """Serialise a mapping for a JSON column (NaN/inf are refused: not valid JSON)."""
    text = json.dumps(dict(value), ensure_ascii=False, sort_keys=True, allow_nan=False)
    return check_length(text, what, limit)


def check_page(limit: int, offset: int) -> None:
    """Refuse nonsense paging arguments (a caller bug, not user input)."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}, got {limit}")
    if offset < 0:
        raise ValueError(f"offset must not be negative, got {offset}")
