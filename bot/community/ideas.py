"""The rules of /idea, as pure functions: which filter a request names, which curated prompt a
channel sees next, what a generated prompt must look like, and what a piece from an idea is.

No repeats: a channel sees each curated prompt of a filter once per *cycle*. The filter is the
*pool* (its genre and theme); when every prompt of the pool has been shown in the channel in
the current cycle, the next cycle starts and the channel is told. A prompt the channel got
since a pool's cycle began counts as seen in it whatever filter it was drawn under, so
changing the filter never brings a prompt back early; and when a new cycle starts, prompts
shown recently in the channel are passed over while others are left.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.community.ideas_catalogue import (
    GENRES,
    MAX_IDEA_CHARS,
    CuratedPrompt,
    count_sentences,
    ends_a_sentence,
    normalise_theme,
)
from bot.errors import InvalidRequest
from bot.forms import Form, Genre, PieceSpec
from bot.generation.types import SamplingParams
from bot.links import contains_invite
from bot.writing.commands import writing_request
from bot.writing.drafts import Draft

IdeaSource = Literal["any", "curated", "ai"]
SOURCES: tuple[IdeaSource, ...] = ("any", "curated", "ai")
ANY = "*"
# How many of a channel's latest ideas count as "recent" when passing over other filters'.
RECENT_IDEAS = 50
# A generated prompt: short, like the curated ones; the few-shot examples show the shape.
AI_EXAMPLES = 3
AI_EXAMPLE_CHARS = 240  # about 60 tokens of examples
AI_MAX_NEW_TOKENS = 64
AI_TEMPERATURE = 0.9
MIN_IDEA_WORDS = 5
AI_LINES = 3  # how many generated lines are looked at for a prompt
_LIST_MARKER = re.compile(r"^\s*(?:[-*•]+|\d+[.)]|prompt\s*\d*\s*:|idea\s*\d*\s*:)\s*", re.I)
_QUOTE_PAIRS = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019"}
_OPENERS = "\"'\u201c\u2018([\u2019\u201d"
# Mentions, links and code have no place in a writing prompt (and a model copying a chat
# transcript produces them): such a generation is refused, not shown.
_FORBIDDEN = re.compile(r"@|https?://|www\.|discord\.gg|```|<[#@:]", re.I)


@dataclass(frozen=True)
class IdeaFilter:
    """What an idea was asked for: a genre and a theme, each optional."""

    genre: str | None = None
    theme: str | None = None

    @classmethod
    def of(cls, genre: str | None = None, theme: str | None = None) -> IdeaFilter:
        """A filter from what a user typed: "any" genre is no genre; themes are normalised."""
        if genre in (None, "", "any"):
            genre = None
        elif genre not in GENRES:
            raise InvalidRequest(f"I know these genres: {', '.join(GENRES)}.")
        theme = normalise_theme(theme)
        if theme is not None and len(theme) > 40:
            raise InvalidRequest("A theme is a word or two (at most 40 characters).")
        if theme is not None and (theme == ANY or any(mark in theme for mark in ";=")):
            # The stored pool key's syntax ("genre=horror;theme=sea", "*" for none).
            raise InvalidRequest(
                "A theme is a word or two; please leave out “;” and “=”, and don't use “*” alone "
                "(try “sea” or “old age”)."
            )
        return cls(genre, theme)

    @property
    def pool(self) -> str:
        """The key stored with each idea: ``genre=horror;theme=*``."""
        return f"genre={self.genre or ANY};theme={self.theme or ANY}"

    @classmethod
    def from_pool(cls, pool: str) -> IdeaFilter:
        """The filter a stored idea was drawn for (for "Another")."""
        parts = dict(part.partition("=")[::2] for part in pool.split(";"))
        genre, theme = parts.get("genre", ANY), parts.get("theme", ANY)
        return cls(None if genre == ANY else genre, None if theme == ANY else theme)

    def describe(self) -> str:
        """``horror ideas about sea``, for notes."""
        what = f"{self.genre} ideas" if self.genre else "ideas"
        return f"{what} about “{self.theme}”" if self.theme else what


@dataclass(frozen=True)
class Draw:
    """The curated prompt a channel sees next, in which cycle, and whether that cycle is new."""

    prompt: CuratedPrompt
    cycle: int
    new_cycle: bool


def draw_curated(
    candidates: Sequence[CuratedPrompt],
    cycle: int,
    seen: set[str],
    recent: Sequence[str],
    rng: random.Random,
) -> Draw:
    """The next prompt from ``candidates`` (the pool), given the ids ``seen`` in the channel's
    current ``cycle`` of this pool and its ``recent`` ids (newest first, any pool).

    A new cycle starts when the pool is used up; it avoids the prompt shown last, so the
    channel never gets the same prompt twice in a row across the boundary.
    """
    if not candidates:
        raise ValueError("draw_curated needs at least one candidate")
    fresh = [prompt for prompt in candidates if prompt.id not in seen]
    new_cycle = not fresh
    if new_cycle:
        cycle += 1
        last = recent[0] if recent else None
        fresh = [prompt for prompt in candidates if prompt.id != last] or list(candidates)
    recent_ids = set(recent)
    preferred = [prompt for prompt in fresh if prompt.id not in recent_ids] or fresh
    return Draw(rng.choice(preferred), cycle, new_cycle)


def clean_ai_idea(raw: str) -> str | None:
    """The first of ``ai_idea_candidates``, or None when there is none."""
    return next(iter(ai_idea_candidates(raw)), None)


def ai_idea_candidates(raw: str) -> list[str]:
    """A generation's prompts made presentable: those of its first few lines that, without
    list markers or wrapping quotes, pass ``is_one_or_two_sentences``, in order. (A base
    model continuing a list may begin mid-line and go on to the next item; later items are
    prompts of the same kind.)"""
    lines = [line for line in raw.splitlines() if line.strip()][:AI_LINES]
    found = []
    for line in lines:
        line = _LIST_MARKER.sub("", line).strip()
        line = " ".join(_unwrapped(line).split())
        if is_one_or_two_sentences(line):
            found.append(line)
    return found


def _unwrapped(line: str) -> str:
    """``line`` without a quote pair that wraps all of it; a line that only starts and ends
    with quotes (``"Run," she said, "now."``) keeps them."""
    if len(line) < 2:
        return line
    closer = _QUOTE_PAIRS.get(line[0])
    if closer is None or line[-1] != closer:
        return line
    inner = line[1:-1]
    if line[0] in "'\u2018":
        # Apostrophes sit inside words; a quote mark next to a space opens or closes a quote.
        if re.search("(?:^|\\s)['\u2018\u2019]|['\u2018\u2019](?:\\s|$)", inner):
            return line
    elif any(mark in inner for mark in '"“”'):
        return line
    return inner.strip()


def is_one_or_two_sentences(text: str) -> bool:
    """The check every AI prompt passes: one or two whole sentences of ordinary words."""
    # contains_invite: _FORBIDDEN knows discord.gg, not discord.com/invite/... without a scheme.
    if not text or len(text) > MAX_IDEA_CHARS or _FORBIDDEN.search(text) or contains_invite(text):
        return False
    words = text.split()
    # A prompt starts like a sentence; a lowercase start is a fragment of one.
    # An opening quote or bracket may come first ("“Run,” she said.").
    first = text.lstrip(_OPENERS)[:1]
    starts = first.isupper() or first.isdigit()
    if len(words) < MIN_IDEA_WORDS or not starts or not ends_a_sentence(text):
        return False
    # Mostly letters: a degenerate generation ("!!!! ,,,, 1234") is not a prompt.
    letters = sum(ch.isalpha() for ch in text)
    if letters < 0.6 * len(text.replace(" ", "")):
        return False
    # A real sentence has real words: most of them at least two letters and none absurdly long.
    if max(len(word) for word in words) > 30:
        return False
    return 1 <= count_sentences(text) <= 2


def ai_idea_draft(
    wanted: IdeaFilter, examples: Sequence[CuratedPrompt], *, seed: int | None = None
) -> Draft:
    """What the model is asked for a new prompt: a short list of curated prompts for the same
    filter (few-shot, which a base model follows best) ending where the next one begins.

    Not recorded as a piece: the idea is stored by /idea itself."""
    heading = "Writing prompts"
    if wanted.genre:
        heading += f" for {wanted.genre}"
    if wanted.theme:
        heading += f" about {wanted.theme}"
    lines = [f"{heading}, one or two sentences each:", ""]
    used = 0
    for prompt in examples[:AI_EXAMPLES]:
        # The prompt must fit the model's prompt limit: at least one example, then a budget.
        if used and used + len(prompt.text) > AI_EXAMPLE_CHARS:
            break
        lines.append(f"Prompt: {prompt.text}")
        used += len(prompt.text)
    lines.append("Prompt:")
    spec = PieceSpec(form=Form.GENERATE, text="\n".join(lines))
    sampling = SamplingParams(
        temperature=AI_TEMPERATURE, max_new_tokens=AI_MAX_NEW_TOKENS, seed=seed
    )
    return Draft(spec, sampling, record=False)


def ai_form(wanted: IdeaFilter) -> tuple[str, str | None]:
    """The form a generated idea is written as: a free poem for poetry, else a story."""
    return ("poem", "free") if wanted.genre == "poetry" else ("story", None)


def story_genre(genre: str | None) -> str | None:
    """The story genre an idea's genre maps to (poetry and literary have none)."""
    return genre if genre in {g.value for g in Genre} - {Genre.ANY.value} else None


def piece_options(
    text: str, form: str, poem_form: str | None, genre: str | None
) -> tuple[str, dict[str, str]]:
    """The writing command and options that write a piece from an idea (as "Write it for me"
    does, and as its saved prompt will): a poem in its form, a story in its genre, a script."""
    if form == "poem":
        return "poem", {"topic": text, "form": poem_form or "free"}
    if form == "script":
        return "script", {"premise": text}
    genre_option = story_genre(genre)
    return "story", {"premise": text, **({"genre": genre_option} if genre_option else {})}


def piece_draft(text: str, form: str, poem_form: str | None, genre: str | None) -> Draft:
    """The draft "Write it for me" writes, checked like the command it stands for."""
    command, options = piece_options(text, form, poem_form, genre)
    spec, sampling = writing_request(command, options)
    return Draft(spec, sampling)


def idea_tags(source: str, genre: str | None, form: str, poem_form: str | None) -> str:
    """``Curated · horror · poem (haiku)``: where an idea comes from and what it suits."""
    if form == "poem" and poem_form and poem_form != "free":
        form = f"{form} ({poem_form})"
    origin = "Curated" if source == "curated" else "✍ Written by AI"
    return " · ".join(part for part in (origin, genre, form) if part)
