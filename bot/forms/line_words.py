"""The words a constrained poem line may use, and how the constraint reads a line.

Common English words only (in the pronouncing dictionary and fairly frequent), the short
words English really has, and none of a chat model's preamble words; a prefix index of them
for finding what a half-written word can become; the rhymes that are common enough to steer
a line to. Everything here is cached, since the constraint asks the same questions for every
candidate token of every step.
"""

from __future__ import annotations

import bisect
import threading
from functools import lru_cache

from bot.forms.lexicon import COMMON_ZIPF, RhymeWord, rhymes_for, zipf
from bot.forms.pronounce import _DICTIONARY, pronounce

_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'\u2019")
# The short words English has; the frequency list also knows "la", "re" and "ed".
_SHORT_WORDS = frozenset(
    [
        "a",
        "i",
        "o",
        "am",
        "an",
        "as",
        "at",
        "be",
        "by",
        "do",
        "go",
        "he",
        "if",
        "in",
        "is",
        "it",
        "me",
        "my",
        "no",
        "of",
        "oh",
        "on",
        "or",
        "ox",
        "so",
        "to",
        "up",
        "us",
        "we",
        "ye",
    ]
)
# Words that only a chat model's preamble uses ("Here is a haiku about…").
_BANNED = frozenset({"haiku", "limerick", "sonnet", "quatrain", "syllable", "syllables", "stanza"})
_VOCABULARY_ZIPF = 3.5


def words_in(text: str) -> list[str]:
    """Words of a constrained line: letters with inner apostrophes and hyphens split apart."""
    words: list[str] = []
    current: list[str] = []
    for ch in text:
        if ch in _WORD_CHARS:
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return [w.strip("'\u2019") for w in words if w.strip("'\u2019")]


def partial_word(line: str) -> str:
    """The word still being written at the end of ``line`` ("" after a space or mark)."""
    end = len(line)
    start = end
    while start > 0 and line[start - 1] in _WORD_CHARS:
        start -= 1
    return line[start:end]


def last_word(line: str) -> str:
    """The line's last word, in lower case ("" if it has none)."""
    words = words_in(line)
    return words[-1].lower() if words else ""


def syllables_of(text: str) -> int:
    """Syllables of the words in ``text``, each by its usual reading."""
    return syllables_of_words(words_in(text))


def syllables_of_words(words: list[str]) -> int:
    """Syllables of ``words``, each by its usual reading."""
    return sum(pronounce(word).count for word in words)


@lru_cache(maxsize=65536)
def is_writable(word: str) -> bool:
    """Whether a constrained line may use ``word``: said as the dictionary says it, fairly
    common, a real short word if it is one, and no preamble word ("haiku")."""
    lower = word.lower().replace("\u2019", "'")
    if lower in _BANNED or (len(lower) <= 2 and lower not in _SHORT_WORDS):
        return False
    return lower in _DICTIONARY.entries and zipf(lower) >= COMMON_ZIPF


@lru_cache(maxsize=65536)
def rhymes_with(word: str, partner: str) -> bool:
    """Whether ``word`` rhymes with ``partner`` in some stressed reading, stress marks and
    all: the decoder writes rhymes that any CMUdict-based count accepts ("astronaut" and
    "not" differ in stress, so they don't)."""
    said, other = pronounce(word), pronounce(partner)
    if not other.strict_rhymes:  # a partner the dictionary lacks: rhyme with its guess
        return bool(set(said.rhymes) & set(other.rhymes))
    return bool(set(said.strict_rhymes) & set(other.strict_rhymes))


@lru_cache(maxsize=4096)
def rhyme_list(partner: str) -> tuple[RhymeWord, ...]:
    """The writable common rhymes for ``partner``, commonest first."""
    return tuple(
        rhyme
        for rhyme in rhymes_for(partner)
        if is_writable(rhyme.word) and rhymes_with(rhyme.word, partner)
    )


@lru_cache(maxsize=65536)
def rhyme_fits(partner: str, room: int) -> bool:
    """Whether ``room`` syllables can still end on a common rhyme for ``partner``: one of at
    most that many syllables exists (shorter words can fill what it leaves)."""
    return any(rhyme.syllables <= room for rhyme in rhyme_list(partner))


class _Vocabulary:
    """Common words in alphabetical order, for finding the words a prefix can become."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._words: list[str] | None = None

    def words(self) -> list[str]:
        if self._words is None:
            with self._lock:
                if self._words is None:
                    self._words = sorted(
                        word
                        for word in _DICTIONARY.entries
                        if word.isalpha() and zipf(word) >= _VOCABULARY_ZIPF and is_writable(word)
                    )
        return self._words


_VOCABULARY = _Vocabulary()


def warm_vocabulary() -> None:
    """Build the prefix index now rather than at the first constrained word."""
    _VOCABULARY.words()


@lru_cache(maxsize=16384)
def words_starting(prefix: str) -> tuple[str, ...]:
    """Common words starting with ``prefix``, commonest first."""
    words = _VOCABULARY.words()
    start = bisect.bisect_left(words, prefix)
    end = bisect.bisect_left(words, prefix + "\uffff")
    found = words[start:end]
    if prefix and is_writable(prefix) and prefix not in found:
        found = [*found, prefix]
    return tuple(sorted(found, key=lambda word: -zipf(word)))
