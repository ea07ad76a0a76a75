"""The form checker and the craft reports on arbitrary text: a report whose numbers are in
range, for every form, and never an exception other than the coach's InvalidRequest."""

from __future__ import annotations

import math

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.craft.coach import poem_from_option, rewrite_spec, validate_poem
from bot.craft.score import explain
from bot.errors import InvalidRequest
from bot.forms import Form, PieceSpec, PoemForm, fit_label
from bot.forms.checker import check
from bot.forms.shapes import shape_of
from bot.generation.types import ScoredToken, TextScore
from tests.strategies import hostile_text, scaled

WORDS = ("rain", "again", "the", "old", "pond", "frog", "jumps", "in", "sound", "of", "water")
# Poems of real words (so rhymes and syllable counts get exercised), mixed with anything.
poem_lines = st.one_of(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=9).map(" ".join),
    hostile_text(max_size=5),
)
poems = st.lists(poem_lines, max_size=16).map("\n".join)


@settings(max_examples=scaled(120))
@given(form=st.sampled_from(list(PoemForm)), text=st.one_of(poems, hostile_text()))
@example(form=PoemForm.HAIKU, text="a superscript ² and a circled ① digit")
def test_every_form_checks_any_text_into_a_consistent_report(form: PoemForm, text: str) -> None:
    report = check(form, text)
    expected = [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
    assert [line.text for line in report.lines] == expected
    assert len(report.scheme) == len(report.lines) == len(report.line_faults)
    for line in report.lines:
        assert 0 <= line.low <= line.syllables <= line.high
        assert line.rhyme_letter == "" or line.rhyme_letter.isupper()
    assert all(fault >= 0 for fault in report.line_faults)
    assert report.passes == (not report.problems)
    weakest = report.weakest_line()
    if weakest is not None:
        assert report.line_faults[weakest] == max(report.line_faults) > 0
    label = report.label()
    assert label.endswith(" ✓") == report.passes or shape_of(form) is None
    assert fit_label(PieceSpec(Form.POEM, "t", poem_form=form), text) == (
        None if shape_of(form) is None else label
    )
    rewrite = rewrite_spec(report)
    shape = shape_of(form)
    if rewrite is not None:
        assert shape is not None and rewrite.line_number is not None
        assert 0 <= rewrite.line_number < len(shape)
        assert rewrite.line_number == weakest


@given(text=st.one_of(hostile_text(), st.lists(poem_lines, max_size=50).map(" / ".join)))
def test_the_coach_takes_a_poem_or_says_why_not(text: str) -> None:
    poem = poem_from_option(text)
    try:
        validate_poem(poem)
    except InvalidRequest as error:
        assert error.user_message
        return
    assert any(line.strip() for line in poem.splitlines())
    check(PoemForm.SONNET, poem)


tokens = st.lists(
    st.builds(
        ScoredToken,
        st.one_of(hostile_text(max_size=2), st.sampled_from([" rain", ".", " the", "ing"])),
        st.one_of(
            st.floats(max_value=0.0, allow_nan=False),
            st.sampled_from([0.0, -0.0, -1e-300, -745.0, -1e308, -math.inf]),
        ),
    ),
    max_size=30,
)


@given(scored=tokens)
def test_any_score_is_explained_with_a_band_and_at_most_three_words(
    scored: list[ScoredToken],
) -> None:
    report = explain(TextScore("tiny", tuple(scored), 0.1))
    assert report.perplexity >= 1.0 or math.isclose(report.perplexity, 1.0)
    assert report.band and report.meaning
    assert report.tokens == len(scored)
    assert len(report.surprising) <= 3
    words = [word.word for word in report.surprising]
    assert len(words) == len(set(words))
    bits = [word.bits for word in report.surprising]
    assert bits == sorted(bits, reverse=True)
    assert all(value >= 0 for value in bits)
