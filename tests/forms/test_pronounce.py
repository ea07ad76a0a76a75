"""Syllables and rhymes against the hand-labelled set in tests/data, and the fallback rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.forms.lexicon import is_known, rhymes_for
from bot.forms.numbers import spell_number
from bot.forms.pronounce import in_dictionary, pronounce, rhymes, words_of

DATA = Path(__file__).resolve().parent.parent / "data"


def labelled_words() -> list[tuple[str, int]]:
    rows = []
    for raw in (DATA / "words.txt").read_text(encoding="utf-8").splitlines():
        if raw.strip() and not raw.startswith("#"):
            word, count = raw.split()
            rows.append((word, int(count)))
    return rows


def labelled_lines() -> list[tuple[int, str]]:
    rows = []
    for raw in (DATA / "lines.txt").read_text(encoding="utf-8").splitlines():
        count, line = raw.split(" ", 1)
        rows.append((int(count), line))
    return rows


def test_the_labelled_set_is_as_big_as_promised() -> None:
    words = labelled_words()
    assert len(words) >= 300 and len(labelled_lines()) >= 60
    assert sum(not in_dictionary(word) for word, _ in words) >= 40


def test_word_accuracy_is_at_least_97_percent() -> None:
    words = labelled_words()
    right = sum(pronounce(word).count == count for word, count in words)
    assert right / len(words) >= 0.97


def test_words_the_dictionary_lacks_are_mostly_guessed_right() -> None:
    missing = [(w, c) for w, c in labelled_words() if not in_dictionary(w)]
    right = sum(pronounce(word).count == count for word, count in missing)
    assert right / len(missing) >= 0.9


def test_line_accuracy_is_at_least_95_percent() -> None:
    lines = labelled_lines()
    right = sum(
        sum(pronounce(word).count for word in words_of(line)) == count for count, line in lines
    )
    assert right / len(lines) >= 0.95


def test_rhyme_pairs() -> None:
    rows = [raw.split() for raw in (DATA / "rhymes.txt").read_text(encoding="utf-8").splitlines()]
    right = sum(rhymes(a, b) == (label == "yes") for a, b, label in rows)
    assert right / len(rows) >= 0.95


@pytest.mark.parametrize(
    ("token", "words"),
    [
        ("1999", ["nineteen", "ninety", "nine"]),
        ("1905", ["nineteen", "oh", "five"]),
        ("2005", ["two", "thousand", "five"]),
        ("42", ["forty", "two"]),
        ("3rd", ["third"]),
        ("1,000", ["one", "thousand"]),
        ("100", ["one", "hundred"]),
        ("moon", None),
    ],
)
def test_numbers_are_spelled_out(token: str, words: list[str] | None) -> None:
    assert spell_number(token) == words


def test_readings_and_guesses() -> None:
    assert set(pronounce("fire").syllables) == {1, 2}
    assert pronounce("o'er").count == 1 and not pronounce("o'er").known
    assert pronounce("salt-bitten").count == 3
    assert pronounce("Gull\u2019s").count == 1  # curly apostrophe
    assert pronounce("gullwing").rhymes[0] == pronounce("wing").rhymes[0]
    assert words_of("The salt-bitten planks, 42 of them!") == [
        "The",
        "salt-bitten",
        "planks",
        "42",
        "of",
        "them",
    ]


def test_known_words_and_rhymes() -> None:
    assert is_known("gull") and is_known("moonlit") and is_known("1999")
    assert not is_known("laughnabla") and not is_known("Alethelaxes")
    found = [rhyme.word for rhyme in rhymes_for("moon")]
    assert "soon" in found and "moon" not in found
