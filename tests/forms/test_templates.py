"""Prompts for each form, in base-model and chat style."""

from __future__ import annotations

import pytest

from bot.forms import (
    ChatMessage,
    Form,
    Genre,
    Length,
    PieceSpec,
    PoemForm,
    Prompt,
    build_prompt,
    default_max_new_tokens,
    finish,
    with_less_context,
)
from bot.forms.examples import example_for
from bot.forms.templates import MINIMAL_SYSTEM_PROMPT, SYSTEM_PROMPT, script_cast
from tests.forms.samples import ALL_SPECS, CONTINUE, GENERATE, HAIKU, SCRIPT, STORY

ODD_TEXTS = [
    "autumn 🍂 leaves",
    "שלום עולם",  # right-to-left
    "zero\u200bwidth\u200djoiner",
    "<@123> and @everyone and @here",
    "multi\nline\n\ntopic",
    "{braces} and %s and {0}",
]


def user_turn(prompt: Prompt) -> str:
    assert prompt.messages is not None
    return prompt.messages[-1].content


class TestBaseTemplates:
    @pytest.mark.parametrize(
        ("form", "expected"),
        [
            (PoemForm.HAIKU, "A haiku about autumn\n\n"),
            (PoemForm.LIMERICK, "A limerick about autumn\n\n"),
            (PoemForm.SONNET, "A sonnet about autumn\n\n"),
            (PoemForm.QUATRAIN, "A quatrain about autumn\n\n"),
            (PoemForm.FREE, "A poem about autumn\n\n"),
        ],
    )
    def test_poem_header(self, form: PoemForm, expected: str) -> None:
        prompt = build_prompt(PieceSpec(Form.POEM, "  autumn \n", poem_form=form), chat=False)
        assert prompt == Prompt(text=expected, messages=None)

    def test_story_names_premise_and_genre(self) -> None:
        prompt = build_prompt(STORY, chat=False)
        assert prompt.text == (
            "Writing prompt: a dragon who hoards books\nGenre: fantasy\n\nStory:\n\n"
        )

    def test_story_without_genre_has_no_genre_line(self) -> None:
        text = build_prompt(PieceSpec(Form.STORY, "a storm"), chat=False).text
        assert text == "Writing prompt: a storm\n\nStory:\n\n"

    def test_script_is_a_screenplay_header_with_capitalised_cast(self) -> None:
        text = build_prompt(SCRIPT, chat=False).text
        assert text == (
            "SCREENPLAY\n\nLOGLINE: two thieves argue in a vault\nCHARACTERS: ALICE, BOB\n\n"
            "SCENE 1\n\nFADE IN:\n\n"
        )

    def test_script_without_characters_invents_two_stably(self) -> None:
        spec = PieceSpec(Form.SCRIPT, "a lighthouse keeper gets a visitor")
        cast = script_cast(spec)
        assert len(cast) == 2
        assert all(name.isupper() for name in cast)
        assert script_cast(spec) == cast
        assert f"CHARACTERS: {cast[0]}, {cast[1]}\n" in (build_prompt(spec, chat=False).text or "")

    def test_script_cast_is_tidied_and_deduplicated(self) -> None:
        spec = PieceSpec(Form.SCRIPT, "x", characters=(" dr  wu ", "Dr Wu", "", "zoë"))
        assert script_cast(spec) == ("DR WU", "ZOË")

    def test_continue_is_the_users_text(self) -> None:
        spec = PieceSpec(Form.CONTINUE, "\n  It was late.\n\n\n\nThe rain had stopped.  ")
        assert build_prompt(spec, chat=False).text == "It was late.\n\nThe rain had stopped."

    def test_generate_is_the_raw_prompt_unchanged(self) -> None:
        spec = PieceSpec(Form.GENERATE, "  Q: why?\n\n\n\nA: ")
        assert build_prompt(spec, chat=False).text == "  Q: why?\n\n\n\nA: "

    @pytest.mark.parametrize("text", ODD_TEXTS)
    @pytest.mark.parametrize("form", list(Form))
    def test_user_text_goes_in_verbatim(self, form: Form, text: str) -> None:
        prompt = build_prompt(PieceSpec(form, text), chat=False)
        assert prompt.messages is None
        assert text in (prompt.text or "")


