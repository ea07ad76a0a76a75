"""The degeneracy guard."""

from __future__ import annotations

from bot.forms.degeneracy import degeneracy
from tests.forms.samples import AUTUMN_HAIKU, CAT_LIMERICK


def test_good_poems_pass() -> None:
    for poem in (AUTUMN_HAIKU, CAT_LIMERICK):
        assert not degeneracy(poem).degenerate


def test_a_word_four_gram_three_times_is_a_loop() -> None:
    assert degeneracy("the sea at night\n" * 3).loop
    assert not degeneracy("the sea at night\n" * 2 + "the end").loop


def test_a_hanging_or_cut_ending_is_unfinished() -> None:
    assert degeneracy("the rain falls on the").unfinished
    assert degeneracy("the rain falls, soft,").unfinished
    assert not degeneracy("the rain falls.").unfinished


def test_non_words_are_listed_once() -> None:
    found = degeneracy("Alethelaxes sings\nof laughnabla and Alethelaxes")
    assert found.non_words == ("alethelaxes", "laughnabla") and found.degenerate
