"""The finished piece and the streamed preview."""

from __future__ import annotations

import pytest

from bot.forms import Form, PieceSpec, finish, stable_prefix
from tests.forms.samples import (
    ALL_SPECS,
    AUTUMN_HAIKU,
    CAT_LIMERICK,
    CONTINUE,
    FREE,
    GENERATE,
    HAIKU,
    LIMERICK,
    QUATRAIN,
    SAMPLES,
    SCRIPT,
    STORY,
    Sample,
)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: sample.name)
def test_samples_finish(sample: Sample) -> None:
    assert finish(sample.spec, sample.generated, hit_length_limit=False) == sample.expected


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: sample.name)
def test_streamed_preview_never_takes_text_back(sample: Sample) -> None:
    # Replay the output as it would stream in, a few characters at a time: every preview must
    # be a prefix of every later preview and of the finished piece.
    shown = ""
    for end in range(0, len(sample.generated) + 1, 3):
        preview = stable_prefix(sample.spec, sample.generated[:end]).rstrip()
        assert preview.startswith(shown), (sample.generated[:end], shown, preview)
        assert sample.expected.startswith(preview)
        shown = preview


class TestPreamblesAndTitles:
    @pytest.mark.parametrize(
        "preamble",
        [
            "Here is a haiku about autumn:\n\n",
            "Sure! Here's a haiku about autumn:\n",
            "Certainly! Here is your haiku.\n\n",
            "**Autumn**\n\n",
            "**Autumn**\n",
            "# Autumn Leaves\n\n",
            "Title: Autumn\n\n",
            "Haiku: Autumn\n",
            "Okay, here's one:\n\n*Falling*\n\n",
            '"Autumn"\n\n',
            "```text\n",
            "Autumn Dusk\n\n",
        ],
    )
    def test_stripped_from_a_haiku(self, preamble: str) -> None:
        generated = preamble + AUTUMN_HAIKU + "\n```" * preamble.startswith("```")
        assert finish(HAIKU, generated, hit_length_limit=False) == AUTUMN_HAIKU

    def test_story_title_line_is_stripped(self) -> None:
        generated = "The Dragon's Gift\n\nOnce upon a time there was a dragon."
        expected = "Once upon a time there was a dragon."
        assert finish(STORY, generated, hit_length_limit=False) == expected

    def test_a_story_opening_is_not_a_title(self) -> None:
        generated = "Here is the tale of Jack, who lived alone.\n\nHe had a cat."
        assert finish(STORY, generated, hit_length_limit=False) == generated

    def test_italic_poem_keeps_its_first_line(self) -> None:
        generated = "*Crimson leaves falling*\n*whispers of wind*\n*the pond is still*"
        assert finish(HAIKU, generated, hit_length_limit=False) == generated

    def test_script_keeps_its_scene_heading_and_cues(self) -> None:
        generated = "**Title: The Heist**\n\nINT. VAULT - NIGHT\n\nALICE: Here is the plan:\n"
        expected = "INT. VAULT - NIGHT\n\nALICE: Here is the plan:"
        assert finish(SCRIPT, generated, hit_length_limit=False) == expected

    def test_continuation_keeps_a_leading_heading(self) -> None:
        generated = "Here is the continuation:\n\n# Chapter Two\n\nShe ran."
        assert finish(CONTINUE, generated, hit_length_limit=False) == "# Chapter Two\n\nShe ran."

    def test_generate_is_left_alone(self) -> None:
        generated = "Sure! Here's a poem:\n\n**Autumn**\n\nleaves   \n"
        expected = "Sure! Here's a poem:\n\n**Autumn**\n\nleaves"
        assert finish(GENERATE, generated, hit_length_limit=False) == expected

    def test_only_a_preamble_is_still_returned(self) -> None:
        generated = "Here is a haiku about autumn:"
        assert finish(HAIKU, generated + "\n", hit_length_limit=False) == generated


