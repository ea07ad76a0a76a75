"""The form checker: what passes, what breaks, and how the fit is labelled."""

from __future__ import annotations

import pytest

from bot.forms.checker import check, rhyme_scheme
from bot.forms.examples import example_for
from bot.forms.spec import Form, PieceSpec, PoemForm
from tests.forms.samples import AUTUMN_HAIKU, CAT_LIMERICK


@pytest.mark.parametrize(
    "poem_form", [PoemForm.HAIKU, PoemForm.LIMERICK, PoemForm.QUATRAIN, PoemForm.SONNET]
)
def test_the_examples_shown_to_the_model_keep_their_form(poem_form: PoemForm) -> None:
    example = example_for(PieceSpec(Form.POEM, "x", poem_form=poem_form))
    assert example is not None
    report = check(poem_form, example[1])
    assert report.passes, report.problems
    assert report.label().endswith("✓")


def test_haiku_label_and_counts() -> None:
    report = check(PoemForm.HAIKU, AUTUMN_HAIKU)
    assert report.label() == "5·7·5 ✓" and report.weakest_line() is None


def test_a_broken_haiku_says_where() -> None:
    report = check(PoemForm.HAIKU, "Crimson leaves falling\nthe wind\nthe old pond is still")
    assert report.label() == "5·2·5"
    assert report.problems == ("Line 2 has 2 syllables; it needs 7.",)
    assert report.weakest_line() == 1


def test_limerick_scheme_and_shape() -> None:
    assert check(PoemForm.LIMERICK, CAT_LIMERICK).label() == "AABBA ✓"
    broken = CAT_LIMERICK.replace("come true", "come back")
    report = check(PoemForm.LIMERICK, broken)
    assert not report.passes and report.scheme == "AABBC"
    assert any("Line 5 should rhyme with line 1" in problem for problem in report.problems)
    assert report.weakest_line() == 4


def test_limerick_long_lines_must_be_longer() -> None:
    short = "A cat in Peru\nate a shoe\nHe woke with a fright\nIn the middle of night\nit's true"
    report = check(PoemForm.LIMERICK, short)
    assert any("longer than lines 3 and 4" in problem for problem in report.problems)


def test_quatrain_accepts_either_scheme() -> None:
    abab = "The lamp is lit, the kettle sings,\nthe window blue,\nof all things\nwith you."
    aabb = (
        "The lamp is lit, the kettle sings\nof all the day's unhurried things\n"
        "the window blue\nis here with you"
    )
    assert check(PoemForm.QUATRAIN, abab).kept_scheme == "ABAB"
    assert check(PoemForm.QUATRAIN, aabb).passes


def test_wrong_number_of_lines() -> None:
    report = check(PoemForm.HAIKU, "Crimson leaves falling\nwhispers of the cooling wind")
    assert "A haiku has 3 lines; this has 2." in report.problems


def test_repeated_word_is_no_rhyme() -> None:
    assert rhyme_scheme(["moon", "moon", "soon", ""]) == ["A", "B", "A", ""]


def test_unknown_words_are_listed_with_their_guess() -> None:
    report = check(PoemForm.FREE, "the laughnabla sings\nof moonlit dunes")
    assert [word.word for word in report.unknown_words] == ["laughnabla"]
    assert report.unknown_words[0].count >= 1


def test_fit_label_is_for_fixed_forms_only() -> None:
    from bot.forms import fit_label

    haiku = PieceSpec(Form.POEM, "autumn", poem_form=PoemForm.HAIKU)
    assert fit_label(haiku, AUTUMN_HAIKU) == "5·7·5 ✓"
    assert fit_label(haiku, "one\ntwo\nthree") == "1·1·1"
    assert fit_label(PieceSpec(Form.POEM, "autumn"), AUTUMN_HAIKU) is None
    assert fit_label(PieceSpec(Form.STORY, "x", poem_form=PoemForm.HAIKU), AUTUMN_HAIKU) is None
