"""The curated writing prompts that ship with Inkwell: loaded and checked once, then filtered.

The prompts live in ``data/prompts.json`` next to this module (one object per prompt: a stable
``id``, the ``text``, a ``genre``, a ``form`` with an optional ``poem_form``, and ``themes``).
Ids are stable because channels remember which ones they have seen; a bad file fails loudly
at import, naming the prompt, rather than showing a broken prompt to someone later.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from bot.forms import Genre, PoemForm

DATA_FILE = Path(__file__).resolve().parent / "data" / "prompts.json"

# Genres of ideas: the story genres, plus poetry and literary (realist) fiction, which a story
# genre can't name. "any" is the absence of a filter, not a genre an idea has.
GENRES: tuple[str, ...] = (
    *(genre.value for genre in Genre if genre is not Genre.ANY),
    "poetry",
    "literary",
)
FORMS: tuple[str, ...] = ("poem", "story", "script")
# The theme vocabulary: a closed list, so `/idea theme:` can autocomplete it and a typo in the
# data file is caught by the loader instead of making a prompt unfindable.
THEMES: tuple[str, ...] = (
    "animals",
    "art",
    "autumn",
    "books",
    "childhood",
    "city",
    "death",
    "dreams",
    "family",
    "fear",
    "food",
    "forest",
    "friendship",
    "garden",
    "ghosts",
    "grief",
    "history",
    "home",
    "hope",
    "identity",
    "island",
    "journey",
    "language",
    "letters",
    "light",
    "loneliness",
    "love",
    "machines",
    "magic",
    "memory",
    "money",
    "moon",
    "mountain",
    "music",
    "nature",
    "night",
    "old age",
    "rain",
    "river",
    "school",
    "sea",
    "secrets",
    "space",
    "spring",
    "stars",
    "summer",
    "technology",
    "time",
    "travel",
    "war",
    "weather",
    "winter",
    "wisdom",
    "work",
)
MAX_IDEA_CHARS = 300  # a poem's topic or a story's premise holds at most 300 characters
_ID = re.compile(r"^[a-z-]+-[0-9]{2,}$")


class CatalogueError(ValueError):
    """The prompts file is malformed (a packaging or editing mistake, not user input)."""


@dataclass(frozen=True)
class CuratedPrompt:
    """One shipped prompt."""

    id: str
    text: str
    genre: str
    form: str
    poem_form: str | None
    themes: tuple[str, ...]


def count_sentences(text: str) -> int:
    """How many sentences ``text`` holds. A sentence ends at ., !, ?, … (or "...") with
    perhaps a closing quote or bracket, when the next word (perhaps after an opening quote,
    perhaps with no space between) starts with a capital: so "etc. Then" ends one and
    "3 a.m. the" does not. A title ("Mr.") or a single capital's initial ("J. R. R.",
    "U.S.") never ends one."""
    text = text.strip()
    if not text:
        return 0
    ends = 0
    for match in _SENTENCE_END.finditer(text):
        if not match.group(1).isupper():
            continue
        if match.group(0).startswith(".") and not match.group(0).startswith(".."):
            word = _LAST_WORD.search(text, 0, match.start())
            if word and (
                word.group(0).casefold() in _TITLES
                or (len(word.group(0)) == 1 and word.group(0).isupper() and word.group(0) != "I")
            ):
                continue
        ends += 1
    return ends + 1


# Closing quotes and brackets that may follow a sentence's full stop; opening ones that may
# precede the next sentence's first word.
_CLOSERS = "\"'”\u2019)\\]"
_OPENERS = "\"'“\u2018(\\["
_SENTENCE_END = re.compile(rf"[.!?…]+[{_CLOSERS}]*\s*(?=[{_OPENERS}]*(\w))")
_LAST_WORD = re.compile(r"\w+$")
_TITLES = frozenset({"mr", "mrs", "ms", "dr", "st", "vs", "prof"})
_TERMINAL = re.compile(rf"[.!?…][{_CLOSERS}]*$")


def ends_a_sentence(text: str) -> bool:
    """True when ``text`` ends with terminal punctuation (perhaps inside a closing quote)."""
    return bool(_TERMINAL.search(text.strip()))


def parse_prompt(raw: Any) -> CuratedPrompt:
    """One entry of the data file, checked; raises ``CatalogueError`` naming what is wrong."""
    if not isinstance(raw, dict):
        raise CatalogueError(f"a prompt must be an object, got {raw!r}")
    prompt_id = raw.get("id")
    if not isinstance(prompt_id, str) or not _ID.match(prompt_id):
        raise CatalogueError(f"bad prompt id {prompt_id!r}")
    text, genre, form = raw.get("text"), raw.get("genre"), raw.get("form")
    poem_form, themes = raw.get("poem_form"), raw.get("themes")

    def fail(why: str) -> CatalogueError:
        return CatalogueError(f"prompt {prompt_id}: {why}")

    if not isinstance(text, str) or text != " ".join(text.split()) or not text:
        raise fail("text must be one line of text without extra spaces")
    if len(text) > MAX_IDEA_CHARS:
        raise fail(f"text is {len(text)} characters; at most {MAX_IDEA_CHARS}")
    if not ends_a_sentence(text) or not 1 <= count_sentences(text) <= 2:
        raise fail("text must be one or two whole sentences")
    if genre not in GENRES:
        raise fail(f"unknown genre {genre!r}")
    if form not in FORMS:
        raise fail(f"unknown form {form!r}")
    if (form == "poem") != (poem_form is not None):
        raise fail("poem_form is required for poems, and only for poems")
    if poem_form is not None and poem_form not in {f.value for f in PoemForm}:
        raise fail(f"unknown poem form {poem_form!r}")
    if not isinstance(themes, list) or not themes or len(set(themes)) != len(themes):
        raise fail("themes must be a non-empty list without repeats")
    unknown = [theme for theme in themes if theme not in THEMES]
    if unknown:
        raise fail(f"unknown themes {unknown!r} (add them to THEMES first)")
    return CuratedPrompt(prompt_id, text, genre, form, poem_form, tuple(themes))


def parse_catalogue(data: Any) -> tuple[CuratedPrompt, ...]:
    """The whole file's prompts, checked for unique ids and texts."""
    if not isinstance(data, dict) or not isinstance(data.get("prompts"), list):
        raise CatalogueError('the prompts file must be an object with a "prompts" list')
    prompts = tuple(parse_prompt(raw) for raw in data["prompts"])
    _no_repeats(prompt.id for prompt in prompts)
    _no_repeats(" ".join(prompt.text.casefold().split()) for prompt in prompts)
    return prompts


