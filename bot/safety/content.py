"""The content filter: what a guild's rating means, and how text is checked and masked.

Ratings (``/settings content``):

- ``standard`` (the default): better-profanity's list without its everyday words
  (``bot.safety.lists``), matched as whole words in any spelling, plus the guild's own words.
- ``strict``: the whole list, and listed words of four letters or more are also found inside
  longer words ("fuckwit"), unless the longer word is common English ("class", "cocoon").
  The guild's own words are found inside longer words too.
- ``off``: no list, only in age-restricted (NSFW) channels; anywhere else a guild set to
  ``off`` is filtered as ``standard``. The guild's own blocked words still apply: admins
  chose them.

The same check runs on what people type (before any work is queued: ``ContentBlocked``
names the words and gives the text back) and on what the model writes (masked).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from bot.errors import InkwellError, InvalidRequest
from bot.safety.lists import standard_words, strict_words
from bot.safety.words import Match, WordMatcher, mask, tokens

MASK = "▒▒▒"
MAX_BLOCKED_WORDS = 200
MAX_BLOCKED_WORD_CHARS = 40
# How much of a refused text is given back in the message itself (Discord allows 2,000
# characters); longer texts are given back as a file.
ECHO_CHARS = 1500


class Rating(StrEnum):
    """A guild's content rating."""

    STRICT = "strict"
    STANDARD = "standard"
    OFF = "off"


DEFAULT_RATING = Rating.STANDARD


def effective_rating(rating: str | Rating, *, nsfw: bool) -> Rating:
    """The rating that applies in a channel: ``off`` only where the channel is age-restricted."""
    chosen = Rating(rating)
    if chosen is Rating.OFF and not nsfw:
        return Rating.STANDARD
    return chosen


@dataclass(frozen=True)
class Verdict:
    """What the filter found in one text."""

    text: str
    matches: tuple[Match, ...]

    @property
    def clean(self) -> bool:
        """Nothing was found."""
        return not self.matches

    @property
    def words(self) -> list[str]:
        """The words found, as written, each once."""
        seen: dict[str, None] = {}
        for match in self.matches:
            seen.setdefault(self.text[match.start : match.end], None)
        return list(seen)

    def masked(self) -> str:
        """The text with every word found replaced by ``MASK``."""
        return mask(self.text, self.matches, MASK)


class ContentBlocked(InkwellError):
    """Someone's text holds words this server doesn't allow; nothing was queued. ``text`` is
    their text, given back so they can edit it."""

    def __init__(self, user_message: str, *, text: str, words: list[str]) -> None:
        super().__init__(user_message)
        self.text = text
        self.words = words


def blocked_message(verdict: Verdict, what: str) -> str:
    """The kind refusal for ``what`` ("prompt", "line", "entry"), with the text given back
    when it fits in the message."""
    words = ", ".join(f"“{w}”" for w in verdict.words[:10])
    head = (
        f"I can't use that {what}: it has words this server's content settings don't allow "
        f"({words}). Nothing was queued and nothing was posted. "
    )
    if len(verdict.text) > ECHO_CHARS:
        return head + "Your text is attached so you can edit it and try again."
    fence = "````" if "```" in verdict.text else "```"
    return f"{head}Here is your text to edit and try again:\n{fence}\n{verdict.text}\n{fence}"


class ContentFilter:
    """Checks and masks text for a rating and a guild's own words. Building the list matchers
    is done once; a guild's own matcher is built once per distinct word list."""

    def __init__(self) -> None:
        self._lists = {
            Rating.STANDARD: WordMatcher(standard_words()),
            Rating.STRICT: WordMatcher(strict_words(), inside_words=True),
        }

    def check(self, text: str, rating: Rating, blocked_words: Iterable[str] = ()) -> Verdict:
        """What in ``text`` the rating's list or the guild's words catch."""
        matches: list[Match] = []
        listed = self._lists.get(rating)
        if listed is not None:
            matches.extend(listed.find(text))
        own = _guild_matcher(frozenset(blocked_words), rating is Rating.STRICT)
        if own:
            matches.extend(own.find(text))
        return Verdict(text, tuple(sorted(matches, key=lambda m: (m.start, -m.end))))

    def require_clean(
        self, text: str, rating: Rating, blocked_words: Iterable[str], *, what: str
    ) -> None:
        """Raise ``ContentBlocked`` if ``text`` holds anything the filter catches."""
        verdict = self.check(text, rating, blocked_words)
        if not verdict.clean:
            raise ContentBlocked(blocked_message(verdict, what), text=text, words=verdict.words)


@lru_cache(maxsize=256)
def _guild_matcher(words: frozenset[str], inside_words: bool) -> WordMatcher:
    return WordMatcher(words, inside_words=inside_words)


def clean_blocked_word(word: str) -> str:
    """A guild's blocked word in the form it is stored and compared in (lower case, single
    spaces), or ``InvalidRequest`` saying kindly what is wrong with it."""
    cleaned = re.sub(r"\s+", " ", word).strip().casefold()
    if not cleaned:
        raise InvalidRequest("Give me a word or a short phrase to block.")
    if len(cleaned) > MAX_BLOCKED_WORD_CHARS:
        raise InvalidRequest(
            f"A blocked word or phrase can be at most {MAX_BLOCKED_WORD_CHARS} characters; "
            f"that one has {len(cleaned)}."
        )
    if not tokens(cleaned):
        raise InvalidRequest(
            "A blocked word needs at least one letter or digit, so I can find it in text."
        )
    return cleaned