class TestChatTemplates:
    @pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda spec: spec.title())
    def test_shape_is_system_then_user(self, spec: PieceSpec) -> None:
        prompt = build_prompt(spec, chat=True)
        assert prompt.text is None
        assert prompt.messages is not None
        roles = [message.role for message in prompt.messages]
        # A worked example (user + assistant) sits between the system message and the request
        # for the forms with a fixed shape; continue and generate are the user's own shape.
        if spec.form in (Form.CONTINUE, Form.GENERATE):
            assert roles == ["system", "user"]
        else:
            assert roles == ["system", "user", "assistant", "user"]
            assert spec.text in prompt.messages[-1].content
        assert all(isinstance(message, ChatMessage) for message in prompt.messages)

    @pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda spec: spec.title())
    def test_worked_examples_are_pieces_the_form_keeps_whole(self, spec: PieceSpec) -> None:
        example = example_for(spec)
        if example is None:
            return
        example_spec, answer = example
        assert finish(example_spec, answer, hit_length_limit=False) == answer
        if example_spec.fixed_lines is not None:
            assert len(answer.split("\n")) == example_spec.fixed_lines

    @pytest.mark.parametrize(
        ("form", "shape"),
        [
            (PoemForm.HAIKU, "three lines of 5, 7 and 5 syllables"),
            (PoemForm.LIMERICK, "five lines rhyming AABBA"),
            (PoemForm.SONNET, "fourteen lines"),
            (PoemForm.QUATRAIN, "four rhyming lines"),
            (PoemForm.FREE, "free-verse poem"),
        ],
    )
    def test_poem_instruction_names_the_shape(self, form: PoemForm, shape: str) -> None:
        prompt = build_prompt(PieceSpec(Form.POEM, "autumn", poem_form=form), chat=True)
        assert prompt.messages is not None
        assert prompt.messages[0] == ChatMessage("system", SYSTEM_PROMPT)
        instruction = user_turn(prompt)
        assert "about autumn" in instruction
        assert shape in instruction
        assert "ONLY" in instruction and "no title, no preamble, no explanation" in instruction

    def test_haiku_instruction_in_full(self) -> None:
        assert user_turn(build_prompt(HAIKU, chat=True)) == (
            "Write a haiku about autumn. Use three lines of 5, 7 and 5 syllables. "
            "Reply with ONLY the haiku: no title, no preamble, no explanation."
        )

    def test_story_instruction_has_genre_length_and_premise(self) -> None:
        spec = PieceSpec(
            Form.STORY, "a robot learns to paint", genre=Genre.SCIFI, length=Length.LONG
        )
        instruction = user_turn(build_prompt(spec, chat=True))
        assert "sci-fi story of about 350 words" in instruction
        assert "\n\na robot learns to paint\n\n" in instruction
        assert "ONLY the story" in instruction

    def test_script_instruction_has_cast_and_format(self) -> None:
        instruction = user_turn(build_prompt(SCRIPT, chat=True))
        assert "Characters: ALICE, BOB." in instruction
        assert "name in capitals followed by a colon" in instruction
        assert "two thieves argue in a vault" in instruction

    def test_continue_asks_not_to_repeat_and_ends_with_the_text(self) -> None:
        instruction = user_turn(build_prompt(CONTINUE, chat=True))
        assert "Continue the following text seamlessly" in instruction
        assert "Do not repeat the text" in instruction
        assert instruction.endswith("\n\nThe door creaked open.")

    def test_generate_passes_the_prompt_with_a_minimal_system_message(self) -> None:
        prompt = build_prompt(GENERATE, chat=True)
        assert prompt.messages == (
            ChatMessage("system", MINIMAL_SYSTEM_PROMPT),
            ChatMessage("user", "Once upon a time"),
        )

    @pytest.mark.parametrize("text", ODD_TEXTS)
    @pytest.mark.parametrize("form", list(Form))
    def test_user_text_goes_in_verbatim(self, form: Form, text: str) -> None:
        assert text in user_turn(build_prompt(PieceSpec(form, text), chat=True))

    def test_long_blank_runs_are_collapsed(self) -> None:
        spec = PieceSpec(Form.STORY, "one\n\n\n\n\ntwo\r\n\r\n\r\nthree")
        assert "one\n\ntwo\n\nthree" in user_turn(build_prompt(spec, chat=True))


