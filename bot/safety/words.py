"""Finding listed words in text, however they are spelled: the matcher behind the filter.

Text is cut into tokens (letters and digits, with the symbols people use for letters inside a
word: ``sh!t``, ``$hit``, ``4r5e``). Each token is compared in a normal form: lower case,
accents dropped, look-alike digits and symbols read as letters, a letter held for three or
more repeats read once (``fuuuck``). A list entry of several words (``hand job``) matches the
same tokens in a row, whatever stands between them; letters spelled out one by one
(``f u c k``, ``s.h.i.t``) are read joined as well.

``WordMatcher.find`` gives the spans of the original text that match, so the caller can name
or mask exactly those characters. Nothing here knows about Discord or guilds.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from wordfreq import zipf_frequency

# A token: word characters, with the look-alike symbols people put inside words.
_TOKEN = re.compile(r"[^\W_]+(?:[@$!+*]+[^\W_]+)*[+]?|[@$][^\W_]+(?:[@$!+]+[^\W_]+)*[+]?")
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s"}
)
_LEET_SYMBOLS = str.maketrans({"!": "i", "+": "t"})
_HELD = re.compile(r"(.)\1{2,}")
# Letters spelled out one at a time may stand this far apart ("f . u . c . k").
_SPELLED_GAP = 3
# Strict mode looks inside longer words only for entries this long (shorter ones, such as
# "ass", hide inside too many ordinary words), and never inside a word this common in
# English (wordfreq's Zipf scale: 3 is about once per million words: "class", "cocoon").
SUBSTRING_MIN_LETTERS = 4
COMMON_WORD_ZIPF = 3.0


def normalise(token: str) -> str:
    """A token's comparable form: lower case, no accents, look-alikes read as letters."""
    decomposed = unicodedata.normalize("NFKD", token)
    text = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    text = text.replace("'", "").replace("*", "")
    if any(c.isalpha() for c in text):  # "2 girls 1 cup": a number alone stays a number
        text = text.translate(_LEET)
    return text.translate(_LEET_SYMBOLS)


def _held_once(word: str) -> str:
    return _HELD.sub(r"\1", word)


@dataclass(frozen=True, slots=True)
class Token:
    """One token of a text: where it stands, and its normal form."""

    start: int
    end: int
    word: str


def tokens(text: str) -> list[Token]:
    """The text's tokens, in order."""
    found = []
    for match in _TOKEN.finditer(text):
        word = normalise(match.group())
        if word:
            found.append(Token(match.start(), match.end(), word))
    return found


def entry_words(entry: str) -> tuple[str, ...]:
    """A list entry as the words a text must show in a row to match it. An entry of one
    word is read whole, symbols and all ("sh!+" is "shit")."""
    entry = entry.strip()
    if entry and not re.search(r"[\s\-.]", entry):
        word = normalise(entry)
        return (word,) if word else ()
    return tuple(token.word for token in tokens(entry))


@lru_cache(maxsize=65536)
def _common(word: str) -> bool:
    return zipf_frequency(word, "en") >= COMMON_WORD_ZIPF


@dataclass(frozen=True, slots=True)
class Match:
    """A span of the original text that matched a list entry."""

    start: int
    end: int
    entry: str


class WordMatcher:
    """Finds a fixed set of entries in texts. Built once per list; ``find`` is cheap."""

    def __init__(self, entries: Iterable[str], *, inside_words: bool = False) -> None:
        self._single: set[str] = set()
        self._phrases: dict[str, list[tuple[str, ...]]] = {}
        entries = list(entries)
        plain = {entry.casefold() for entry in entries}
        for entry in entries:
            words = entry_words(entry)
            if len(words) == 1:
                word = words[0]
                # A look-alike spelling that reads as an ordinary word the list doesn't hold
                # itself ("s0b" is "sob"; "t1t" where "tit" is left out) would block that word.
                if word != entry.casefold() and word not in plain and _common(word):
                    continue
                self._single.add(word)
            elif words:
                self._phrases.setdefault(words[0], []).append(words)
        self._inside: re.Pattern[str] | None = None
        if inside_words:
            long_enough = sorted(
                (w for w in self._single if len(w) >= SUBSTRING_MIN_LETTERS and w.isalpha()),
                key=len,
                reverse=True,
            )
            if long_enough:
                self._inside = re.compile("|".join(re.escape(w) for w in long_enough))

    def __bool__(self) -> bool:
        return bool(self._single or self._phrases)

    def find(self, text: str) -> list[Match]:
        """Every span of ``text`` that matches an entry, in order, without overlaps."""
        words = tokens(text)
        found: list[Match] = []
        index = 0
        while index < len(words):
            length = self._match_at(words, index)
            if length:
                first, last = words[index], words[index + length - 1]
                entry = " ".join(t.word for t in words[index : index + length])
                found.append(Match(first.start, last.end, entry))
                index += length
            else:
                index += 1
        return found

    def _match_at(self, words: list[Token], index: int) -> int:
        """How many tokens from ``index`` on match an entry (0: none)."""
        word = words[index].word
        for phrase in self._phrases.get(word, ()):
            if tuple(t.word for t in words[index : index + len(phrase)]) == phrase:
                return len(phrase)
        if self._is_listed(word):
            return 1
        spelled = self._spelled_out(words, index)
        if spelled:
            return spelled
        if self._inside is not None and not _common(word) and self._inside.search(word):
            return 1
        return 0

    def _is_listed(self, word: str) -> bool:
        return word in self._single or _held_once(word) in self._single

    def _spelled_out(self, words: list[Token], index: int) -> int:
        """Single letters in a row that spell an entry ("f u c k"): how many tokens."""
        run = 0
        while (
            index + run < len(words)
            and len(words[index + run].word) == 1
            and (run == 0 or words[index + run].start - words[index + run - 1].end <= _SPELLED_GAP)
        ):
            run += 1
        # The longest spelling first: "s h i t e" before "s h i t".
        for length in range(run, 2, -1):
            if "".join(t.word for t in words[index : index + length]) in self._single:
                return length
        return 0


def mask(text: str, matches: Iterable[Match], replacement: str) -> str:
    """``text`` with every matched span replaced by ``replacement``."""
    out: list[str] = []
    cursor = 0
    for match in sorted(matches, key=lambda m: m.start):
        if match.start < cursor:
            continue
        out.append(text[cursor : match.start])
        out.append(replacement)
        cursor = match.end
    out.append(text[cursor:])
    return "".join(out)
