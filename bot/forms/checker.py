"""Does a poem keep its form? Syllables per line, the rhyme scheme it really has, and where it
breaks the rules: what the coach shows, what marks a written poem "5·7·5 ✓", and how the
best of several candidates is chosen.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from bot.forms.lexicon import is_known
from bot.forms.pronounce import Pronunciation, pronounce, rhymes, words_of
from bot.forms.shapes import FormShape, shape_of
from bot.forms.spec import Form, PieceSpec, PoemForm

_LETTERS = string.ascii_uppercase


@dataclass(frozen=True)
class LineReport:
    """One line as the checker heard it."""

    text: str
    words: tuple[Pronunciation, ...]
    syllables: int  # the usual reading
    low: int  # the fewest syllables any reading gives
    high: int  # the most
    rhyme_letter: str  # its letter in the scheme the poem has ("" for a line without words)

    @property
    def last_word(self) -> str:
        """The word that ends the line ("" if it has none)."""
        return self.words[-1].word if self.words else ""

    def can_have(self, low: int, high: int) -> bool:
        """Whether some reading of the line has between ``low`` and ``high`` syllables."""
        return self.low <= high and self.high >= low

    def closest(self, target: int) -> int:
        """The reading nearest to ``target``: what a reader who wants the form would say."""
        return min(max(target, self.low), self.high)


@dataclass(frozen=True)
class FormReport:
    """A poem checked against its form."""

    poem_form: PoemForm
    lines: tuple[LineReport, ...]
    scheme: str  # the rhyme scheme the poem has, one letter per line
    problems: tuple[str, ...]  # where it breaks the form, in plain words
    line_faults: tuple[int, ...]  # per line: how far it is from keeping its rule (0 = keeps it)
    unknown_words: tuple[Pronunciation, ...]  # words neither list knows, with the guess used
    kept_scheme: str = ""  # the form's scheme the poem comes closest to ("AABB" or "ABAB")

    @property
    def passes(self) -> bool:
        """Whether the poem keeps every rule of its form."""
        return not self.problems

    @property
    def counts(self) -> tuple[int, ...]:
        """Syllables per line, each the reading nearest to the form's target."""
        shape = shape_of(self.poem_form)
        if shape is None:
            return tuple(line.syllables for line in self.lines)
        return tuple(
            line.closest(shape.rule(index).target) for index, line in enumerate(self.lines)
        )

    def label(self) -> str:
        """How the poem fits, as a reader reads it: "5·7·5 ✓", "5·8·5", "AABBA ✓"."""
        shape = shape_of(self.poem_form)
        mark = " ✓" if self.passes else ""
        if shape is None or not shape.schemes:
            return "·".join(str(count) for count in self.counts) + mark
        if self.passes:
            # A sonnet whose C lines happen to rhyme with its A lines still is ABAB CDCD….
            return self.kept_scheme + mark
        return _grouped(self.scheme, shape.schemes[0])

    def weakest_line(self) -> int | None:
        """The line that breaks the form worst (the first of equals), or None if none does."""
        worst = max(self.line_faults, default=0)
        return self.line_faults.index(worst) if worst > 0 else None


