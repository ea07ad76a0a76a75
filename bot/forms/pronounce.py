"""How words sound: syllable counts and rhymes, from the CMU Pronouncing Dictionary, with a
rule-based guess for words it lacks.

The dictionary is the ``cmudict-0.7b`` file shipped in ``pronouncing`` 0.1.5 (BSD; the data
carries CMU's BSD-style licence). Later ``pronouncing`` releases depend on the GPL-3.0
``cmudict`` wrapper, and its own module imports ``pkg_resources``, so only the data file is
read here, found like the bundled model: through the installed distribution.

A word can be said several ways ("fire" is one syllable or two); every lookup returns all of
them, and a checker accepts a line if any reading fits, as a reader would.
"""

from __future__ import annotations

import importlib.metadata
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.forms.numbers import spell_number

DICTIONARY_DISTRIBUTION = "pronouncing"
DICTIONARY_FILE = "pronouncing/cmudict-0.7b"

_VOWEL_GROUP = re.compile(r"[aeiouy]+")
_WORD = re.compile(r"[0-9]+(?:[,.][0-9]{3})*(?:st|nd|rd|th)?|[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
# Endings whose syllables are known once the stem is: (ending, syllables it adds).
_SUFFIXES = (
    ("ingly", 2),
    ("fully", 2),
    ("lessly", 2),
    ("nesses", 2),
    ("ness", 1),
    ("less", 1),
    ("ment", 1),
    ("ful", 1),
    ("ing", 1),
    ("est", 1),
    ("ish", 1),
    ("ly", 1),
    ("er", 1),
    ("y", 1),
    ("es", 0),
    ("ed", 0),
    ("s", 0),
)
_SIBILANT_ENDS = ("s", "x", "z", "ch", "sh", "ge", "ce", "se", "ze")


@dataclass(frozen=True)
class Pronunciation:
    """How one word sounds: its possible syllable counts (the usual one first), its possible
    rhyme endings, and whether the dictionary knew it or this is a guess."""

    word: str
    syllables: tuple[int, ...]
    rhymes: tuple[str, ...]
    known: bool
    # The rhymes with their stress marks ("AA2 T" is not "AA1 T"): what a strict ear (and
    # CMUdict-based counters) call a rhyme. Empty for guessed words.
    strict_rhymes: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        """The usual syllable count."""
        return self.syllables[0]


class _Dictionary:
    """The CMU dictionary, loaded on first use (~0.4 s) by whichever thread needs it first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[str, ...]] | None = None
        self._endings: dict[str, str] | None = None

    @property
    def entries(self) -> dict[str, tuple[str, ...]]:
        if self._entries is None:
            with self._lock:
                if self._entries is None:
                    self._entries = _parse(dictionary_path())
        return self._entries

    def endings(self) -> dict[str, str]:
        """Spelling endings (last 3 or 4 letters) mapped to the rhyme of the commonest
        dictionary word that ends that way, for guessing the rhyme of unknown words."""
        if self._endings is None:
            with self._lock:
                if self._endings is None:
                    self._endings = _ending_index(self.entries)
        return self._endings


_DICTIONARY = _Dictionary()


def dictionary_path() -> Path:
    """The CMU dictionary file inside the installed ``pronouncing`` distribution."""
    try:
        dist = importlib.metadata.distribution(DICTIONARY_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError(
            "The pronouncing dictionary is not installed; run `make install` "
            "(it installs pronouncing==0.1.5)."
        ) from None
    return Path(str(dist.locate_file(DICTIONARY_FILE)))


def _parse(path: Path) -> dict[str, tuple[str, ...]]:
    entries: dict[str, list[str]] = {}
    for line in path.read_bytes().decode("latin-1").splitlines():
        if line.startswith(";;;"):
            continue
        word, _, phones = line.partition("  ")
        entries.setdefault(word.split("(", 1)[0].lower(), []).append(phones)
    return {word: tuple(phones) for word, phones in entries.items()}


def _ending_index(entries: dict[str, tuple[str, ...]]) -> dict[str, str]:
    from bot.forms.lexicon import zipf

    best: dict[str, tuple[float, str]] = {}
    for word, phones in entries.items():
        if not word.isalpha() or len(word) < 4:
            continue
        frequency = zipf(word)
        if frequency < 3.0:
            continue
        rhyme = rhyme_of_phones(phones[0])
        for size in (3, 4):
            ending = word[-size:]
            if frequency > best.get(ending, (0.0, ""))[0]:
                best[ending] = (frequency, rhyme)
    return {ending: rhyme for ending, (_, rhyme) in best.items()}


def words_of(text: str) -> list[str]:
    """The words of ``text`` as a reader counts them: letters with inner apostrophes and
    hyphens ("salt-bitten", "gull's"), and numbers ("1999", "3rd")."""
    return [match.group() for match in _WORD.finditer(text.replace("\u2019", "'"))]


def in_dictionary(word: str) -> bool:
    """Whether the CMU dictionary has ``word`` (any case)."""
    return _normal(word) in _DICTIONARY.entries


@lru_cache(maxsize=65536)
def pronounce(word: str) -> Pronunciation:
    """How ``word`` sounds; a number is spelled out first, a hyphenated word is its parts."""
    word = _normal(word)
    phones = _DICTIONARY.entries.get(word)
    if phones:
        # A weak form ("are" said "er", "them" said "thum") is no rhyme: rhymes come from the
        # readings that stress a vowel, where a word has one.
        stressed = [p for p in phones if any(ph[-1] in "12" for ph in p.split())] or phones
        return Pronunciation(
            word=word,
            syllables=tuple(dict.fromkeys(syllables_of_phones(p) for p in phones)),
            rhymes=tuple(dict.fromkeys(rhyme_of_phones(p) for p in stressed)),
            known=True,
            strict_rhymes=tuple(dict.fromkeys(rhyme_of_phones(p, strict=True) for p in stressed)),
        )
    spelled = spell_number(word)
    if spelled is not None:
        return _joined(word, [pronounce(part) for part in spelled], known=True)
    if "-" in word.strip("-"):
        parts = [pronounce(part) for part in word.split("-") if part]
        return _joined(word, parts, known=all(part.known for part in parts))
    if word.endswith("'s") and word[:-2] in _DICTIONARY.entries:
        return _possessive(word, pronounce(word[:-2]))
    return Pronunciation(
        word=word, syllables=(guess_syllables(word),), rhymes=(guess_rhyme(word),), known=False
    )


def syllables_of_phones(phones: str) -> int:
    """Syllables in a CMU pronunciation: one per vowel, which carries a stress digit."""
    return sum(phone[-1].isdigit() for phone in phones.split())


def rhyme_of_phones(phones: str, *, strict: bool = False) -> str:
    """The rhyming part of a pronunciation: from its last stressed vowel to the end, with
    stress marks dropped ("M UW1 N" → "UW N") unless ``strict``."""
    parts = phones.split()
    start = None
    for index, phone in enumerate(parts):
        if phone[-1] in "12":
            start = index
    if start is None:  # no stressed vowel ("a", "the"): from the last vowel
        vowels = [index for index, phone in enumerate(parts) if phone[-1].isdigit()]
        start = vowels[-1] if vowels else 0
    if strict:
        return " ".join(parts[start:])
    return " ".join(phone.rstrip("012") for phone in parts[start:])


def guess_syllables(word: str) -> int:
    """A spelling-based count for a word the dictionary lacks: a known stem plus its ending,
    two known words run together, or vowel groups with English's usual exceptions."""
    word = _normal(word)
    letters = "".join(ch for ch in word if ch.isalpha())
    if not letters:
        return 0
    if "'" in word:
        # A poet's elision ("o'er", "ev'ry", "heav'n") drops a vowel and its syllable, so the
        # letters left are read as they stand.
        return max(1, len(_VOWEL_GROUP.findall(letters)))
    entries = _DICTIONARY.entries
    for ending, extra in _SUFFIXES:
        if letters.endswith(ending) and len(letters) - len(ending) >= 3:
            stem = letters[: -len(ending)]
            for candidate in _stems(stem, ending):
                if candidate in entries:
                    return pronounce(candidate).count + _ending_syllables(candidate, ending, extra)
    head = _known_head(letters)
    if head:
        tail = letters[len(head) :]
        tail_count = pronounce(tail).count if tail in entries else _vowel_groups(tail)
        return pronounce(head).count + tail_count
    return _vowel_groups(letters)


def guess_rhyme(word: str) -> str:
    """A rhyme ending for a word the dictionary lacks: that of a known last part ("gullwing" →
    "wing"), else that of the commonest known word with the same last four letters, else the
    spelling from its (guessed) stressed vowel on, which rhymes only with a like spelling."""
    letters = "".join(ch for ch in _normal(word) if ch.isalpha())
    entries = _DICTIONARY.entries
    for split in range(3, len(letters) - 2):
        if letters[:split] in entries and letters[split:] in entries:
            return pronounce(letters[split:]).rhymes[0]
    rhyme = _DICTIONARY.endings().get(letters[-4:]) if len(letters) > 4 else None
    if rhyme:
        return rhyme
    groups = list(_VOWEL_GROUP.finditer(letters))
    if not groups:
        return letters
    # Two-syllable English words mostly stress the first; longer ones the one before last.
    stressed = groups[0] if len(groups) <= 2 else groups[-2]
    return "~" + letters[stressed.start() :]


def _known_head(letters: str) -> str:
    """The longest dictionary word that ``letters`` starts with, leaving at least three
    letters after it ("lovelorn" → "love"); a head of three letters only before a known word
    ("sun" + "washed")."""
    entries = _DICTIONARY.entries
    for split in range(len(letters) - 3, 2, -1):
        head, tail = letters[:split], letters[split:]
        if head in entries and (split > 3 or tail in entries):
            return head
    return ""


def _ending_syllables(stem: str, ending: str, extra: int) -> int:
    """Syllables an ending adds to a known stem: "-es" and "-ed" add one after some stems
    ("roses", "wanted"); "-y" after "-le" merges with it ("twinkle" → "twinkly")."""
    if ending == "es" and stem.endswith(_SIBILANT_ENDS):
        return 1
    if ending == "ed" and stem.endswith(("t", "d", "te", "de")):
        return 1
    if ending in ("y", "ly") and stem.endswith("le"):
        return 0
    return extra


def _stems(stem: str, ending: str) -> list[str]:
    stems = [stem]
    if ending in ("ing", "ed", "er", "est", "y", "es") or ending.startswith("ing"):
        stems.append(stem + "e")  # hoping → hope
        if len(stem) > 3 and stem[-1] == stem[-2]:
            stems.append(stem[:-1])  # running → run
    if stem.endswith("i"):
        stems.append(stem[:-1] + "y")  # happiness → happy
    return stems


def _vowel_groups(letters: str) -> int:
    count = len(_VOWEL_GROUP.findall(letters))
    if letters.endswith("e") and not letters.endswith(("le", "ee", "ye", "ie")) and count > 1:
        count -= 1  # silent e: "stone"
    elif letters.endswith("le") and len(letters) > 2 and letters[-3] in "aeiouy":
        count -= 1  # "smile", not "table"
    if count > 1 and letters.endswith("ed") and not letters.endswith(("ted", "ded")):
        count -= 1  # "dreamed", "washed"; but "wanted" keeps its -ed
    elif count > 1 and letters.endswith("es") and not letters[:-2].endswith(_SIBILANT_ENDS):
        count -= 1  # "stones"; but "roses" keeps its -es
    # Vowels said apart: "radio", "poem", "science", but not "nation" or "special".
    count += len(re.findall(r"(?<![tsc])i[aou]|eo|ua|uo|oe(?!s?$)", letters))
    return max(1, count)


def _normal(word: str) -> str:
    return word.lower().replace("\u2019", "'").strip("'-")


def _joined(word: str, parts: list[Pronunciation], *, known: bool) -> Pronunciation:
    if not parts:
        return Pronunciation(word=word, syllables=(0,), rhymes=("",), known=known)
    total = sum(part.count for part in parts)
    low = sum(min(part.syllables) for part in parts)
    high = sum(max(part.syllables) for part in parts)
    counts = (total, *(n for n in range(low, high + 1) if n != total))
    return Pronunciation(word=word, syllables=counts, rhymes=parts[-1].rhymes, known=known)


def _possessive(word: str, stem: Pronunciation) -> Pronunciation:
    extra = 1 if stem.word.endswith(_SIBILANT_ENDS) else 0
    return Pronunciation(
        word=word,
        syllables=tuple(n + extra for n in stem.syllables),
        rhymes=tuple(rhyme + (" IH Z" if extra else " Z") for rhyme in stem.rhymes),
        known=True,
    )


def rhymes(first: str, second: str) -> bool:
    """Whether two words rhyme in any of their readings (a word rhymes with itself)."""
    return bool(set(pronounce(first).rhymes) & set(pronounce(second).rhymes))
