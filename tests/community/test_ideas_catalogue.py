"""The curated prompts that ship with Inkwell: enough of them, well-formed, findable."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from bot.community.ideas_catalogue import (
    DATA_FILE,
    FORMS,
    GENRES,
    MAX_IDEA_CHARS,
    THEMES,
    CatalogueError,
    count_sentences,
    curated_prompts,
    ends_a_sentence,
    find_prompt,
    matching,
    parse_catalogue,
    theme_choices,
)
from bot.forms import Genre, PoemForm

GOOD = {
    "id": "fable-01",
    "genre": "fable",
    "form": "story",
    "themes": ["animals"],
    "text": "A tortoise races a hare again. Both are old now.",
}


def test_at_least_300_unique_prompts_with_valid_tags():
    prompts = curated_prompts()
    assert len(prompts) >= 300
    assert len({p.id for p in prompts}) == len(prompts)
    assert len({p.text.casefold() for p in prompts}) == len(prompts)
    for prompt in prompts:
        assert prompt.genre in GENRES and prompt.form in FORMS
        assert (prompt.poem_form is not None) == (prompt.form == "poem")
        assert prompt.poem_form is None or prompt.poem_form in {f.value for f in PoemForm}
        assert prompt.themes and set(prompt.themes) <= set(THEMES)
        assert 1 <= count_sentences(prompt.text) <= 2, prompt
        assert len(prompt.text) <= MAX_IDEA_CHARS


def test_every_genre_form_and_poem_form_is_represented():
    prompts = curated_prompts()
    genres = Counter(p.genre for p in prompts)
    assert set(genres) == set(GENRES) and min(genres.values()) >= 20
    assert {p.form for p in prompts} == set(FORMS)
    assert {p.poem_form for p in prompts if p.poem_form} == {f.value for f in PoemForm}
    assert {g.value for g in Genre} - {"any"} <= set(GENRES)
    # Every theme offered in the autocomplete finds at least two prompts.
    themes = Counter(t for p in prompts for t in p.themes)
    assert all(themes[t] >= 2 for t in THEMES), [t for t in THEMES if themes[t] < 2]


def test_the_data_file_is_found_from_the_module_and_ships_as_package_data():
    assert DATA_FILE.is_file()
    assert DATA_FILE.parent.parent.name == "community"
    pyproject = (DATA_FILE.parents[3] / "pyproject.toml").read_text()
    assert "community/data/*.json" in pyproject


def test_filters_by_genre_and_theme_case_insensitively():
    prompts = curated_prompts()
    horror_sea = matching(prompts, "horror", " SEA ")
    assert horror_sea and all(p.genre == "horror" and "sea" in p.themes for p in horror_sea)
    assert matching(prompts) == list(prompts)
    assert matching(prompts, None, "no such theme") == []
    assert find_prompt(prompts[0].id) == prompts[0] and find_prompt("gone-99") is None


def test_theme_autocomplete_prefers_prefixes_and_stops_at_25():
    assert theme_choices("s")[:3] == ["school", "sea", "secrets"]
    assert "seasons" not in theme_choices("sea") and "sea" in theme_choices("SEA")
    assert len(theme_choices("")) == 25


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"id": "Bad Id"}, "bad prompt id"),
        ({"genre": "western"}, "unknown genre"),
        ({"form": "essay"}, "unknown form"),
        ({"form": "poem"}, "poem_form is required"),
        ({"poem_form": "haiku"}, "poem_form is required"),
        ({"themes": ["sea", "sea"]}, "without repeats"),
        ({"themes": ["seaside"]}, "unknown themes"),
        ({"text": "One. Two. Three."}, "one or two whole sentences"),
        ({"text": "No full stop at the end"}, "one or two whole sentences"),
        ({"text": "x" * 301 + "."}, "at most 300"),
        ({"text": "two  spaces."}, "one line"),
    ],
)
def test_a_bad_entry_is_refused_naming_the_prompt(change, why):
    with pytest.raises(CatalogueError, match=why):
        parse_catalogue({"prompts": [{**GOOD, **change}]})


def test_duplicate_ids_or_texts_are_refused():
    other = {**GOOD, "id": "fable-02"}
    with pytest.raises(CatalogueError, match="twice"):
        parse_catalogue({"prompts": [GOOD, GOOD]})
    with pytest.raises(CatalogueError, match="twice"):
        parse_catalogue({"prompts": [GOOD, {**other, "text": GOOD["text"].upper()}]})
    assert (
        len(
            parse_catalogue(
                json.loads(
                    json.dumps({"prompts": [GOOD, other | {"text": "A hare waits. It wins."}]})
                )
            )
        )
        == 2
    )


def test_sentences_are_counted_with_quotes_and_abbreviations():
    assert count_sentences("Mr. Hale opens the door.") == 1
    assert count_sentences('She says "run." He does not!') == 2
    assert count_sentences("One? Two! Three.") == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bring bread, milk, etc. Then leave the house. Go home now.", 3),
        ("Wait… Then go.", 2),
        ("Wait... Then go.", 2),
        ("Wait... then go on.", 1),
        ("The dog barked.Then the cat ran.", 2),
        ("J. R. R. Tolkien wrote a letter.", 1),
        ("At 3 a.m. the phone rings.", 1),
        ("The U.S. Army marches home.", 1),
        ("Try a myth, e.g. one about the sea.", 1),
        ("Mr. Smith waits. Mrs. Jones leaves.", 2),
        ('"Stop!" she said. Run.', 2),
        ('He left. "Come back," she said.', 2),
        ("It costs 3.5 dollars.", 1),
        ("So do I. Then go.", 2),
    ],
)
def test_sentences_end_where_a_capital_follows(text: str, expected: int) -> None:
    assert count_sentences(text) == expected


def test_an_ellipsis_ends_a_sentence() -> None:
    assert ends_a_sentence("And then the lights went out…")
