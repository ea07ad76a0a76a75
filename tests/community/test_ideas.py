"""The pure rules of /idea: filters and pools, no repeats until a pool runs out, the check
every generated prompt passes, and the piece an idea becomes."""

from __future__ import annotations

import random

import pytest

from bot.community.ideas import (
    IdeaFilter,
    ai_form,
    ai_idea_draft,
    clean_ai_idea,
    draw_curated,
    is_one_or_two_sentences,
    piece_draft,
    piece_options,
)
from bot.community.ideas_catalogue import CuratedPrompt, curated_prompts
from bot.errors import InvalidRequest
from bot.forms import Form, Genre, PoemForm


def prompts(count: int) -> list[CuratedPrompt]:
    return [
        CuratedPrompt(f"fable-{n:02}", f"Prompt {n}.", "fable", "story", None, ("animals",))
        for n in range(count)
    ]


def test_a_filter_names_its_pool_and_comes_back_from_it():
    assert IdeaFilter.of().pool == "genre=*;theme=*"
    wanted = IdeaFilter.of("horror", "  Sea ")
    assert wanted == IdeaFilter("horror", "sea") and wanted.pool == "genre=horror;theme=sea"
    assert IdeaFilter.from_pool(wanted.pool) == wanted
    assert IdeaFilter.from_pool(IdeaFilter.of("any", "").pool) == IdeaFilter()
    assert IdeaFilter.of("poetry").describe() == "poetry ideas"
    assert IdeaFilter.of(None, "old age").describe() == "ideas about “old age”"
    with pytest.raises(InvalidRequest, match="genres"):
        IdeaFilter.of("western")
    with pytest.raises(InvalidRequest, match="a word or two"):
        IdeaFilter.of(None, "x" * 41)


def test_no_prompt_repeats_until_the_pool_is_used_up_then_a_new_cycle_starts():
    pool = prompts(5)
    rng = random.Random(1)
    seen: set[str] = set()
    recent: list[str] = []
    cycle = 0
    for _ in range(5):
        draw = draw_curated(pool, cycle, seen, recent, rng)
        assert not draw.new_cycle and draw.cycle == 0
        assert draw.prompt.id not in seen
        seen.add(draw.prompt.id)
        recent.insert(0, draw.prompt.id)
    draw = draw_curated(pool, cycle, seen, recent, rng)
    assert draw.new_cycle and draw.cycle == 1
    # Never the same prompt twice in a row across the boundary.
    assert draw.prompt.id != recent[0]


def test_a_one_prompt_pool_repeats_it_each_cycle():
    (only,) = prompts(1)
    first = draw_curated([only], 0, set(), [], random.Random(0))
    again = draw_curated([only], 0, {only.id}, [only.id], random.Random(0))
    assert first.prompt == again.prompt == only and again.new_cycle and again.cycle == 1


def test_prompts_shown_recently_under_other_filters_are_passed_over_while_others_are_left():
    pool = prompts(3)
    recent = ["fable-00", "fable-01"]
    for seed in range(20):
        draw = draw_curated(pool, 0, set(), recent, random.Random(seed))
        assert draw.prompt.id == "fable-02"
    # When every unseen one is recent, the rule gives way: the pool rule comes first.
    draw = draw_curated(pool, 0, {"fable-02"}, recent, random.Random(0))
    assert draw.prompt.id in recent and not draw.new_cycle


def test_draw_needs_candidates():
    with pytest.raises(ValueError):
        draw_curated([], 0, set(), [], random.Random(0))


@pytest.mark.parametrize(
    "text",
    [
        "A lighthouse keeper finds a letter in the lamp.",
        "The moon goes missing. Nobody in town will say who took it!",
        "Why does the old clock strike thirteen every Sunday?",
        'A dog barks "hello" at the postman. He answers.',
    ],
)
def test_one_or_two_sentences_pass(text):
    assert is_one_or_two_sentences(text)
    assert clean_ai_idea(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Too short.",
        "A cat. A dog. A bird. A fish walks in.",  # three or more sentences
        "A story about a lighthouse that never ends",  # not a whole sentence
        "that only plays at funerals goes missing.",  # the end of a sentence
        "Write about @everyone in the server today.",
        "Read more at https://example.com about it now.",
        "!!! ??? ,,, ... 12345 67890 ###.",
        "A " + "x" * 40 + " word is not a word at all.",
        "word " * 70 + "end.",
    ],
)
def test_other_text_fails_the_check(text):
    assert not is_one_or_two_sentences(text)
    assert clean_ai_idea(text) is None