class TestPromptRules:
    @pytest.mark.parametrize("chat", [True, False])
    @pytest.mark.parametrize("form", list(Form))
    def test_blank_text_is_refused(self, form: Form, chat: bool) -> None:
        if form is Form.LINE:
            return  # a game's first line is written for an empty poem
        with pytest.raises(ValueError, match="needs some text"):
            build_prompt(PieceSpec(form, " \n\t "), chat=chat)

    def test_prompt_needs_exactly_one_of_text_and_messages(self) -> None:
        with pytest.raises(ValueError):
            Prompt(text=None, messages=None)
        with pytest.raises(ValueError):
            Prompt(text="a", messages=(ChatMessage("user", "b"),))


class TestMaxNewTokens:
    @pytest.mark.parametrize(
        ("spec", "tokens"),
        [
            (PieceSpec(Form.POEM, "x", poem_form=PoemForm.HAIKU), 40),
            (PieceSpec(Form.POEM, "x", poem_form=PoemForm.QUATRAIN), 70),
            (PieceSpec(Form.POEM, "x", poem_form=PoemForm.LIMERICK), 80),
            (PieceSpec(Form.POEM, "x", poem_form=PoemForm.SONNET), 220),
            (PieceSpec(Form.POEM, "x"), 120),
            (PieceSpec(Form.POEM, "x", length=Length.LONG), 200),
            (PieceSpec(Form.STORY, "x", length=Length.SHORT), 150),
            (PieceSpec(Form.STORY, "x"), 300),
            (PieceSpec(Form.STORY, "x", length=Length.LONG), 500),
            (PieceSpec(Form.SCRIPT, "x"), 300),
            (PieceSpec(Form.CONTINUE, "x", length=Length.SHORT), 100),
            (PieceSpec(Form.GENERATE, "x", length=Length.LONG), 400),
        ],
        ids=lambda value: value.title() if isinstance(value, PieceSpec) else str(value),
    )
    def test_budget_fits_the_form(self, spec: PieceSpec, tokens: int) -> None:
        assert default_max_new_tokens(spec) == tokens

    @pytest.mark.parametrize("form", [Form.STORY, Form.SCRIPT, Form.CONTINUE, Form.GENERATE])
    def test_longer_lengths_get_more_tokens(self, form: Form) -> None:
        budgets = [default_max_new_tokens(PieceSpec(form, "x", length=size)) for size in Length]
        assert budgets == sorted(budgets)
        assert len(set(budgets)) == 3


def test_a_line_reads_less_of_the_poem_but_keeps_its_rhyme():
    poem = "\n".join(
        [
            "a ship sailed out of the bay",
            "it sailed every night and day",
            "it met a whale",
            "who told a tale",
        ]
    )
    spec = PieceSpec(Form.LINE, poem, poem_form=PoemForm.LIMERICK, line_number=4)
    shorter = with_less_context(spec)
    assert shorter is not None
    assert shorter.text == "it sailed every night and day\nit met a whale\nwho told a tale"
    # The limerick's last line rhymes with its first, which the model no longer sees.
    assert shorter.rhyme_with == "bay"
    assert shorter.line_number == 4
    last = with_less_context(with_less_context(shorter) or spec)
    assert last is not None and last.text == "who told a tale" and last.rhyme_with == "bay"
    assert with_less_context(last) is None


def test_a_title_reads_the_poems_opening_when_the_whole_is_too_long():
    spec = PieceSpec(Form.TITLE, "one\n\ntwo\nthree")
    assert (shorter := with_less_context(spec)) is not None
    assert shorter.text == "one\ntwo"


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda spec: spec.form.value)
def test_other_forms_have_no_context_to_drop(spec):
    assert with_less_context(spec) is None