class TestLineBreaks:
    def test_tidies_whitespace_and_stanza_gaps(self) -> None:
        generated = "  line one  \r\nline two\t\n\n \nline three \n\nline four\n\n"
        expected = "line one\nline two\n\nline three\n\nline four"
        assert finish(STORY, generated, hit_length_limit=False) == expected

    def test_poem_lines_lose_indentation_and_blank_runs_end_the_poem(self) -> None:
        generated = "  line one  \nline two\n\n  line three\n\n\nline four"
        expected = "line one\nline two\n\nline three"
        assert finish(FREE, generated, hit_length_limit=False) == expected

    def test_one_stanza_forms_lose_inner_blank_lines(self) -> None:
        generated = "The rain is soft\n\nupon the pane,\n\nit comes and goes\n\nand comes again."
        expected = "The rain is soft\nupon the pane,\nit comes and goes\nand comes again."
        assert finish(QUATRAIN, generated, hit_length_limit=False) == expected

    def test_slash_separated_haiku_is_split(self) -> None:
        generated = "old pond / a frog jumps in / the sound of water"
        expected = "old pond\na frog jumps in\nthe sound of water"
        assert finish(HAIKU, generated, hit_length_limit=False) == expected

    def test_overlong_one_line_haiku_is_kept_to_three_lines(self) -> None:
        generated = "old pond / a frog jumps in / the sound of water / and then / more"
        expected = "old pond\na frog jumps in\nthe sound of water"
        assert finish(HAIKU, generated, hit_length_limit=False) == expected

    def test_a_single_slash_in_free_verse_is_kept(self) -> None:
        generated = "and / or the sea\nwhatever it is"
        assert finish(FREE, generated, hit_length_limit=False) == generated

    def test_quotes_around_a_whole_poem_are_removed(self) -> None:
        generated = '"' + CAT_LIMERICK + '"'
        assert finish(LIMERICK, generated, hit_length_limit=False) == CAT_LIMERICK

    def test_quoted_speech_inside_a_poem_is_kept(self) -> None:
        generated = '"Go home," she said,\nand the sea went "hush"'
        assert finish(FREE, generated, hit_length_limit=False) == generated

    def test_trailing_separator_rule_is_dropped(self) -> None:
        generated = "It rained.\n\n---"
        assert finish(STORY, generated, hit_length_limit=False) == "It rained."

    @pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda spec: spec.title())
    def test_special_tokens_never_survive(self, spec: PieceSpec) -> None:
        generated = "The sea.\nThe sky.\n<|im_end|>\n<|im_start|>assistant"
        result = finish(spec, generated, hit_length_limit=False)
        assert "<|" not in result
        assert result.startswith("The sea.")

    def test_half_written_special_token_is_removed(self) -> None:
        assert finish(STORY, "It rained.<|endo", hit_length_limit=False) == "It rained."


class TestLengthLimit:
    def test_poem_drops_its_dangling_line_only_at_the_limit(self) -> None:
        generated = "The rain is soft\nupon the pane,\nit comes and"
        assert finish(QUATRAIN, generated, hit_length_limit=True) == (
            "The rain is soft\nupon the pane,"
        )
        assert finish(QUATRAIN, generated, hit_length_limit=False) == generated

    def test_poem_keeps_a_last_line_that_ended(self) -> None:
        generated = "The rain is soft\nupon the pane."
        assert finish(FREE, generated, hit_length_limit=True) == generated

    def test_story_drops_its_unfinished_sentence(self) -> None:
        generated = 'He waved. "Goodbye!" she called. Then Mr. Smith turned and'
        expected = 'He waved. "Goodbye!" she called.'
        assert finish(STORY, generated, hit_length_limit=True) == expected
        assert finish(STORY, generated, hit_length_limit=False) == generated

    def test_a_list_number_is_not_a_finished_sentence(self) -> None:
        # A finished line counts as a paragraph; "2." alone is not a sentence.
        generated = "1. The dragon woke in 1999. It\n2. But they also had"
        expected = "1. The dragon woke in 1999. It"
        assert finish(STORY, generated, hit_length_limit=True) == expected

    def test_story_keeps_finished_paragraph_without_punctuation(self) -> None:
        generated = "Chapter One\nIt was a dark night and the"
        assert finish(STORY, generated, hit_length_limit=True) == "Chapter One"

    def test_script_drops_its_dangling_line(self) -> None:
        generated = "ALICE: Go.\nBOB: Not y"
        assert finish(SCRIPT, generated, hit_length_limit=True) == "ALICE: Go."

    def test_natural_end_is_never_trimmed(self) -> None:
        generated = AUTUMN_HAIKU + "\nA haiku"
        assert finish(HAIKU, generated, hit_length_limit=True) == AUTUMN_HAIKU

    @pytest.mark.parametrize(
        ("spec", "generated", "expected"),
        [
            (HAIKU, "Crimson leaves falling slowly", "Crimson leaves falling…"),
            (
                STORY,
                "Once upon a time, in a land far away, there",
                "Once upon a time, in a land far away…",
            ),
            (STORY, "Supercalifragilistic", "Supercalifragilistic…"),
            (SCRIPT, "ALICE: We need to", "ALICE: We need…"),
            (HAIKU, "Here is a haiku about autumn:\n\nCrimson leaves drift", "Crimson leaves…"),
            (GENERATE, " upon a time there was", "upon a time there"),  # word-level for raw
        ],
    )
    def test_never_empty_when_there_is_content(
        self, spec: PieceSpec, generated: str, expected: str
    ) -> None:
        assert finish(spec, generated, hit_length_limit=True) == expected

    @pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda spec: spec.title())
    def test_empty_only_without_content(self, spec: PieceSpec) -> None:
        assert finish(spec, "", hit_length_limit=True) == ""
        assert finish(spec, " \n\n ", hit_length_limit=False) == ""
        assert finish(spec, "<|endoftext|>Posted by", hit_length_limit=True) == ""


