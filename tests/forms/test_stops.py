"""Where generation stops: each form's natural end, web junk, special tokens and loops."""

from __future__ import annotations

import random
import time

import pytest

from bot.forms import Form, Length, PieceSpec, PoemForm, stop_index
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
    SCRIPT,
    SEA_FREE_VERSE,
    SEA_SONNET_LINES,
    SONNET,
    STORY,
)


def kept(spec: PieceSpec, generated: str) -> str:
    cut = stop_index(spec, generated)
    assert cut is not None, f"no stop in {generated!r}"
    return generated[:cut]


class TestFixedPoems:
    def test_haiku_stops_when_a_fourth_line_begins(self) -> None:
        generated = AUTUMN_HAIKU + "\n\nA haiku about winter\nsnow on the rooftops\n"
        assert kept(HAIKU, generated) == AUTUMN_HAIKU

    def test_haiku_keeps_going_until_its_third_line_is_finished(self) -> None:
        assert stop_index(HAIKU, "Crimson leaves falling\nwhispers of the wind") is None
        assert stop_index(HAIKU, AUTUMN_HAIKU) is None
        assert kept(HAIKU, AUTUMN_HAIKU + "\n") == AUTUMN_HAIKU

    def test_haiku_after_a_chat_preamble_and_title(self) -> None:
        preamble = "Sure! Here's a haiku about autumn:\n\n**Autumn Leaves**\n\n"
        assert stop_index(HAIKU, preamble + "Crimson leaves falling\n") is None
        assert kept(HAIKU, preamble + AUTUMN_HAIKU + "\n\n") == preamble + AUTUMN_HAIKU

    def test_haiku_written_on_one_line_counts_its_segments(self) -> None:
        generated = "crimson leaves / whispers of wind / the pond is still\nanother"
        assert kept(HAIKU, generated) == "crimson leaves / whispers of wind / the pond is still"

    def test_haiku_with_blank_lines_between_its_lines(self) -> None:
        generated = "Crimson leaves\n\nwhispers of wind\n\nthe pond is still\n\nmore"
        assert kept(HAIKU, generated) == "Crimson leaves\n\nwhispers of wind\n\nthe pond is still"

    def test_quatrain_stops_after_four_lines(self) -> None:
        lines = ["The rain is soft", "upon the pane,", "it comes and goes", "and comes again."]
        generated = "\n".join(lines) + "\nThe"
        assert kept(QUATRAIN, generated) == "\n".join(lines)
        assert stop_index(QUATRAIN, "\n".join(lines[:3]) + "\n") is None

    def test_limerick_stops_after_five_lines(self) -> None:
        assert kept(LIMERICK, CAT_LIMERICK + "\nThere once was") == CAT_LIMERICK
        assert stop_index(LIMERICK, CAT_LIMERICK) is None

    def test_sonnet_stops_after_fourteen_lines_across_stanzas(self) -> None:
        body = "\n".join(SEA_SONNET_LINES[:8]) + "\n\n" + "\n".join(SEA_SONNET_LINES[8:])
        assert stop_index(SONNET, "\n".join(SEA_SONNET_LINES[:13]) + "\n") is None
        assert kept(SONNET, body + "\n\nThe sea") == body

    def test_title_case_first_line_of_a_fixed_form_alone_is_a_title(self) -> None:
        generated = "Autumn Dusk\n\n" + AUTUMN_HAIKU + "\n"
        assert kept(HAIKU, generated) == "Autumn Dusk\n\n" + AUTUMN_HAIKU


class TestFreeVerse:
    def test_stops_before_a_new_title(self) -> None:
        generated = SEA_FREE_VERSE + "\n\nThe Mountain\n\nA mountain high"
        assert kept(FREE, generated) == SEA_FREE_VERSE

    def test_stops_before_a_markdown_title(self) -> None:
        generated = SEA_FREE_VERSE + "\n\n**Winter**\n"
        assert kept(FREE, generated) == SEA_FREE_VERSE

    def test_stops_before_prose(self) -> None:
        prose = "This poem was written in 1998 when I lived by the sea in a small town " * 2
        assert kept(FREE, SEA_FREE_VERSE + "\n\n" + prose) == SEA_FREE_VERSE

    def test_stops_when_the_poem_starts_over(self) -> None:
        generated = SEA_FREE_VERSE + "\n\nThe sea is wide\nthe"
        assert kept(FREE, generated) == SEA_FREE_VERSE

    def test_short_stanzas_and_titles_before_four_lines_are_kept(self) -> None:
        generated = "The sea is wide\n\nThe Deep\n\nand cold"
        assert stop_index(FREE, generated) is None

    def test_a_new_stanza_is_not_an_end(self) -> None:
        generated = SEA_FREE_VERSE + "\n\nand when the tide comes in\nI wake"
        assert stop_index(FREE, generated) is None

    @pytest.mark.parametrize(("length", "lines"), [(Length.SHORT, 16), (Length.MEDIUM, 24)])
    def test_stops_at_the_line_cap(self, length: Length, lines: int) -> None:
        spec = PieceSpec(Form.POEM, "x", length=length)
        poem = "\n".join(f"line number {index}" for index in range(1, 40))
        assert kept(spec, poem).splitlines()[-1] == f"line number {lines}"