def check(poem_form: PoemForm, text: str) -> FormReport:
    """Check ``text`` (one poem line per line; blank lines ignored) against ``poem_form``."""
    raw = [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
    heard = [_hear(line) for line in raw]
    letters = rhyme_scheme([words[-1].word if words else "" for words in heard])
    lines = tuple(
        LineReport(
            text=line,
            words=tuple(words),
            syllables=sum(word.count for word in words),
            low=sum(min(word.syllables) for word in words),
            high=sum(max(word.syllables) for word in words),
            rhyme_letter=letter,
        )
        for line, words, letter in zip(raw, heard, letters, strict=True)
    )
    unknown = {w.word: w for words in heard for w in words if not w.known and not is_known(w.word)}
    shape = shape_of(poem_form)
    problems: list[str] = []
    faults = [0] * len(lines)
    kept = ""
    if shape is not None:
        problems, faults, kept = _form_problems(shape, lines)
    return FormReport(
        poem_form=poem_form,
        lines=lines,
        scheme="".join(letter or "-" for letter in letters),
        problems=tuple(problems),
        line_faults=tuple(faults),
        unknown_words=tuple(unknown.values()),
        kept_scheme=kept,
    )


def fit_label(spec: PieceSpec, text: str) -> str | None:
    """How a written poem of a fixed form fits it ("5·7·5 ✓", "5·8·5", "AABBA ✓"), shown
    with the result; None for pieces without a form to keep."""
    if spec.form is not Form.POEM or shape_of(spec.poem_form) is None:
        return None
    return check(spec.poem_form, text).label()


def rhyme_scheme(last_words: list[str]) -> list[str]:
    """A letter per line: the letter of the first earlier line whose last word rhymes with
    this one's (the same word repeated is no rhyme), else the next new letter."""
    letters: list[str] = []
    used = 0
    for index, word in enumerate(last_words):
        letter = ""
        if word:
            for earlier in range(index):
                other = last_words[earlier]
                if other and other != word and rhymes(word, other):
                    letter = letters[earlier]
                    break
            if not letter:
                letter = _LETTERS[used % len(_LETTERS)]
                used += 1
        letters.append(letter)
    return letters


def _hear(line: str) -> list[Pronunciation]:
    return [pronounce(word) for word in words_of(line)]


def _form_problems(
    shape: FormShape, lines: tuple[LineReport, ...]
) -> tuple[list[str], list[int], str]:
    """What breaks the form, each line's fault, and the accepted scheme that comes closest."""
    problems: list[str] = []
    faults = [0] * len(lines)
    if len(lines) != len(shape):
        problems.append(f"A {shape.name} has {len(shape)} lines; this has {len(lines)}.")
    for index, line in enumerate(lines[: len(shape)]):
        rule = shape.rule(index)
        if not line.can_have(rule.low, rule.high):
            want = str(rule.low) if rule.low == rule.high else f"{rule.low}\u2013{rule.high}"
            noun = "syllable" if line.syllables == 1 else "syllables"
            problems.append(f"Line {index + 1} has {line.syllables} {noun}; it needs {want}.")
            faults[index] += abs(line.closest(rule.target) - rule.target)
    best: tuple[list[str], list[int], str] | None = None
    for scheme in shape.schemes:
        found = _rhyme_problems(scheme.replace(" ", ""), lines)
        if best is None or len(found[0]) < len(best[0]):
            best = (*found, scheme)
    kept = ""
    if best is not None:
        problems += best[0]
        faults = [a + b for a, b in zip(faults, best[1], strict=True)]
        kept = best[2]
    if shape.name == "limerick" and len(lines) == len(shape):
        problems += _limerick_shape(lines, faults)
    return problems, faults, kept


def _rhyme_problems(scheme: str, lines: tuple[LineReport, ...]) -> tuple[list[str], list[int]]:
    """Lines that should rhyme under ``scheme`` ("AABBA") but don't."""
    problems: list[str] = []
    faults = [0] * len(lines)
    for index in range(min(len(lines), len(scheme))):
        partners = [p for p in range(index) if scheme[p] == scheme[index]]
        if not partners:
            continue
        first, line = lines[partners[0]], lines[index]
        if line.last_word == first.last_word:
            problems.append(
                f'Line {index + 1} repeats "{line.last_word}" from line {partners[0] + 1} '
                "instead of rhyming with it."
            )
            faults[index] += 2
        elif not rhymes(line.last_word, first.last_word):
            problems.append(
                f"Line {index + 1} should rhyme with line {partners[0] + 1}: "
                f'"{line.last_word}" and "{first.last_word}" don\'t rhyme.'
            )
            faults[index] += 3
    return problems, faults


def _limerick_shape(lines: tuple[LineReport, ...], faults: list[int]) -> list[str]:
    """Lines 1, 2 and 5 must be longer than lines 3 and 4."""
    longest_short = max(lines[2].closest(5), lines[3].closest(5))
    short_lines = [index for index in (0, 1, 4) if lines[index].closest(8) <= longest_short]
    for index in short_lines:
        faults[index] += 1
    if short_lines:
        return ["Lines 1, 2 and 5 of a limerick should be longer than lines 3 and 4."]
    return []


def _grouped(scheme: str, model: str) -> str:
    """``scheme`` split into stanzas like the form's own scheme ("ABAB CDCD EFEF GG")."""
    sizes = [len(part) for part in model.split()]
    if sum(sizes) != len(scheme):
        return scheme
    parts: list[str] = []
    start = 0
    for size in sizes:
        parts.append(scheme[start : start + size])
        start += size
    return " ".join(parts)
