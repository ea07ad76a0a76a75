"""What the user asked for: the form, its options and the user's own text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Form(StrEnum):
    """The kinds of piece Inkwell writes."""

    POEM = "poem"
    STORY = "story"
    SCRIPT = "script"
    CONTINUE = "continue"
    GENERATE = "generate"
    # One line of a poem written together (a game's AI turn), and a title for a finished poem.
    LINE = "line"
    TITLE = "title"


class PoemForm(StrEnum):
    """Sub-forms of a poem; the fixed ones have a known number of lines."""

    FREE = "free"
    HAIKU = "haiku"
    LIMERICK = "limerick"
    SONNET = "sonnet"
    QUATRAIN = "quatrain"


class Genre(StrEnum):
    """Optional genre of a story."""

    ANY = "any"
    FANTASY = "fantasy"
    SCIFI = "sci-fi"
    MYSTERY = "mystery"
    HORROR = "horror"
    ROMANCE = "romance"
    COMEDY = "comedy"
    FABLE = "fable"
    ADVENTURE = "adventure"


class Length(StrEnum):
    """How long a piece should be, where the form allows a choice."""

    SHORT = "short"
    MEDIUM = "medium"
    LONG = "long"


# Lines a fixed poem form has; the stop rule ends the piece once they are written.
FIXED_LINES: dict[PoemForm, int] = {
    PoemForm.HAIKU: 3,
    PoemForm.QUATRAIN: 4,
    PoemForm.LIMERICK: 5,
    PoemForm.SONNET: 14,
}

# A free-verse poem that runs this long without ending has lost its way.
FREE_VERSE_MAX_LINES: dict[Length, int] = {Length.SHORT: 16, Length.MEDIUM: 24, Length.LONG: 36}

_POEM_LABELS: dict[PoemForm, str] = {
    PoemForm.FREE: "Poem",
    PoemForm.HAIKU: "Haiku",
    PoemForm.LIMERICK: "Limerick",
    PoemForm.SONNET: "Sonnet",
    PoemForm.QUATRAIN: "Quatrain",
}
_FORM_LABELS: dict[Form, str] = {
    Form.STORY: "Story",
    Form.SCRIPT: "Script",
    Form.CONTINUE: "Continuation",
    Form.GENERATE: "Generation",
    Form.LINE: "Line",
    Form.TITLE: "Title",
}
_TITLE_TEXT_CHARS = 50
_BLANK_RUN = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


@dataclass(frozen=True)
class PieceSpec:
    """One request for a piece of writing.

    ``text`` is the poem's topic, the story's or script's premise, the text to continue, or the
    raw prompt for ``generate``. ``characters`` is used by scripts only; when empty the template
    invents two.

    For ``line``, ``text`` is the poem so far (its lines joined with "\n", possibly empty),
    ``poem_form`` the poem's form, ``line_number`` the 0-based index of the line to write and
    ``topic`` the poem's title or theme (may be empty); ``rhyme_with`` names a word the line
    must rhyme with when the lines before it don't say (a rewrite of a poem's first line). For
    ``title``, ``text`` is the whole poem.
    """

    form: Form
    text: str
    poem_form: PoemForm = PoemForm.FREE
    genre: Genre = Genre.ANY
    characters: tuple[str, ...] = ()
    length: Length = Length.MEDIUM
    line_number: int = 0
    topic: str = ""
    rhyme_with: str = ""

    def title(self) -> str:
        """A short human label such as ``"Haiku: autumn"`` or ``"Story (fantasy): a dragon…"``."""
        if self.form is Form.POEM:
            label = _POEM_LABELS[self.poem_form]
        elif self.form is Form.LINE:
            # The text is the poem so far, not a topic: label the line by the poem's title.
            topic = shorten(self.topic, _TITLE_TEXT_CHARS)
            return f"Line: {topic}" if topic else "Line"
        elif self.form is Form.TITLE:
            return "Title"
        else:
            label = _FORM_LABELS[self.form]
            if self.form is Form.STORY and self.genre is not Genre.ANY:
                label = f"{label} ({self.genre.value})"
        snippet = shorten(self.text, _TITLE_TEXT_CHARS)
        return f"{label}: {snippet}" if snippet else label

    @property
    def fixed_lines(self) -> int | None:
        """How many lines the piece must have, for the fixed poem forms; otherwise None."""
        return FIXED_LINES.get(self.poem_form) if self.form is Form.POEM else None


def normalise_user_text(text: str) -> str:
    """The user's text as it goes into a prompt: verbatim, but with uniform line breaks, no
    surrounding whitespace and no gaps of more than one blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _BLANK_RUN.sub("\n\n", text).strip()


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters plus "…"."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    space = cut.rfind(" ")
    # A single very long word (or unspaced script) has no boundary worth keeping to.
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-\u2013—") + "…"
