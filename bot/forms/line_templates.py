"""Prompts for one line of a poem written together, and for a finished poem's title.

A game's AI turn asks for the next line only. Chat models are shown one worked exchange (the
form's example poem, its first line given, its second line answered), which is what keeps a
135M model to a single line rather than a whole new poem.
"""

from __future__ import annotations

import dataclasses

from bot.forms.examples import example_for
from bot.forms.shapes import shape_of
from bot.forms.spec import Form, PieceSpec, PoemForm, normalise_user_text
from bot.generation.types import ChatMessage

_NOUNS: dict[PoemForm, str] = {
    PoemForm.FREE: "poem",
    PoemForm.HAIKU: "haiku",
    PoemForm.LIMERICK: "limerick",
    PoemForm.SONNET: "sonnet",
    PoemForm.QUATRAIN: "quatrain",
}
_BASE_HEADERS: dict[PoemForm, str] = {
    PoemForm.FREE: "A poem",
    PoemForm.HAIKU: "A haiku",
    PoemForm.LIMERICK: "A limerick",
    PoemForm.SONNET: "A sonnet",
    PoemForm.QUATRAIN: "A quatrain",
}
ONLY_THE_LINE = "Reply with ONLY that one line: no title, no quotes, no explanation."
ONLY_THE_TITLE = "Reply with ONLY the title, two to six words, without quotes."
_EXAMPLE_TITLE = "Gull at Low Tide"


def base_text(spec: PieceSpec) -> str:
    """Continuation text for a base model: the poem's header, then the lines so far."""
    if spec.form is Form.TITLE:
        return f"{normalise_user_text(spec.text)}\n\nA good title for the poem above:"
    topic = " ".join(spec.topic.split())
    header = _BASE_HEADERS[spec.poem_form] + (f" about {topic}" if topic else "")
    so_far = _poem_so_far(spec)
    return f"{header}\n\n{so_far}\n" if so_far else f"{header}\n\n"


def chat_messages(spec: PieceSpec, system_prompt: str) -> tuple[ChatMessage, ...]:
    """Chat turns for a line or a title, after one worked example of the same request."""
    shown = _example_turns(spec)
    if spec.form is Form.TITLE:
        ask = _title_instruction(normalise_user_text(spec.text))
    else:
        ask = line_instruction(spec)
    return (ChatMessage("system", system_prompt), *shown, ChatMessage("user", ask))


def line_instruction(spec: PieceSpec) -> str:
    """What to ask for: the next line of this poem, with what its slot requires."""
    noun = _NOUNS[spec.poem_form]
    topic = " ".join(spec.topic.split())
    about = f" about {topic}" if topic else ""
    hint = slot_hint(spec)
    so_far = _poem_so_far(spec)
    if not so_far:
        return f"Write the first line of a {noun}{about}. {hint}{ONLY_THE_LINE}"
    return (
        f"Here is the start of a {noun}{about}:\n\n{so_far}\n\n"
        f"Write line {spec.line_number + 1}, the next line. {hint}{ONLY_THE_LINE}"
    )


def slot_hint(spec: PieceSpec) -> str:
    """ "It has 7 syllables. " and/or "It ends with a word that rhymes with "moon". " for the
    line's slot in a fixed form; empty for free verse."""
    shape = shape_of(spec.poem_form)
    if shape is None:
        return ""
    rule = shape.rule(spec.line_number)
    hint = f"It has {rule.target} syllables. "
    partner = rhyme_partner(spec)
    if partner:
        hint += f'It ends with a word that rhymes with "{partner}". '
    return hint


def rhyme_partner(spec: PieceSpec) -> str:
    """The word the line must rhyme with: ``rhyme_with`` if given, else the last word of the
    first earlier line of its stanza with the same rhyme letter; "" when there is none."""
    if spec.rhyme_with.strip():
        return last_word(spec.rhyme_with)
    shape = shape_of(spec.poem_form)
    if shape is None:
        return ""
    lines = poem_lines(spec.text)
    for index in shape.rhymes_with(spec.line_number):
        if index < len(lines):
            word = last_word(lines[index])
            if word:
                return word
    return ""


def with_less_context(spec: PieceSpec) -> PieceSpec | None:
    """The same request with one line less of the poem to read, for a model whose prompt
    limit the whole poem exceeds; None when there is nothing left to drop (or the text is
    not context). A line drops its earliest line and names its rhyme outright first, since
    line numbers index the whole poem; a title drops the poem's last line, as a long poem's
    title is drawn from its opening."""
    if spec.form not in (Form.LINE, Form.TITLE):
        return None
    lines = poem_lines(spec.text)
    if len(lines) < 2:
        return None
    if spec.form is Form.TITLE:
        return dataclasses.replace(spec, text="\n".join(lines[:-1]))
    # Line numbers index the whole poem only while the text still holds all of it.
    rhyme = rhyme_partner(spec) if spec.rhyme_with or len(lines) >= spec.line_number else ""
    return dataclasses.replace(spec, text="\n".join(lines[1:]), rhyme_with=rhyme)


def poem_lines(text: str) -> list[str]:
    """The poem's lines with words on them, in order."""
    return [line.strip() for line in normalise_user_text(text).split("\n") if line.strip()]


def last_word(line: str) -> str:
    """The line's last word, without punctuation: "dunes" from "the empty dunes,"."""
    for raw in reversed(line.split()):
        word = "".join(ch for ch in raw if ch.isalpha() or ch in "'\u2019-").strip("'\u2019-")
        if word:
            return word
    return ""


def _poem_so_far(spec: PieceSpec) -> str:
    return normalise_user_text(spec.text)


def _title_instruction(poem: str) -> str:
    return f"Suggest a title for this poem:\n\n{poem}\n\n{ONLY_THE_TITLE}"


def _example_turns(spec: PieceSpec) -> tuple[ChatMessage, ...]:
    # A title is asked for after the haiku, whose title the example answer is.
    poem_form = PoemForm.HAIKU if spec.form is Form.TITLE else spec.poem_form
    example = example_for(PieceSpec(Form.POEM, "x", poem_form=poem_form))
    if example is None:
        return ()
    example_spec, answer = example
    lines = poem_lines(answer)
    if spec.form is Form.TITLE:
        return (
            ChatMessage("user", _title_instruction("\n".join(lines))),
            ChatMessage("assistant", _EXAMPLE_TITLE),
        )
    shown = PieceSpec(
        Form.LINE,
        lines[0],
        poem_form=spec.poem_form,
        line_number=1,
        topic=example_spec.text,
    )
    return (ChatMessage("user", line_instruction(shown)), ChatMessage("assistant", lines[1]))
