"""Runaway loops are cut back to one copy; refrains are left alone."""

from __future__ import annotations

import random
import time

import pytest

from bot.forms import repetition_cut
from bot.forms.repetition import repeat_start


def kept(text: str) -> str:
    cut = repetition_cut(text)
    assert cut is not None, f"no loop found in {text!r}"
    return text[:cut]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("la la la la la la la la", "la "),
        ("Sing la, la, la, la, la, la!", "Sing la, "),
        ("Help!!!!!!!!!!", "Help!"),
        ("hahahahahahahahaha", "ha"),
        (
            "and the night was long and the night was long and the night was long and the",
            "and the night was long ",
        ),
        (
            "The rain falls.\nThe rain falls,\nThe rain falls.\nThe rain falls.",
            "The rain falls.\n",
        ),
        (
            "Intro.\nI love you so\n\nI love you so\n\nI love you so\n",
            "Intro.\nI love you so\n\n",
        ),
        ("yes yes\nno no\nso long so long so long so long", "yes yes\nno no\nso long "),
    ],
)
def test_loops_keep_one_copy(text: str, expected: str) -> None:
    assert kept(text) == expected


def test_repeated_stanza_is_cut_at_its_second_copy() -> None:
    stanza = "Row the boat across the bay,\nrow it home at end of day.\n\n"
    text = "A song.\n\n" + stanza * 3
    assert kept(text) == "A song.\n\n" + stanza


def test_earliest_loop_wins() -> None:
    text = "go go go go go go go then one two three four one two three four one two three four"
    assert kept(text) == "go "


@pytest.mark.parametrize(
    "text",
    [
        "",
        "la la la la la",
        "Hold fast to dreams\nHold fast to dreams\nfor if dreams die",
        "over and over, over and over, the river runs",
        "no, no, no, no!",
        "Nooooooo!",
        "...and then...",
        "one two three four one two three four five",
        "Row, row, row your boat\ngently down the stream",
        "* * *\n\n* * *\n\n* * *",
        "1, 2, 3, 4, 5, 6, 7, 8, 9, 10",
    ],
)
def test_legitimate_repetition_is_kept(text: str) -> None:
    assert repetition_cut(text) is None


def test_words_compare_case_and_punctuation_blind() -> None:
    assert kept("The End. the end! THE END, the end") == "The End. "


def test_fast_on_long_text() -> None:
    rng = random.Random(7)
    words = [
        "the",
        "a",
        "of",
        "wind",
        "leaves",
        "autumn",
        "falls",
        "over",
        "river",
        "stone",
        "light",
        "night",
        "moon",
        "I",
        "you",
    ]
    text = " ".join(rng.choice(words) for _ in range(700))[:3000]
    assert repetition_cut(text) is None
    started = time.perf_counter()
    for _ in range(50):
        repetition_cut(text)
    # Generous: this runs after every token, and takes well under a millisecond normally.
    assert (time.perf_counter() - started) / 50 < 0.01


@pytest.mark.parametrize(
    ("text", "held_from"),
    [
        ("He ran home. He ran home.", "He ran home."),
        ("He ran home. He ran home. He r", "He ran home. He r"),
        ("I do\nI do\n", "I do\n"),
        ("one two three", None),
        ("", None),
    ],
)
def test_repeat_start_finds_a_second_copy_at_the_end(text: str, held_from: str | None) -> None:
    start = repeat_start(text)
    if held_from is None:
        assert start == len(text)
    else:
        assert text[start:] == held_from
