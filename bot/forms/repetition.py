"""Finding the loops small models fall into: the same words, line or characters over and over.

The stop rule calls this after every token on texts of a few thousand characters, so the work
is kept to a few passes in C (translate, split, regular expressions) plus one light loop.
"""

from __future__ import annotations

import re

_EDGE_PUNCTUATION = "\"'“”\u2018\u2019«»()[]{}<>.,;:!?…*_~-\u2013—/\\|"
# Punctuation becomes spaces (one for one, so positions survive) and words are compared by
# their letters alone: "la, la, la" loops just like "la la la".
_PUNCTUATION_TO_SPACE = str.maketrans(dict.fromkeys(_EDGE_PUNCTUATION, " "))
_WORD = re.compile(r"\S+")
# The word sequence is spelled as one character per distinct word. A lone word loops at 6
# copies ("la la la la la la"), a unit of two or three words at 4, and a unit of four words or
# more (up to a long stanza) at 3, so a refrain sung twice is never a loop.
_SHORT_UNIT_LOOP = re.compile(r"(.)\1{5,}|(.{2,3}?)\2{3,}", re.S)
_LONG_UNIT_COPIES = 3
_LONG_UNIT_MIN = 4
_LONG_UNIT_MAX = 60
_FIRST_CODE = 0x4E00  # start of a large block of ordinary characters, none special in a regex
# Runs of characters: "!!!!!!!!!!", "hahahahahahahaha", "abcabcabcabcabcabc". Only a stretch
# without spaces of at least ten characters can hold one, and those are rare, so only they are
# searched.
_LONG_RUN = re.compile(r"\S{10,}")
_CHAR_LOOP = re.compile(r"(\S)\1{9,}|(\S{2})\2{7,}|(\S{3,4}?)\3{5,}")
_LINE_COPIES = 3


def repetition_cut(text: str) -> int | None:
    """Where a runaway loop in ``text`` starts repeating itself, or None.

    A loop is a unit of four or more words repeated at least three times in a row, a shorter
    phrase or a word repeated more often, the same line three times in a row, or a long run of
    the same few characters. The answer is the index of the loop's second copy, so the text
    kept before it holds the unit once; of the words where a second copy can be said to start
    (any rotation of the unit repeats too), the first that begins a sentence or line is chosen.
    A refrain repeated twice is not a loop.
    """
    cuts = [_word_loop(text), _line_loop(text), _char_loop(text)]
    found = [cut for cut in cuts if cut is not None]
    return min(found) if found else None


def repeat_start(text: str) -> int:
    """Where ``text`` ends by repeating what came just before it: the start of a second copy
    of a unit of up to 60 words that runs to the end (a loop may be starting there), or
    ``len(text)`` if it does not end that way. A word still being written is ignored."""
    spaced, codes = _word_codes(text)
    if text[-1:].isalnum():
        codes = codes[:-1]  # the last word may still be being written
    best: tuple[int, int] | None = None  # (second copy's word index, unit size)
    for size in range(1, min(_LONG_UNIT_MAX, len(codes) // 2) + 1):
        run = 0
        while run < len(codes) - size and codes[-1 - run] == codes[-1 - run - size]:
            run += 1
        if run >= size and (best is None or len(codes) - run < best[0]):
            best = (len(codes) - run, size)
    if best is None:
        return len(text)
    second, size = best
    return _rotation_start(text, spaced, second, min(second + size, len(codes)))


def _word_codes(text: str) -> tuple[str, str]:
    """``text`` with punctuation as spaces, and its words spelled one character per word."""
    spaced = text.translate(_PUNCTUATION_TO_SPACE)
    words = spaced.lower().split()
    table = {word: chr(_FIRST_CODE + index) for index, word in enumerate(dict.fromkeys(words))}
    return spaced, "".join(map(table.__getitem__, words))


def _rotation_start(text: str, spaced: str, first: int, stop: int) -> int:
    """Where in ``text`` to cut a loop whose second copy can begin at any word from ``first``
    to before ``stop`` (any rotation of the unit is a copy of it): at the first of those words
    that begins a sentence or line, so the copy kept is whole ("He ran home.", not "He ran
    home. He ran"), else at word ``first``."""
    words = [match.span() for match in _WORD.finditer(spaced)]
    for index in range(max(first, 1), stop):
        gap = text[words[index - 1][1] : words[index][0]]
        if any(mark in gap for mark in ".!?\u2026\n"):
            return words[index][0]
    return words[first][0]


def _word_loop(text: str) -> int | None:
    spaced, codes = _word_codes(text)
    loops: list[tuple[int, int]] = []  # (second copy's word index, unit size)
    loop = _SHORT_UNIT_LOOP.search(codes)
    if loop is not None:
        unit = next(group for group in loop.groups() if group is not None)
        loops.append((loop.start() + len(unit), len(unit)))
    long_loop = _long_unit_loop(codes)
    if long_loop is not None:
        loops.append(long_loop)
    if not loops:
        return None
    second, size = min(loops)
    period_end = second
    while period_end < len(codes) and codes[period_end] == codes[period_end - size]:
        period_end += 1
    return _rotation_start(text, spaced, second, min(second + size, period_end))


def _long_unit_loop(codes: str) -> tuple[int, int] | None:
    """Where the first loop of a 4-to-60-word unit has its second copy in ``codes``, and the
    unit's size.

    Trying every unit length at every position would be slow; only distances back to an
    earlier copy of the same four words are tried, and ordinary text seldom repeats four words.
    """
    seen: dict[str, list[int]] = {}
    for second in range(len(codes) - _LONG_UNIT_MIN + 1):
        earlier = seen.setdefault(codes[second : second + _LONG_UNIT_MIN], [])
        for first in reversed(earlier):
            size = second - first
            if size > _LONG_UNIT_MAX:
                break
            if size < _LONG_UNIT_MIN:
                continue
            if codes.startswith(codes[first:second] * (_LONG_UNIT_COPIES - 1), second):
                return second, size
        earlier.append(second)
    return None


def _line_loop(text: str) -> int | None:
    previous = ""
    copies = 0
    second = 0
    pos = 0
    for line in text.split("\n"):
        start = pos
        pos += len(line) + 1
        key = " ".join(line.translate(_PUNCTUATION_TO_SPACE).lower().split())
        if not key:
            continue  # blank lines and rules like "* * *" neither count nor break a run
        if key != previous:
            previous, copies = key, 1
            continue
        copies += 1
        if copies == 2:
            second = start
        elif copies == _LINE_COPIES:
            return second
    return None


def _char_loop(text: str) -> int | None:
    for run in _LONG_RUN.finditer(text):
        loop = _CHAR_LOOP.search(run.group())
        if loop is not None:
            unit = next(group for group in loop.groups() if group is not None)
            return run.start() + loop.start() + len(unit)
    return None
