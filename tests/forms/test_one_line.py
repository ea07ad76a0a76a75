"""A game's next line and a poem's title: prompts, where they stop, and what is kept."""

from __future__ import annotations

import pytest

from bot.forms import Form, PieceSpec, PoemForm, build_prompt, finish, stable_prefix, stop_index
from bot.forms.line_templates import rhyme_partner, slot_hint
from bot.forms.templates import default_max_new_tokens

LIMERICK_SO_FAR = "There once was a cat from Peru\nWho dreamed he was eating a shoe"
LINE = PieceSpec(Form.LINE, LIMERICK_SO_FAR, poem_form=PoemForm.LIMERICK, line_number=2)
TITLE = PieceSpec(Form.TITLE, LIMERICK_SO_FAR)


@pytest.mark.parametrize(
    ("generated", "line"),
    [
        ("He woke with a fright\nIn the middle", "He woke with a fright"),
        ("\n\n  He woke with a fright  \n", "He woke with a fright"),
        ('Sure! Here is the next line:\n\n"He woke with a fright,"\n', "He woke with a fright,"),
        ("Line 3: **He woke with a fright**\n", "He woke with a fright"),
        ("\u201cHe woke with a fright\u201d.\nmore", "He woke with a fright."),
        ('"He woke with a fright\n', "He woke with a fright"),
        ("'Twas a fright, he'd say\n", "'Twas a fright, he'd say"),
        ("He woke<|endoftext|>with", "He woke"),
    ],
)
def test_the_first_real_line_is_kept(generated: str, line: str) -> None:
    assert finish(LINE, generated, hit_length_limit=False) == line
    assert finish(LINE, generated, hit_length_limit=True) == line


def test_it_stops_when_the_line_is_finished() -> None:
    assert stop_index(LINE, "He woke") is None
    assert stop_index(LINE, "Here's the next line of the limerick:\n") is None
    assert stop_index(LINE, "He woke with a fright\nIn") == len("He woke with a fright")


def test_a_line_that_never_ends_is_cut_to_200_characters_at_a_word() -> None:
    babble = " ".join(f"word{i}" for i in range(60))
    assert stop_index(LINE, babble) is not None
    text = finish(LINE, babble, hit_length_limit=True)
    assert len(text) <= 200 and "\n" not in text
    assert babble.startswith(text) and babble[len(text)] == " "  # cut between words


def test_streaming_shows_the_line_only_once_it_is_whole() -> None:
    assert stable_prefix(LINE, "He woke with") == ""
    assert stable_prefix(LINE, "He woke with a fright\n") == "He woke with a fright"


def test_a_title_loses_its_label_quotes_and_full_stop() -> None:
    assert finish(TITLE, 'Title: "The Cat Who Ate a Shoe."\n', hit_length_limit=False) == (
        "The Cat Who Ate a Shoe"
    )
    long = "The " + "Very " * 20 + "Long Title"
    assert len(finish(TITLE, long, hit_length_limit=True)) <= 60


def test_labels() -> None:
    assert LINE.title() == "Line"
    assert PieceSpec(Form.LINE, "", topic="Cats in Peru").title() == "Line: Cats in Peru"
    assert TITLE.title() == "Title"


def test_an_empty_poem_can_get_its_first_line_but_a_title_needs_a_poem() -> None:
    first = PieceSpec(Form.LINE, "", poem_form=PoemForm.HAIKU, topic="snow")
    assert build_prompt(first, chat=False).text == "A haiku about snow\n\n"
    assert "first line of a haiku about snow" in build_prompt(first, chat=True).messages[-1].content
    with pytest.raises(ValueError, match="needs some text"):
        build_prompt(PieceSpec(Form.TITLE, " "), chat=True)


def test_base_prompt_continues_the_poem() -> None:
    spec = PieceSpec(Form.LINE, LIMERICK_SO_FAR, poem_form=PoemForm.LIMERICK, topic="a cat")
    assert build_prompt(spec, chat=False).text == f"A limerick about a cat\n\n{LIMERICK_SO_FAR}\n"


def test_chat_prompt_names_the_slot() -> None:
    messages = build_prompt(LINE, chat=True).messages
    assert messages is not None
    assert messages[-1].content.endswith("no title, no quotes, no explanation.")
    assert "Write line 3" in messages[-1].content and "5 syllables" in messages[-1].content
    # one worked example before the real request
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]


@pytest.mark.parametrize(
    ("spec", "partner"),
    [
        (PieceSpec(Form.LINE, LIMERICK_SO_FAR, poem_form=PoemForm.LIMERICK, line_number=4), "Peru"),
        (PieceSpec(Form.LINE, LIMERICK_SO_FAR, poem_form=PoemForm.LIMERICK, line_number=2), ""),
        # The second stanza of a game's limerick rhymes within itself.
        (
            PieceSpec(
                Form.LINE,
                LIMERICK_SO_FAR + "\na\nb\nc\nd fun",
                poem_form=PoemForm.LIMERICK,
                line_number=6,
            ),
            "fun",
        ),
        (PieceSpec(Form.LINE, "x", poem_form=PoemForm.HAIKU, line_number=1), ""),
        (PieceSpec(Form.LINE, "", poem_form=PoemForm.QUATRAIN, rhyme_with="the moon"), "moon"),
    ],
)
def test_rhyme_partner_comes_from_the_stanza(spec: PieceSpec, partner: str) -> None:
    assert rhyme_partner(spec) == partner


def test_haiku_slots_repeat_by_line_number() -> None:
    hints = [
        slot_hint(PieceSpec(Form.LINE, "", poem_form=PoemForm.HAIKU, line_number=n))
        for n in range(4)
    ]
    assert [hint.split()[2] for hint in hints] == ["5", "7", "5", "5"]
    assert slot_hint(PieceSpec(Form.LINE, "")) == ""


def test_budgets_are_small() -> None:
    assert (
        default_max_new_tokens(LINE)
        < default_max_new_tokens(PieceSpec(Form.POEM, "x", poem_form=PoemForm.HAIKU)) + 10
    )
    assert default_max_new_tokens(TITLE) <= 24
