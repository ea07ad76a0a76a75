"""The rules of the fixed poem forms: lines, syllables and rhyme scheme.

One table serves the checker (does a poem pass?), the constrained decoder (what must the line
being written do?) and the prompts (what to tell the model). Each line has a range a reader
accepts and a target the decoder aims for inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.forms.spec import PoemForm


@dataclass(frozen=True)
class LineRule:
    """One line of a form: its syllable range, the count the decoder aims for, and its rhyme
    letter ("" for a line that need not rhyme)."""

    low: int
    high: int
    target: int
    rhyme: str = ""

    def fits(self, syllables: int) -> bool:
        """Whether a line of ``syllables`` keeps to this rule's count."""
        return self.low <= syllables <= self.high


@dataclass(frozen=True)
class FormShape:
    """A fixed form: its lines, and the rhyme schemes a reader accepts (the first is the one
    the decoder writes)."""

    name: str
    lines: tuple[LineRule, ...]
    schemes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.lines)

    def rule(self, line_number: int) -> LineRule:
        """The rule for line ``line_number`` (0-based) of a poem that repeats the form, as a
        game's poem does: stanza after stanza."""
        return self.lines[line_number % len(self.lines)]

    def rhymes_with(self, line_number: int) -> list[int]:
        """Earlier lines of the same stanza that line ``line_number`` must rhyme with."""
        rule = self.rule(line_number)
        if not rule.rhyme:
            return []
        stanza = line_number - line_number % len(self.lines)
        return [
            index
            for index in range(stanza, line_number)
            if self.lines[index - stanza].rhyme == rule.rhyme
        ]

    def shape_label(self) -> str:
        """The shape as a reader names it: "5·7·5", "AABBA", "ABAB CDCD EFEF GG"."""
        if not self.schemes:
            return "·".join(str(rule.target) for rule in self.lines)
        return self.schemes[0]


def _scheme(letters: str, low: int, high: int, target: int) -> tuple[LineRule, ...]:
    return tuple(LineRule(low, high, target, letter) for letter in letters.replace(" ", ""))


_LONG = (7, 11, 8)  # a limerick's long lines: (low, high, target)
_SHORT = (4, 7, 5)

SHAPES: dict[PoemForm, FormShape] = {
    PoemForm.HAIKU: FormShape("haiku", (LineRule(5, 5, 5), LineRule(7, 7, 7), LineRule(5, 5, 5))),
    PoemForm.LIMERICK: FormShape(
        "limerick",
        (
            LineRule(*_LONG, "A"),
            LineRule(*_LONG, "A"),
            LineRule(*_SHORT, "B"),
            LineRule(*_SHORT, "B"),
            LineRule(*_LONG, "A"),
        ),
        ("AABBA",),
    ),
    # A quatrain's line length is free; the decoder writes tetrameter-ish lines of about 8.
    PoemForm.QUATRAIN: FormShape("quatrain", _scheme("AABB", 4, 16, 8), ("AABB", "ABAB")),
    PoemForm.SONNET: FormShape(
        "sonnet", _scheme("ABAB CDCD EFEF GG", 9, 11, 10), ("ABAB CDCD EFEF GG",)
    ),
}


def shape_of(poem_form: PoemForm) -> FormShape | None:
    """The rules of ``poem_form``, or None for free verse."""
    return SHAPES.get(poem_form)