class TestContinue:
    def test_only_the_continuation_is_returned(self) -> None:
        generated = " A cold wind blew in."
        assert finish(CONTINUE, generated, hit_length_limit=False) == "A cold wind blew in."

    def test_an_echo_of_the_users_text_is_dropped(self) -> None:
        generated = "The door creaked open.\n\nA cold wind blew in."
        assert finish(CONTINUE, generated, hit_length_limit=False) == "A cold wind blew in."

    def test_a_bare_echo_is_kept_rather_than_nothing(self) -> None:
        generated = "The door creaked open."
        assert finish(CONTINUE, generated, hit_length_limit=False) == generated

    def test_an_echo_is_not_previewed(self) -> None:
        assert stable_prefix(CONTINUE, "The door creaked open. ") == ""


class TestStablePrefix:
    def test_poem_shows_lines_once_the_next_has_begun(self) -> None:
        assert stable_prefix(FREE, "The sea is wide\nthe sea") == "The sea is wide"
        assert stable_prefix(FREE, "The sea is wide\n") == ""
        assert stable_prefix(FREE, "The sea is wide\nthe sea is deep\nI") == (
            "The sea is wide\nthe sea is deep"
        )

    def test_prose_shows_finished_sentences(self) -> None:
        assert stable_prefix(STORY, "It rained. The river rose and") == "It rained."
        assert stable_prefix(STORY, 'She said, "Run!" Then') == 'She said, "Run!"'
        assert stable_prefix(STORY, "Mr. Smith") == ""

    def test_a_sentence_is_held_until_something_follows_it(self) -> None:
        assert stable_prefix(STORY, 'He said, "Run.') == ""
        assert stable_prefix(STORY, 'He said, "Run."') == ""
        assert stable_prefix(STORY, 'He said, "Run."  ') == 'He said, "Run."'
        assert stable_prefix(STORY, 'He said, "Run." T') == 'He said, "Run."'

    def test_a_lone_line_is_held_until_the_next_begins(self) -> None:
        # It may yet turn out to be a title, which the finished piece leaves out.
        assert stable_prefix(STORY, "The Dragon's Library\n") == ""
        assert stable_prefix(STORY, "The Dragon's Library\n\nOnce upon") == ""
        assert stable_prefix(STORY, "Chapter one\nOnce upon") == "Chapter one"

    def test_preview_of_a_finished_piece_is_the_whole_piece(self) -> None:
        generated = AUTUMN_HAIKU + "\n\nA haiku about winter"
        assert stable_prefix(HAIKU, generated) == AUTUMN_HAIKU

    def test_a_possible_loop_is_held_back(self) -> None:
        generated = "It began. He ran and ran and ran. He ran and ran and ran. He"
        assert stable_prefix(STORY, generated) == "It began. He ran and ran and ran."

    @pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda spec: spec.title())
    def test_nothing_to_show_yet(self, spec: PieceSpec) -> None:
        assert stable_prefix(spec, "") == ""
        assert stable_prefix(spec, "Once") == ""


def test_finish_for_every_form_strips_surrounding_whitespace() -> None:
    for form in Form:
        if form is Form.TITLE:
            continue  # a title drops its full stop; see test_one_line
        spec = PieceSpec(form, "x")
        assert finish(spec, "\n\n  Hello there.  \n\n", hit_length_limit=False) == "Hello there."


def test_a_preview_never_drops_a_first_line_the_finished_piece_keeps() -> None:
    """Found by hypothesis: "INT. VAULT - NIGHT" looked like a title while the line after it
    was being written, and stopped looking like one once that line stood alone too (text
    double-spaced throughout), so the preview had left out what the piece began with."""
    generated = "INT. VAULT - NIGHT\n\nTheINT. VAULT - NIGHT\n\nTheINT. VAULT - NIGHT"
    final = finish(STORY, generated, hit_length_limit=True)
    assert final.startswith("INT. VAULT - NIGHT")
    for end in range(len(generated) + 1):
        preview = stable_prefix(STORY, generated[:end])
        assert final.startswith(preview.rstrip()), (end, preview)
