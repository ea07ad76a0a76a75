"""Which words are English, how common they are, and which common words rhyme.

Word frequencies come from ``wordfreq`` (code Apache-2.0, data CC BY-SA 4.0). A word counts as
known if the pronouncing dictionary or the frequency list has it; the degeneracy guard calls
anything else a non-word. The rhyme index lists common words only, since a small model steered
to "Zsa Zsa" writes nonsense around it.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from dataclasses import dataclass

from bot.forms.pronounce import _DICTIONARY, in_dictionary, pronounce

# Zipf frequency: log10 of occurrences per billion words. 3 is "fairly common" (gull, dunes).
KNOWN_ZIPF = 1.0
COMMON_ZIPF = 3.4
RHYME_ZIPF = 3.8
_LOCK = threading.Lock()
_frequencies: dict[str, float] | None = None
_rhyme_index: dict[str, tuple[RhymeWord, ...]] | None = None


@dataclass(frozen=True)
class RhymeWord:
    """A common word that ends a line well: its spelling, syllables and frequency."""

    word: str
    syllables: int
    zipf: float


def zipf(word: str) -> float:
    """How common ``word`` is on wordfreq's Zipf scale (0 for unknown, ~7 for "the")."""
    frequencies = _frequency_table()
    value = frequencies.get(word.lower().replace("\u2019", "'"))
    return 0.0 if not value else math.log10(value) + 9.0


def is_known(word: str) -> bool:
    """Whether ``word`` is English: in the pronouncing dictionary or the frequency list (a
    number, or a hyphenated word whose parts are known, counts too)."""
    word = word.lower().replace("\u2019", "'").strip("'-")
    if not word or word.isdigit():
        return True
    if in_dictionary(word) or zipf(word) >= KNOWN_ZIPF:
        return True
    if "-" in word:
        return all(is_known(part) for part in word.split("-") if part)
    return word.endswith("'s") and is_known(word[:-2])


def is_common(word: str) -> bool:
    """Whether ``word`` is known and fairly common, and said as the dictionary says it: what
    the constrained decoder lets a small model write."""
    return in_dictionary(word) and zipf(word) >= COMMON_ZIPF


def rhyme_words(rhyme: str) -> tuple[RhymeWord, ...]:
    """Common words whose (usual) rhyme ending is ``rhyme``, commonest first."""
    return _index().get(rhyme, ())


def rhymes_for(word: str) -> tuple[RhymeWord, ...]:
    """Common words that rhyme with ``word``, other than ``word`` itself, commonest first."""
    seen: dict[str, RhymeWord] = {}
    for rhyme in pronounce(word).rhymes:
        for candidate in rhyme_words(rhyme):
            if candidate.word != word.lower():
                seen.setdefault(candidate.word, candidate)
    return tuple(sorted(seen.values(), key=lambda item: -item.zipf))


def _frequency_table() -> dict[str, float]:
    global _frequencies
    if _frequencies is None:
        with _LOCK:
            if _frequencies is None:
                from wordfreq import get_frequency_dict

                _frequencies = get_frequency_dict("en", wordlist="best")
    return _frequencies


def _index() -> dict[str, tuple[RhymeWord, ...]]:
    global _rhyme_index
    if _rhyme_index is None:
        entries = _DICTIONARY.entries
        index: dict[str, list[RhymeWord]] = defaultdict(list)
        for word in entries:
            if not word.isalpha() or len(word) < 3:
                continue
            frequency = zipf(word)
            if frequency < RHYME_ZIPF:
                continue
            said = pronounce(word)
            index[said.rhymes[0]].append(RhymeWord(word, said.count, frequency))
        built = {key: tuple(sorted(words, key=lambda w: -w.zipf)) for key, words in index.items()}
        with _LOCK:
            _rhyme_index = built
    return _rhyme_index
