"""The coach's and the scorer's answers as text, the same in Discord and the console (Discord
markdown, which a terminal shows as plain enough)."""

from __future__ import annotations

import re

from bot.craft.coach import CoachReport
from bot.craft.score import ScoreReport
from bot.forms.checker import FormReport
from bot.forms.shapes import shape_of
from bot.forms.spec import PoemForm

MAX_CHARS = 1900  # Discord allows 2,000 in a message; leave room for a footer
_MARKDOWN = re.compile(r"([*_`~|>#\\])")
_FORM_NAMES = {
    PoemForm.FREE: "Poem",
    PoemForm.HAIKU: "Haiku",
    PoemForm.LIMERICK: "Limerick",
    PoemForm.SONNET: "Sonnet",
    PoemForm.QUATRAIN: "Quatrain",
}


def render_check(coached: CoachReport) -> str:
    """Each line's syllables, the rhyme scheme, where the form breaks, a suggestion and the
    words the dictionary doesn't know."""
    report = coached.report
    out = [f"**{_FORM_NAMES[report.poem_form]} check: {report.label()}**"]
    out += _line_rows(report)
    shape = shape_of(report.poem_form)
    if shape is None or shape.schemes:  # a haiku doesn't rhyme
        out.append(f"Rhyme scheme: {report.scheme or '-'}")
    if report.problems:
        out.append("Where it breaks the form:")
        out += [f"• {problem}" for problem in report.problems]
    elif shape is not None:
        out.append("It keeps the form. ✓")
    suggestion = coached.suggestion
    if suggestion is not None:
        mark = " ✓" if suggestion.fits else ""
        out.append(
            f"Suggestion for line {suggestion.line + 1} (written by AI; yours to take or leave):"
        )
        out.append(f"> {escape(suggestion.text)}{mark}")
    elif coached.suggestion_failed:
        out.append("(I couldn't write a suggestion this time; try again in a moment.)")
    if report.unknown_words:
        guesses = ", ".join(
            f"{escape(word.word)} ({_syllables(word.count)})" for word in report.unknown_words
        )
        out.append(f"Words my dictionary doesn't know, with my guess: {guesses}")
    return _fit("\n".join(out))


def render_score(report: ScoreReport) -> str:
    """The perplexity, what it means, and the words that surprised the model most."""
    out = [
        f"**Score: {report.perplexity:,.1f} — {report.band}**",
        report.meaning[:1].upper() + report.meaning[1:] + ".",
    ]
    if report.surprising:
        words = ", ".join(f"*{escape(w.word)}* ({w.bits:.0f} bits)" for w in report.surprising)
        out.append(f"Most surprising words: {words}")
    out.append(
        f"-# Perplexity by {report.model} over {report.tokens} tokens: lower means the model "
        "expected the words more. It measures predictability, not quality."
    )
    return _fit("\n".join(out))


def escape(text: str) -> str:
    """``text`` with Discord markdown characters escaped."""
    return _MARKDOWN.sub(r"\\\1", text)


def _line_rows(report: FormReport) -> list[str]:
    shape = shape_of(report.poem_form)
    rows = []
    for index, (line, count) in enumerate(zip(report.lines, report.counts, strict=True)):
        note = ""
        if shape is not None and index < len(shape):
            rule = shape.rule(index)
            wanted = str(rule.low) if rule.low == rule.high else f"{rule.low}\u2013{rule.high}"
            note = " ✓" if rule.low <= count <= rule.high else f" (needs {wanted})"
        rhymed = shape is None or bool(shape.schemes)
        letter = f" [{line.rhyme_letter}]" if line.rhyme_letter and rhymed else ""
        rows.append(f"`{index + 1:>2}` {escape(line.text)} — {count}{note}{letter}")
    return rows


def _syllables(count: int) -> str:
    return "1 syllable" if count == 1 else f"{count} syllables"


def _fit(text: str) -> str:
    if len(text) <= MAX_CHARS:
        return text
    cut = text[: MAX_CHARS - 1]
    return cut[: cut.rfind("\n")] + "\n…"
