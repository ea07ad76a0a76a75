"""The request itself: enums, labels and how user text is normalised."""

from __future__ import annotations

import dataclasses

import pytest

from bot.forms import Form, Genre, Length, PieceSpec, PoemForm
from bot.forms.spec import normalise_user_text, shorten


def test_enum_values_are_the_wire_names() -> None:
    assert [form.value for form in Form] == [
        "poem",
        "story",
        "script",
        "continue",
        "generate",
        "line",
        "title",
    ]
    assert [form.value for form in PoemForm] == ["free", "haiku", "limerick", "sonnet", "quatrain"]
    assert Genre("sci-fi") is Genre.SCIFI
    assert [size.value for size in Length] == ["short", "medium", "long"]


def test_spec_defaults_and_immutability() -> None:
    spec = PieceSpec(Form.POEM, "autumn")
    assert (spec.poem_form, spec.genre, spec.characters, spec.length) == (
        PoemForm.FREE,
        Genre.ANY,
        (),
        Length.MEDIUM,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.text = "winter"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("spec", "title"),
    [
        (PieceSpec(Form.POEM, "autumn", poem_form=PoemForm.HAIKU), "Haiku: autumn"),
        (PieceSpec(Form.POEM, "the sea"), "Poem: the sea"),
        (PieceSpec(Form.POEM, "x", poem_form=PoemForm.SONNET), "Sonnet: x"),
        (
            PieceSpec(Form.STORY, "a dragon who hoards books", genre=Genre.FANTASY),
            "Story (fantasy): a dragon who hoards books",
        ),
        (PieceSpec(Form.STORY, "a storm"), "Story: a storm"),
        (PieceSpec(Form.SCRIPT, "two thieves"), "Script: two thieves"),
        (PieceSpec(Form.CONTINUE, "It was\n\nlate."), "Continuation: It was late."),
        (PieceSpec(Form.GENERATE, "   "), "Generation"),
    ],
)
def test_title(spec: PieceSpec, title: str) -> None:
    assert spec.title() == title


def test_title_is_truncated_at_a_word_boundary() -> None:
    premise = "a dragon who hoards library books and refuses to return any of them ever again"
    title = PieceSpec(Form.STORY, premise, genre=Genre.FANTASY).title()
    assert title == "Story (fantasy): a dragon who hoards library books and refuses to…"


def test_title_truncates_unspaced_text() -> None:
    assert PieceSpec(Form.POEM, "字" * 80).title() == "Poem: " + "字" * 50 + "…"


def test_fixed_lines() -> None:
    lines = {form: PieceSpec(Form.POEM, "x", poem_form=form).fixed_lines for form in PoemForm}
    assert lines == {
        PoemForm.FREE: None,
        PoemForm.HAIKU: 3,
        PoemForm.QUATRAIN: 4,
        PoemForm.LIMERICK: 5,
        PoemForm.SONNET: 14,
    }
    assert PieceSpec(Form.STORY, "x", poem_form=PoemForm.HAIKU).fixed_lines is None


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("  autumn  ", "autumn"),
        ("a\r\nb\rc", "a\nb\nc"),
        ("a\n\n\nb", "a\n\nb"),
        ("a\n \n\t\n  \nb", "a\n\nb"),
        ("a\n\nb", "a\n\nb"),
        ("  indented\n  lines ", "indented\n  lines"),
        ("🍂 \u200b <@123> @everyone", "🍂 \u200b <@123> @everyone"),
    ],
)
def test_normalise_user_text(raw: str, normalised: str) -> None:
    assert normalise_user_text(raw) == normalised


def test_shorten_keeps_short_text() -> None:
    assert shorten("  a  b\nc ", 10) == "a b c"
