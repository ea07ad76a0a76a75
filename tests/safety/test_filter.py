"""The content filter on its own: what each rating catches, in which spellings, what it
leaves alone, and how it masks."""

from __future__ import annotations

import time

import pytest

from bot.errors import InvalidRequest
from bot.safety import (
    MASK,
    MAX_BLOCKED_WORD_CHARS,
    ContentBlocked,
    ContentFilter,
    Rating,
    clean_blocked_word,
    effective_rating,
)
from bot.safety.content import ECHO_CHARS
from bot.safety.lists import NEVER_BLOCKED, ORDINARY_WORDS, package_words


@pytest.fixture(scope="module")
def content() -> ContentFilter:
    return ContentFilter()


@pytest.mark.parametrize(
    "text",
    [
        "what the shit",
        "What The SHIT",
        "sh1t happens",
        "$hit happens",
        "shiiiit happens",
        "f u c k this",
        "s.h.i.t",
        "a proper arsehole",
        "a hand job",  # a phrase of the list
        "you bítch",  # accents
    ],
)
def test_standard_catches_listed_words_in_any_spelling(content, text) -> None:
    verdict = content.check(text, Rating.STANDARD)
    assert not verdict.clean, text
    assert MASK in verdict.masked()


@pytest.mark.parametrize(
    "text",
    [
        "The detective knew the murder was no accident.",
        "God help the sailors; the sea is hell tonight, damn it.",
        "She poured the vodka and spoke of the organ in the church.",
        "a class in the canal, a peacock on the grass, the analysis of a shell",
        "they sob in the dark",  # the list's "s0b" and "s-o-b" are not the verb
        "a blue tit on the feeder",  # standard leaves out "tit", and so its "t1t"
        "gay and queer poets read at the festival",
        "",
    ],
)
def test_standard_leaves_ordinary_writing_alone(content, text) -> None:
    assert content.check(text, Rating.STANDARD).clean


def test_strict_adds_the_everyday_words_and_words_hidden_inside_others(content) -> None:
    for text in ("a murder most foul", "hell and damnation", "a shitstorm", "a blue tit"):
        assert not content.check(text, Rating.STRICT).clean, text
    assert content.check("a murder most foul", Rating.STANDARD).clean
    assert content.check("a shitstorm", Rating.STANDARD).clean  # whole words only
    # Inside common English words nothing is found, even in strict.
    assert content.check("a class analysis in the cockpit", Rating.STRICT).clean
    # Words for who people are are never blocked by the list.
    assert content.check("a gay wedding", Rating.STRICT).clean


def test_off_uses_no_list_but_still_the_guilds_own_words(content) -> None:
    assert content.check("what the shit", Rating.OFF).clean
    verdict = content.check("the Moonlight and the moonlight", Rating.OFF, {"moonlight"})
    assert verdict.words == ["Moonlight", "moonlight"]
    assert verdict.masked() == f"the {MASK} and the {MASK}"


def test_guild_words_are_whole_words_in_standard_and_inside_words_in_strict(content) -> None:
    words = {"gull", "night tide"}
    assert content.check("seagulls at the gull rock", Rating.STANDARD, words).words == ["gull"]
    assert content.check("seagulls", Rating.STANDARD, words).clean
    assert content.check("seagulls", Rating.STRICT, words).words == ["seagulls"]
    assert content.check("the night  tide", Rating.STANDARD, words).words == ["night  tide"]


def test_masking_replaces_exactly_the_words_found(content) -> None:
    verdict = content.check("Oh shit, the shit's on fire!", Rating.STANDARD)
    assert verdict.masked() == f"Oh {MASK}, the {MASK}'s on fire!"
    assert verdict.words == ["shit"]


def test_off_applies_only_in_age_restricted_channels() -> None:
    assert effective_rating("off", nsfw=True) is Rating.OFF
    assert effective_rating("off", nsfw=False) is Rating.STANDARD
    assert effective_rating("strict", nsfw=False) is Rating.STRICT
    assert effective_rating(Rating.STANDARD, nsfw=True) is Rating.STANDARD


def test_a_refusal_names_the_words_and_gives_the_text_back(content) -> None:
    with pytest.raises(ContentBlocked) as refused:
        content.require_clean("a shit ```poem```", Rating.STANDARD, (), what="prompt")
    error = refused.value
    assert error.words == ["shit"] and error.text == "a shit ```poem```"
    assert "“shit”" in error.user_message and "Nothing was queued" in error.user_message
    assert "````\na shit ```poem```\n````" in error.user_message  # a fence the text can't close
    long_text = "shit " + "x" * ECHO_CHARS
    with pytest.raises(ContentBlocked) as refused:
        content.require_clean(long_text, Rating.STANDARD, (), what="entry")
    assert long_text not in refused.value.user_message
    assert "attached" in refused.value.user_message and refused.value.text == long_text


def test_blocked_words_are_cleaned_and_bounded() -> None:
    assert clean_blocked_word("  Night\t TIDE ") == "night tide"
    with pytest.raises(InvalidRequest, match="at most"):
        clean_blocked_word("x" * (MAX_BLOCKED_WORD_CHARS + 1))
    for nothing in ("   ", "!!!", "—"):
        with pytest.raises(InvalidRequest):
            clean_blocked_word(nothing)


def test_the_lists_come_from_the_package_and_exemptions_are_real_entries() -> None:
    listed = {w.lower() for w in package_words()}
    assert len(listed) > 800
    # An exemption that is not on the list would be a typo that exempts nothing.
    assert listed >= ORDINARY_WORDS and listed >= NEVER_BLOCKED


def test_checking_a_long_piece_is_fast_enough_for_every_preview(content) -> None:
    text = "the quiet harbour sleeps while gulls call over the grey water, " * 60
    content.check(text, Rating.STRICT)  # word frequencies load once
    started = time.perf_counter()
    for _ in range(10):
        content.check(text, Rating.STRICT, {"lantern"})
    assert (time.perf_counter() - started) / 10 < 0.05
