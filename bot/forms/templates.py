"""Prompts for each form: continuation-style text for base models, chat turns for instruct ones.

Base models (GPT-2) are not instruction tuned, so their prompt is the opening of a document in
which the piece would naturally come next. Instruct models get a short system message and a
plain instruction that names the form's shape and asks for the piece alone.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from bot.forms import line_templates
from bot.forms.examples import example_for
from bot.forms.spec import Form, Genre, Length, PieceSpec, PoemForm, normalise_user_text
from bot.generation.types import ChatMessage

SYSTEM_PROMPT = (
    "You are Inkwell, a creative writing assistant. You write original, vivid pieces and reply "
    "with the piece itself only."
)
# For `generate` the user is in full control: no house style beyond who is speaking.
MINIMAL_SYSTEM_PROMPT = "You are Inkwell, a helpful writing assistant."

ONLY_THE_PIECE = "Reply with ONLY the {noun}: no title, no preamble, no explanation."

# Pairs of stock names for scripts whose user named nobody; chosen by the premise so the same
# request always gets the same cast.
_STOCK_CASTS: tuple[tuple[str, str], ...] = (
    ("ALEX", "SAM"),
    ("MAYA", "JONAH"),
    ("RUTH", "ELI"),
    ("NORA", "FELIX"),
    ("IRIS", "OWEN"),
    ("LENA", "MARCUS"),
)

_BASE_POEM_HEADERS: dict[PoemForm, str] = {
    PoemForm.FREE: "A poem about {topic}",
    PoemForm.HAIKU: "A haiku about {topic}",
    PoemForm.LIMERICK: "A limerick about {topic}",
    PoemForm.SONNET: "A sonnet about {topic}",
    PoemForm.QUATRAIN: "A quatrain about {topic}",
}

_CHAT_POEM_SHAPES: dict[PoemForm, tuple[str, str]] = {
    PoemForm.HAIKU: ("haiku", "Use three lines of 5, 7 and 5 syllables."),
    PoemForm.LIMERICK: ("limerick", "Use five lines rhyming AABBA, with a playful rhythm."),
    PoemForm.SONNET: ("sonnet", "Use fourteen lines of rhymed iambic pentameter."),
    PoemForm.QUATRAIN: ("quatrain", "Use four rhyming lines (ABAB or AABB)."),
}
_FREE_VERSE_LINES: dict[Length, str] = {
    Length.SHORT: "about 6 lines",
    Length.MEDIUM: "about 10 to 14 lines",
    Length.LONG: "about 20 lines",
}
_PROSE_WORDS: dict[Length, int] = {Length.SHORT: 100, Length.MEDIUM: 200, Length.LONG: 350}

_POEM_TOKENS: dict[PoemForm, int] = {
    PoemForm.HAIKU: 40,
    PoemForm.QUATRAIN: 70,
    PoemForm.LIMERICK: 80,
    PoemForm.SONNET: 220,
}
_FREE_VERSE_TOKENS: dict[Length, int] = {Length.SHORT: 80, Length.MEDIUM: 120, Length.LONG: 200}
_STORY_TOKENS: dict[Length, int] = {Length.SHORT: 150, Length.MEDIUM: 300, Length.LONG: 500}
_SCRIPT_TOKENS: dict[Length, int] = {Length.SHORT: 200, Length.MEDIUM: 300, Length.LONG: 450}
_OPEN_TOKENS: dict[Length, int] = {Length.SHORT: 100, Length.MEDIUM: 200, Length.LONG: 400}
# A line is a dozen tokens; the rest is room for a chat model's "Here is the next line:".
_LINE_TOKENS = 48
_TITLE_TOKENS = 24


@dataclass(frozen=True)
class Prompt:
    """What the model is given. Exactly one of ``text`` (continued as is, for base models) and
    ``messages`` (rendered with the tokenizer's chat template) is set."""

    text: str | None
    messages: tuple[ChatMessage, ...] | None

    def __post_init__(self) -> None:
        if (self.text is None) == (self.messages is None):
            raise ValueError("a Prompt has exactly one of text and messages")


def build_prompt(spec: PieceSpec, *, chat: bool) -> Prompt:
    """The prompt for ``spec``: chat turns when ``chat`` is true, else continuation text.

    The user's text goes in verbatim (surrounding whitespace stripped, long blank gaps
    collapsed); for ``generate`` the base-model prompt is the raw text, unchanged.

    Raises:
        ValueError: if the spec's text is blank, since there would be nothing to write from
            (a ``line`` may start an empty poem).
    """
    if spec.form in (Form.LINE, Form.TITLE):
        if spec.form is Form.TITLE and not spec.text.strip():
            raise ValueError("a title needs some text to work from: the poem")
        if chat:
            return Prompt(text=None, messages=line_templates.chat_messages(spec, SYSTEM_PROMPT))
        return Prompt(text=line_templates.base_text(spec), messages=None)
    if not spec.text.strip():
        raise ValueError(f"a {spec.form.value} needs some text to work from")
    if chat:
        return Prompt(text=None, messages=_chat_messages(spec))
    return Prompt(text=_base_text(spec), messages=None)


def default_max_new_tokens(spec: PieceSpec) -> int:
    """A token budget that fits the form: a haiku needs few, a long story many."""
    if spec.form is Form.POEM:
        if spec.poem_form is PoemForm.FREE:
            return _FREE_VERSE_TOKENS[spec.length]
        return _POEM_TOKENS[spec.poem_form]
    if spec.form is Form.STORY:
        return _STORY_TOKENS[spec.length]
    if spec.form is Form.SCRIPT:
        return _SCRIPT_TOKENS[spec.length]
    if spec.form is Form.LINE:
        return _LINE_TOKENS
    if spec.form is Form.TITLE:
        return _TITLE_TOKENS
    return _OPEN_TOKENS[spec.length]


def script_cast(spec: PieceSpec) -> tuple[str, ...]:
    """The script's character names in capitals: the user's, or two stock names."""
    names: list[str] = []
    for raw in spec.characters:
        name = " ".join(raw.split()).upper()
        if name and name not in names:
            names.append(name)
    if names:
        return tuple(names)
    premise = normalise_user_text(spec.text)
    return _STOCK_CASTS[zlib.crc32(premise.encode("utf-8")) % len(_STOCK_CASTS)]


def _base_text(spec: PieceSpec) -> str:
    if spec.form is Form.GENERATE:
        return spec.text
    text = normalise_user_text(spec.text)
    if spec.form is Form.POEM:
        return _BASE_POEM_HEADERS[spec.poem_form].format(topic=text) + "\n\n"
    if spec.form is Form.STORY:
        genre = "" if spec.genre is Genre.ANY else f"Genre: {spec.genre.value}\n"
        return f"Writing prompt: {text}\n{genre}\nStory:\n\n"
    if spec.form is Form.SCRIPT:
        cast = ", ".join(script_cast(spec))
        return f"SCREENPLAY\n\nLOGLINE: {text}\nCHARACTERS: {cast}\n\nSCENE 1\n\nFADE IN:\n\n"
    return text  # continue: the model simply carries on from the user's words


def _chat_messages(spec: PieceSpec) -> tuple[ChatMessage, ...]:
    if spec.form is Form.GENERATE:
        return (
            ChatMessage("system", MINIMAL_SYSTEM_PROMPT),
            ChatMessage("user", normalise_user_text(spec.text)),
        )
    example = example_for(spec)
    shown: tuple[ChatMessage, ...] = ()
    if example is not None:
        example_spec, answer = example
        shown = (ChatMessage("user", _instruction(example_spec)), ChatMessage("assistant", answer))
    return (ChatMessage("system", SYSTEM_PROMPT), *shown, ChatMessage("user", _instruction(spec)))


def _instruction(spec: PieceSpec) -> str:
    text = normalise_user_text(spec.text)
    if spec.form is Form.POEM:
        if spec.poem_form is PoemForm.FREE:
            lines = _FREE_VERSE_LINES[spec.length]
            return (
                f"Write a free-verse poem about {text}, {lines} long, in stanzas separated by "
                f"blank lines. {ONLY_THE_PIECE.format(noun='poem')}"
            )
        noun, shape = _CHAT_POEM_SHAPES[spec.poem_form]
        return f"Write a {noun} about {text}. {shape} {ONLY_THE_PIECE.format(noun=noun)}"
    words = _PROSE_WORDS[spec.length]
    if spec.form is Form.STORY:
        kind = "story" if spec.genre is Genre.ANY else f"{spec.genre.value} story"
        return (
            f"Write a short {kind} of about {words} words based on this premise:\n\n{text}\n\n"
            f"{ONLY_THE_PIECE.format(noun='story')}"
        )
    if spec.form is Form.SCRIPT:
        cast = ", ".join(script_cast(spec))
        return (
            f"Write a short screenplay scene based on this premise:\n\n{text}\n\n"
            f"Characters: {cast}. Write each line of dialogue as the character's name in capitals "
            "followed by a colon and the line, with brief stage directions in parentheses. "
            f"{ONLY_THE_PIECE.format(noun='scene')}"
        )
    return (
        f"Continue the following text seamlessly, in the same style and voice, for about {words} "
        "words. Do not repeat the text; reply with ONLY the continuation.\n\n"
        f"{text}"
    )