class TestWebJunkAndGaps:
    @pytest.mark.parametrize(
        "junk",
        [
            "Posted by admin at 3:42 PM",
            "Comments (12)",
            "Copyright 2009 Jane Doe",
            "\u00a9 2012 All rights reserved",
            "Share this:",
            "Tags: poetry, autumn",
            "Leave a comment",
        ],
    )
    @pytest.mark.parametrize("spec", [FREE, STORY, SCRIPT], ids=lambda spec: spec.form.value)
    def test_cut_at_web_furniture(self, spec: PieceSpec, junk: str) -> None:
        body = "The tide came in.\nThe gulls went quiet.\n"
        assert kept(spec, body + "\n" + junk + "\nmore") == body + "\n"

    def test_poem_gap_is_two_blank_lines(self) -> None:
        assert kept(FREE, "a line\nanother\n\n\nsomething else") == "a line\nanother"

    def test_story_paragraphs_are_not_a_gap(self) -> None:
        assert stop_index(STORY, "It rained.\n\n\nThen it stopped.") is None
        assert kept(STORY, "It rained.\n\n\n\nThen it stopped.") == "It rained."

    def test_junk_words_inside_a_line_do_not_stop(self) -> None:
        assert stop_index(STORY, "It rained.\nShe read the comments on the copyright.") is None

    def test_nothing_stops_before_the_first_line_of_the_piece(self) -> None:
        assert stop_index(FREE, "A poem about the sea\n\nThe sea is wide\n") is None


class TestProse:
    @pytest.mark.parametrize(
        "ending",
        ["The End.", "THE END", "The End!", "**The End**"],
    )
    def test_story_keeps_the_end(self, ending: str) -> None:
        body = "The dragon closed the last book and slept.\n\n"
        assert kept(STORY, body + ending + "\n\nAnother story begins") == body + ending

    def test_inline_the_end_after_a_sentence(self) -> None:
        generated = "And they lived happily ever after. The End. Posted in Stories"
        assert kept(STORY, generated) == "And they lived happily ever after. The End."

    @pytest.mark.parametrize(
        "text",
        [
            "At the end of the road stood a tower.",
            "The End",  # may still become "The Endless Sea"
            "She said the end was near.",
            "The Endless Sea was calm.\n",
        ],
    )
    def test_not_the_end(self, text: str) -> None:
        assert stop_index(STORY, text) is None

    def test_story_restart_header(self) -> None:
        generated = "The dragon slept.\n\nWriting prompt: a knight"
        assert kept(STORY, generated) == "The dragon slept.\n\n"

    def test_chat_story_closing_remark(self) -> None:
        generated = "The dragon slept.\n\nI hope you enjoyed this story!"
        assert kept(STORY, generated) == "The dragon slept."

    def test_continue_has_no_header_rules_but_stops_at_the_end(self) -> None:
        assert stop_index(CONTINUE, "She left.\nTitle: whatever\n") is None
        assert kept(CONTINUE, "She left. The End.\nMore") == "She left. The End."


class TestScript:
    @pytest.mark.parametrize("ending", ["FADE OUT.", "THE END", "END SCENE.", "(FADE TO BLACK)"])
    def test_scene_end_is_kept(self, ending: str) -> None:
        body = "INT. VAULT - NIGHT\n\nALICE: Go.\nBOB: Not yet.\n"
        assert kept(SCRIPT, body + ending + "\n\nINT. CAR") == body + ending

    def test_restart_of_the_screenplay_header(self) -> None:
        body = "ALICE: Go.\nBOB: Not yet.\n\n"
        assert kept(SCRIPT, body + "SCREENPLAY\n\nLOGLINE: x") == body

    def test_dialogue_continues(self) -> None:
        generated = "INT. VAULT - NIGHT\n\nALICE: Go.\n\n\nBOB: Not yet.\nALICE: Now."
        assert stop_index(SCRIPT, generated) is None


class TestEveryForm:
    @pytest.mark.parametrize("token", ["<|endoftext|>", "<|im_end|>", "</s>", "<|eot_id|>"])
    @pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda spec: spec.title())
    def test_special_tokens_end_everything(self, spec: PieceSpec, token: str) -> None:
        assert stop_index(spec, "Some words" + token + "more") == len("Some words")

    @pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda spec: spec.title())
    def test_runaway_loop(self, spec: PieceSpec) -> None:
        generated = "It began.\n" + "and the night was long " * 4
        assert kept(spec, generated) == "It began.\nand the night was long "

    def test_generate_ignores_natural_ends(self) -> None:
        generated = "one\ntwo\nthree\nfour\n\n\n\nPosted by me\nThe End.\n"
        assert stop_index(GENERATE, generated) is None

    @pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda spec: spec.title())
    def test_empty_and_partial(self, spec: PieceSpec) -> None:
        assert stop_index(spec, "") is None
        assert stop_index(spec, "The") is None

    @pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda spec: spec.title())
    def test_fast_enough_to_run_after_every_token(self, spec: PieceSpec) -> None:
        rng = random.Random(3)
        words = [
            "the",
            "a",
            "of",
            "wind",
            "autumn",
            "river",
            "stone",
            "light",
            "night",
            "moon",
            "I",
            "you",
            "said.",
            "ran,",
        ]
        words += ["\n", "\n\n"]
        text = " ".join(rng.choice(words) for _ in range(800))[:3000]
        started = time.perf_counter()
        for _ in range(20):
            stop_index(spec, text)
        # Well under a millisecond normally; generous for slow CI machines.
        assert (time.perf_counter() - started) / 20 < 0.02


def test_haiku_form_only_applies_to_poems() -> None:
    # A story with poem_form left at HAIKU must not stop after three lines.
    spec = PieceSpec(Form.STORY, "x", poem_form=PoemForm.HAIKU)
    assert stop_index(spec, "One.\nTwo.\nThree.\nFour.\n") is None