def _no_repeats(values: Iterable[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise CatalogueError(f"{value!r} appears twice in the prompts file")
        seen.add(value)


@cache
def curated_prompts() -> tuple[CuratedPrompt, ...]:
    """Every shipped prompt, read from the package's data file on first use (a sync read:
    call it once at import or startup, not inside a coroutine that must not block)."""
    return parse_catalogue(json.loads(DATA_FILE.read_text(encoding="utf-8")))


def normalise_theme(theme: str | None) -> str | None:
    """A theme as typed ("  Sea ") in the form themes are stored ("sea"); None for none."""
    if theme is None:
        return None
    cleaned = " ".join(theme.split()).casefold()
    return cleaned or None


def matching(
    prompts: Sequence[CuratedPrompt], genre: str | None = None, theme: str | None = None
) -> list[CuratedPrompt]:
    """The prompts of ``genre`` (None: any) that carry ``theme`` (None: any)."""
    theme = normalise_theme(theme)
    return [
        prompt
        for prompt in prompts
        if (genre is None or prompt.genre == genre) and (theme is None or theme in prompt.themes)
    ]


def theme_choices(current: str, limit: int = 25) -> list[str]:
    """Themes containing what was typed, prefix matches first (Discord shows at most 25)."""
    needle = normalise_theme(current) or ""
    found = [theme for theme in THEMES if needle in theme]
    found.sort(key=lambda theme: (not theme.startswith(needle), theme))
    return found[:limit]


def find_prompt(prompt_id: str) -> CuratedPrompt | None:
    """The shipped prompt with this id, or None (an id from an older release)."""
    return _by_id().get(prompt_id)


@cache
def _by_id() -> dict[str, CuratedPrompt]:
    return {prompt.id: prompt for prompt in curated_prompts()}
