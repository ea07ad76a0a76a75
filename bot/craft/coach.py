"""The poetry coach: a user's poem checked against its form, with a suggested rewrite of the
line that breaks it worst, written under the same constraints the bot writes with."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from bot.errors import InkwellError, InvalidRequest
from bot.forms import Form, PieceSpec, PoemForm
from bot.forms.checker import FormReport, check
from bot.forms.line_templates import last_word
from bot.forms.shapes import shape_of
from bot.generation.types import SamplingParams
from bot.writing.pieces import WritingService

log = logging.getLogger(__name__)

MAX_POEM_CHARS = 1800
MAX_POEM_LINES = 40
# A slash-command option (or a console line) is one line: poems come as "line one / line two".
_LINE_BREAK = re.compile(r"\s+/\s+|\\n")


@dataclass(frozen=True)
class Suggestion:
    """A rewrite of one line (0-based ``line``), and how it fits."""

    line: int
    text: str
    fits: bool


@dataclass(frozen=True)
class CoachReport:
    """A checked poem and, where it breaks its form, a suggested rewrite."""

    report: FormReport
    suggestion: Suggestion | None
    suggestion_failed: bool = False  # the writer couldn't suggest one this time


class Coach:
    """Checks poems and suggests rewrites with the bot's own model."""

    def __init__(self, writing: WritingService) -> None:
        self._writing = writing

    async def check(
        self, poem_form: PoemForm, text: str, sampling: SamplingParams | None = None
    ) -> CoachReport:
        """Check ``text`` as a ``poem_form``; suggest a rewrite of its weakest line.

        Raises:
            InvalidRequest: the text is empty or too long to coach.
        """
        validate_poem(text)
        report = check(poem_form, text)
        spec = rewrite_spec(report)
        if spec is None:
            return CoachReport(report, None)
        try:
            piece = await self._writing.write(spec, sampling or SamplingParams())
        except InkwellError:
            log.warning("No rewrite suggestion this time", exc_info=True)
            return CoachReport(report, None, suggestion_failed=True)
        fits = _fits(report, spec.line_number, piece.text)
        return CoachReport(report, Suggestion(spec.line_number, piece.text, fits))


def poem_from_option(text: str) -> str:
    """A poem typed on one line: " / " (or a literal \\n) separates its lines."""
    return "\n".join(part.strip() for part in _LINE_BREAK.split(text))


def validate_poem(text: str) -> None:
    """Refuse what can't be coached: nothing, or more than a long poem."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise InvalidRequest("There is no poem to check: the text is empty.")
    if len(text) > MAX_POEM_CHARS or len(lines) > MAX_POEM_LINES:
        raise InvalidRequest(
            f"That is longer than I can coach ({MAX_POEM_CHARS} characters or "
            f"{MAX_POEM_LINES} lines). Try one poem, or one stanza, at a time."
        )


def rewrite_spec(report: FormReport) -> PieceSpec | None:
    """The line to write in place of the poem's weakest line, or None when there is none
    (the poem keeps its form, is free verse, or has more lines than its form)."""
    shape = shape_of(report.poem_form)
    weakest = report.weakest_line()
    if shape is None or weakest is None or weakest >= len(shape):
        return None
    lines = [line.text for line in report.lines]
    rule = shape.rule(weakest)
    partner = ""
    if rule.rhyme and not shape.rhymes_with(weakest):
        # The first line of a rhyme group rhymes with the lines after it.
        later = [
            index
            for index in range(weakest + 1, min(len(lines), len(shape)))
            if shape.lines[index].rhyme == rule.rhyme
        ]
        partner = last_word(lines[later[0]]) if later else ""
    return PieceSpec(
        Form.LINE,
        "\n".join(lines[:weakest]),
        poem_form=report.poem_form,
        line_number=weakest,
        rhyme_with=partner,
    )


def _fits(report: FormReport, index: int, line: str) -> bool:
    lines = [item.text for item in report.lines]
    lines[index] = line
    after = check(report.poem_form, "\n".join(lines))
    return after.line_faults[index] == 0 if index < len(after.line_faults) else False
