"""The form constraint on its own: which continuations keep a poem possible, and a simulated
decoder that picks at random among the allowed ones always ends with a poem that passes."""

from __future__ import annotations

import random

import pytest

from bot.forms import Form, PieceSpec, PoemForm, constraint_for
from bot.forms.checker import check

HAIKU = PieceSpec(Form.POEM, "the sea", poem_form=PoemForm.HAIKU)
LIMERICK = PieceSpec(Form.POEM, "a cat", poem_form=PoemForm.LIMERICK)
# Token-like pieces a model might propose: whole words with and without a leading space, word
# fragments, punctuation, line breaks and junk.
WORDS = [
    "the",
    "a",
    "of",
    "sea",
    "grey",
    "waves",
    "fold",
    "and",
    "break",
    "salt",
    "wind",
    "combs",
    "empty",
    "dunes",
    "one",
    "gull",
    "then",
    "no",
    "night",
    "moon",
    "light",
    "slowly",
    "over",
    "river",
    "stone",
    "autumn",
    "rain",
    "falls",
    "quiet",
    "beautiful",
    "cat",
    "who",
    "dreamed",
    "cream",
    "scheme",
    "team",
    "dream",
    "seem",
    "stream",
    "green",
    "tree",
    "free",
    "sea",
    "me",
    "he",
    "she",
    "bright",
    "white",
    "shoe",
]
PIECES = [
    *WORDS,
    *(" " + word for word in WORDS),
    "ing",
    "s",
    "ed",
    "ly",
    ",",
    ".",
    "\n",
    ",\n",
    ".\n",
    "\n\n",
    ":",
    " 9",
    "**",
    '"',
    " -",
    "  ",
    "Here",
]


def test_nothing_is_constrained_without_rules() -> None:
    assert constraint_for(PieceSpec(Form.POEM, "x")) is None
    assert constraint_for(PieceSpec(Form.STORY, "x")) is None
    assert constraint_for(PieceSpec(Form.TITLE, "x")) is None
    assert constraint_for(PieceSpec(Form.LINE, "", poem_form=PoemForm.HAIKU)) is not None


def test_syllables_are_counted_as_words_finish() -> None:
    rule = constraint_for(HAIKU)
    assert rule is not None
    assert rule.allowed("Grey waves fold and", [" break", " breaking", "\n", " bre", " b"]) == [
        True,
        False,  # six syllables in a five-syllable line
        False,  # the line is one short
        True,  # may become "break"
        False,  # a line's last word is steered only once the model has chosen its start
    ]
    assert rule.allowed("Grey waves fold and break", [",", "\n", ",\n", "\n\n", " now"]) == [
        True,
        True,
        True,
        False,  # a blank line would make the first line look like a title
        False,  # the count is met
    ]


def test_markup_digits_and_non_words_are_refused() -> None:
    rule = constraint_for(HAIKU)
    assert rule is not None
    assert rule.allowed("", [":", " 9", "**", '"', "Alethel", "Here is a haiku"]) == [
        False,
        False,
        False,
        False,
        False,
        False,
    ]
    assert rule.allowed("Grey laughnabla", [" waves"]) == [False]


def test_a_rhyming_line_must_end_on_its_rhyme() -> None:
    rule = constraint_for(LIMERICK)
    assert rule is not None
    text = "A cat with a taste for the cream\nwho dreamed of a wonderful"
    assert rule.allowed(text, [" scheme", " cat", " cream", " team"]) == [True, False, False, True]
    assert " scheme" in rule.rescue(text)


def test_a_rhyme_group_opens_on_a_word_with_rhymes_to_spare() -> None:
    rule = constraint_for(LIMERICK)
    assert rule is not None
    assert rule.allowed("A cat with a taste for the", [" cream", " orange"]) == [True, False]


def test_a_game_line_keeps_its_slot() -> None:
    spec = PieceSpec(
        Form.LINE,
        "There once was a cat from Peru\nWho dreamed he was eating a shoe\nHe woke with a fright"
        "\nIn the middle of night",
        poem_form=PoemForm.LIMERICK,
        line_number=4,
    )
    rule = constraint_for(spec)
    assert rule is not None
    assert rule.allowed("And found that his dream had come", [" true", " back"]) == [True, False]
    assert rule.may_end("And found that his dream had come true")
    assert not rule.may_end("And found that his dream had")


def simulate(spec: PieceSpec, seed: int, steps: int = 200) -> str:
    """A stand-in model that proposes random pieces; the constraint picks what may follow."""
    rule = constraint_for(spec)
    assert rule is not None
    rng = random.Random(seed)
    text = ""
    lines = 3 if spec.poem_form is PoemForm.HAIKU else 5
    for _ in range(steps):
        if text.count("\n") >= lines or (rule.may_end(text) and text.count("\n") == lines - 1):
            break
        offered = rng.sample(PIECES, 24)
        allowed = [
            piece for piece, ok in zip(offered, rule.allowed(text, offered), strict=True) if ok
        ]
        if not allowed:
            allowed = [piece for piece in rule.rescue(text)[:5] if rule.allowed(text, [piece])[0]]
        assert allowed, f"dead end after {text!r}"
        text += rng.choice(allowed)
    return text


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("spec", [HAIKU, LIMERICK], ids=["haiku", "limerick"])
def test_random_choices_within_the_rules_always_make_the_form(spec: PieceSpec, seed: int) -> None:
    text = simulate(spec, seed)
    report = check(spec.poem_form, text)
    assert report.passes, (text, report.problems)


def test_a_game_line_with_only_the_recent_lines_rhymes_with_the_named_word() -> None:
    # Line 10 (0-based 9) of a limerick game closes its stanza; the game shows two lines.
    spec = PieceSpec(
        Form.LINE,
        "He woke with a fright\nIn the middle of night",
        poem_form=PoemForm.LIMERICK,
        line_number=9,
        rhyme_with="Peru",
    )
    rule = constraint_for(spec)
    assert rule is not None
    assert rule.allowed("And found that his dream had come", [" true", " night"]) == [True, False]