def test_cleaning_takes_the_first_line_without_markers_or_quotes():
    raw = '\n  1. "A clock that runs backwards is found in the attic."\nPrompt: another one.'
    assert clean_ai_idea(raw) == "A clock that runs backwards is found in the attic."
    assert clean_ai_idea("Prompt:   A   river forgets where it goes.") == (
        "A river forgets where it goes."
    )
    assert clean_ai_idea("- A bridge sings at night.") == "A bridge sings at night."
    # A base model may begin mid-line; the next item of its list is a prompt too.
    raw = "plays at funerals.\nPrompt: A violin goes missing at the funeral.\nPrompt: x"
    assert clean_ai_idea(raw) == "A violin goes missing at the funeral."
    assert clean_ai_idea("a\nb\nc\nA fourth line is too far down.") is None


def test_the_ai_is_asked_with_examples_and_not_recorded():
    draft = ai_idea_draft(IdeaFilter("horror", "sea"), prompts(5), seed=3)
    assert draft.spec.form is Form.GENERATE and not draft.record
    assert draft.spec.text.startswith("Writing prompts for horror about sea")
    assert draft.spec.text.endswith("\nPrompt:")
    assert draft.spec.text.count("Prompt: ") == 3 and draft.sampling.seed == 3
    # Long examples stop at a budget, so the prompt fits a small model's prompt limit.
    long_ones = sorted(curated_prompts(), key=lambda p: -len(p.text))[:3]
    assert ai_idea_draft(IdeaFilter(), long_ones).spec.text.count("Prompt: ") == 1
    assert ai_form(IdeaFilter("poetry")) == ("poem", "free")
    assert ai_form(IdeaFilter("horror")) == ("story", None)


def test_an_idea_becomes_the_piece_its_tags_suit():
    haiku = piece_draft("Rain on the last apples.", "poem", "haiku", "poetry")
    assert haiku.spec.form is Form.POEM and haiku.spec.poem_form is PoemForm.HAIKU
    story = piece_draft("A door in the sand.", "story", None, "adventure")
    assert story.spec.form is Form.STORY and story.spec.genre is Genre.ADVENTURE
    literary = piece_draft("A house is sold.", "story", None, "literary")
    assert literary.spec.genre is Genre.ANY
    scene = piece_draft("Two rivals share a stall.", "script", None, "comedy")
    assert scene.spec.form is Form.SCRIPT and scene.spec.text == "Two rivals share a stall."
    assert piece_options("x", "story", None, "poetry") == ("story", {"premise": "x"})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Quotes that wrap the whole prompt are dropped ...
        (
            "\u201cA clock that runs backwards is found.\u201d",
            "A clock that runs backwards is found.",
        ),
        (
            "'The baker's daughter never sleeps at night.'",
            "The baker's daughter never sleeps at night.",
        ),
        # ... but a prompt that opens with a quote keeps it, and passes.
        (
            '"Run," she said, "before the tide comes in."',
            '"Run," she said, "before the tide comes in."',
        ),
        (
            "\u201cRun,\u201d she said to the ghost at the door.",
            "\u201cRun,\u201d she said to the ghost at the door.",
        ),
        (
            "(A note is found under the floor of the old house.)",
            "(A note is found under the floor of the old house.)",
        ),
    ],
)
def test_a_prompt_may_open_with_a_quote(raw: str, expected: str) -> None:
    assert clean_ai_idea(raw) == expected
    assert is_one_or_two_sentences(expected)


def test_three_sentences_hidden_by_an_abbreviation_are_refused() -> None:
    assert not is_one_or_two_sentences("Bring bread, milk, etc. Then leave the house. Go home now.")
    assert not is_one_or_two_sentences("The dog barked twice.Then it ran off. It never came back.")
    assert is_one_or_two_sentences("J. R. R. Tolkien writes a letter at 3 a.m. to his son.")


@pytest.mark.parametrize("theme", ["sea;genre=horror", "a=b", "*", " * ", "sea;"])
def test_a_theme_cannot_hold_the_pool_keys_syntax(theme: str) -> None:
    # Stored, "sea;genre=horror" would read back as another filter than the one asked for.
    with pytest.raises(InvalidRequest, match="leave out"):
        IdeaFilter.of(None, theme)
    for fine in ("old age", "*loud*"):
        assert IdeaFilter.from_pool(IdeaFilter.of("horror", fine).pool) == IdeaFilter(
            "horror", fine
        )
