"""The coach's choices and the score's reading, without a model."""

from __future__ import annotations

import pytest

from bot.craft.coach import poem_from_option, rewrite_spec, validate_poem
from bot.craft.render import escape, render_score
from bot.craft.score import explain, most_surprising
from bot.errors import InvalidRequest
from bot.forms import Form, PoemForm
from bot.forms.checker import check
from bot.generation.types import ScoredToken, TextScore

LIMERICK = [
    "There once was a cat from Peru",
    "Who dreamed he was eating a shoe",
    "He woke with a fright",
    "In the middle of night",
    "And found that his dream had come true",
]


def test_poems_typed_on_one_line() -> None:
    assert poem_from_option("a / b /c\\nd") == "a\nb /c\nd"


def test_nothing_and_too_much_are_refused() -> None:
    with pytest.raises(InvalidRequest):
        validate_poem(" \n ")
    with pytest.raises(InvalidRequest):
        validate_poem("line\n" * 41)


def test_the_weakest_line_is_rewritten_after_the_lines_before_it() -> None:
    broken = [*LIMERICK[:4], "And found that his dream was a lie"]
    spec = rewrite_spec(check(PoemForm.LIMERICK, "\n".join(broken)))
    assert spec is not None and spec.form is Form.LINE and spec.line_number == 4
    assert spec.text == "\n".join(LIMERICK[:4]) and spec.rhyme_with == ""


def test_a_first_line_rhymes_with_the_lines_after_it() -> None:
    broken = ["There once was a cat from Bordeaux", *LIMERICK[1:]]
    spec = rewrite_spec(check(PoemForm.LIMERICK, "\n".join(broken)))
    assert spec is not None and spec.line_number in (0, 1)
    if spec.line_number == 0:
        assert spec.rhyme_with == "shoe"


def test_no_rewrite_when_the_poem_keeps_its_form_or_is_free() -> None:
    assert rewrite_spec(check(PoemForm.LIMERICK, "\n".join(LIMERICK))) is None
    assert rewrite_spec(check(PoemForm.FREE, "anything at all")) is None


def score_of(*pairs: tuple[str, float]) -> TextScore:
    return TextScore("tiny", tuple(ScoredToken(text, lp) for text, lp in pairs), 0.01)


def test_surprise_is_summed_over_a_word_s_tokens() -> None:
    score = score_of(("The", -1.0), (" marm", -6.0), ("alade", -5.0), (" sea", -3.0), (".", -9.0))
    words = most_surprising(score)
    assert [w.word for w in words] == ["marmalade", "sea", "The"]
    assert words[0].bits == pytest.approx(11 / 0.6931, rel=1e-3)


def test_bands_and_rendering() -> None:
    calm = explain(score_of(("a", -0.5), (" b", -0.5)))
    assert calm.band == "very predictable" and calm.perplexity == pytest.approx(1.6487, 1e-3)
    wild = explain(score_of(("x", -9.0)))
    assert wild.band == "surprising"
    text = render_score(wild)
    assert text.startswith("**Score: 8,103.1 — surprising**") and "tiny" in text


def test_markdown_in_user_text_is_escaped() -> None:
    assert escape("**bold** _it_ `code`") == "\\*\\*bold\\*\\* \\_it\\_ \\`code\\`"
