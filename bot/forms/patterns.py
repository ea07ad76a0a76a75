"""What model output looks like around the piece: special tokens, preambles, titles, web junk.

Shared by the stop rule (which must not end a piece on its own title) and the cleanup (which
strips that title), so both agree on where the piece's body begins.
"""

from __future__ import annotations

import re

from bot.forms.spec import Form, PieceSpec, PoemForm

# Chat-template and end-of-text tokens that leak into decoded text; nothing after one is ours.
SPECIAL_TOKEN = re.compile(
    r"<\|[A-Za-z_]{2,24}\|>|</s>|<eos>|<end_of_turn>|<start_of_turn>|\[/?INST\]"
)
# A special token still being written at the very end of a streamed text.
PARTIAL_SPECIAL_TOKEN = re.compile(r"<(?:\|[A-Za-z_]{0,24}\|?|/?s?|eos?|e|end_of_turn)?\Z")

_FORM_WORDS = (
    r"(?:haiku|poem|limerick|sonnet|quatrain|verse|story|tale|scene|script|screenplay|"
    r"continuation|piece)"
)
_FENCE = re.compile(r"^```[\w+-]*$")
_HEADING = re.compile(r"^#{1,6}\s+\S")
_EMPHASIS = re.compile(r"^(\*\*|__|\*|_)(?=\S)([^*_]{1,100})\1[:.]?$")
_QUOTED = re.compile(r"^([\"“'\u2018«])[^\"“”'\u2018\u2019«»]{1,100}[\"”'\u2019»][:.]?$")
_CHATTY = re.compile(
    r"^(?:sure|certainly|of course|absolutely|okay|ok|alright|gladly|great)\b\s*[!,.:]", re.I
)
# "Here is a haiku about autumn." but not a story's own "Here is the tale of Jack, who...".
_HERE_IS = re.compile(
    rf"^(?:here(?:'s|\u2019s| is| are)|below is)\b.{{0,100}}\b{_FORM_WORDS}\b"
    r"(?:.*:$|.*\b(?:about|based on|inspired by|for you|as requested|titled|called)\b)",
    re.I,
)
_INTRO_COLON = re.compile(rf"^.{{0,150}}\b{_FORM_WORDS}s?\b.{{0,80}}:$", re.I)
# "A haiku about winter", "Poem #2", "Sonnet 18:": the header base models write before a poem.
POEM_HEADER = re.compile(
    r"^[ \t#*_\"“]*(?:(?:a|an|another|one more|my)[ \t]+)?"
    r"(?:(?:short|little|new|free[- ]verse)[ \t]+)?"
    r"(?:haiku|poem|limerick|sonnet|quatrain|free verse)s?\b"
    r"(?:[ \t]*(?:#|no\.?|number)?[ \t]*\d+|[ \t]+(?:about|on|for|by|titled|called|of)\b"
    r"|[ \t]*[:.(\-\u2013—]|[ \t]*$)",
    re.I | re.M,
)
# "ALICE:" or "DR. WU (quietly):" opens a line of dialogue, not a preamble.
_CUE = re.compile(r"^[*_]*[A-Z][A-Z0-9 .'\u2019-]{0,30}[*_]*(?:\([^)]*\))?[*_]*:")
_LABEL_WORDS = "title|poem|haiku|limerick|sonnet|quatrain|free verse|story|script|screenplay"
_LABEL_TEMPLATE = r"^[ \t]*(?:{words})[ \t]*(?:\d+[ \t]*)?:[ \t]*\S.{{0,100}}$"
_LABEL = re.compile(_LABEL_TEMPLATE.format(words=_LABEL_WORDS + "|scene"), re.I | re.M)
# A script's "SCENE:" line may be part of the scene itself.
_SCRIPT_LABEL = re.compile(_LABEL_TEMPLATE.format(words=_LABEL_WORDS), re.I | re.M)
_SMALL_WORDS = frozenset(
    {"a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "into", "of", "on", "or"}
    | {"the", "to", "with"}
)
_MAX_PREAMBLE_LINES = 4


def is_title(line: str) -> bool:
    """Whether ``line`` is set apart as a heading: "# Autumn", "**Autumn**", "*Autumn*"."""
    return bool(_HEADING.match(line) or _EMPHASIS.match(line))


def is_intro(line: str) -> bool:
    """Whether ``line`` is a chat model's filler before the answer ("Sure! Here's the next
    line:") or a code fence, never part of a piece."""
    line = line.strip()
    return bool(
        _FENCE.match(line)
        or _CHATTY.match(line)
        or (len(line) <= 200 and (_HERE_IS.match(line) or _INTRO_COLON.match(line)))
    )


def looks_like_title(line: str) -> bool:
    """Short, Title Cased and unpunctuated at the end: "The Dragon's Gift"."""
    words = line.split()
    if not 1 <= len(words) <= 8 or len(line) > 60 or line[-1] in ".,;:!?…":
        return False
    for index, word in enumerate(words):
        letters = [ch for ch in word if ch.isalpha()]
        if not letters:
            continue
        if index and word.lower() in _SMALL_WORDS:
            continue
        if not letters[0].isupper():
            return False
    return True


def labelled_title(spec: PieceSpec) -> re.Pattern[str]:
    """Lines like "Title: Autumn" or "Haiku: autumn" that label the piece rather than begin it."""
    return _SCRIPT_LABEL if spec.form is Form.SCRIPT else _LABEL


def is_poem_header(line: str) -> bool:
    """Whether ``line`` announces a poem ("A haiku about winter"), as base models do when they
    start the next one."""
    return bool(POEM_HEADER.match(line.strip()))


def body_start(spec: PieceSpec, text: str) -> int:
    """Where the piece itself begins in ``text``: after any preamble ("Sure! Here is a haiku:"),
    title line ("**Autumn**", "Title: Autumn"), code fence or leading blank lines.

    Only complete lines are skipped: a line still being written is taken as the body.
    """
    return _body_start(spec, text)[0]


def settled_body_start(spec: PieceSpec, text: str) -> int | None:
    """``body_start`` for text still being written, or None while more text could change it:
    a first line taken for a title is no title once the line after it turns out to stand
    alone too (text double-spaced throughout), and a preview must never leave out what the
    finished piece puts back."""
    start, settled = _body_start(spec, text)
    return start if settled else None


def _body_start(spec: PieceSpec, text: str) -> tuple[int, bool]:
    if spec.form is Form.GENERATE:
        return 0, True
    pos = _skip_blank(text, 0)
    titled = False
    settled = True
    for _ in range(_MAX_PREAMBLE_LINES):
        newline = text.find("\n", pos)
        if newline < 0:
            break
        line = text[pos:newline].strip()
        after = _skip_blank(text, newline + 1)
        next_end = text.find("\n", after)
        if next_end < 0:
            next_line, next_alone = text[after:], False
        else:
            next_line, next_alone = text[after:next_end], _blank_follows(text, next_end)
        alone = _blank_follows(text, newline)
        kind = _preamble_kind(spec, line, next_line.strip(), alone=alone, next_alone=next_alone)
        # Whether a blank line follows the next line is known once text follows that line.
        known = next_end >= 0 and bool(text[next_end:].strip())
        if not known and kind != _preamble_kind(
            spec, line, next_line.strip(), alone=alone, next_alone=True
        ):
            settled = False
        if kind is None or (kind == "title" and titled):
            break
        titled = titled or kind == "title"
        pos = after
    return pos, settled


def _blank_follows(text: str, newline: int) -> bool:
    """Whether the line ending at ``newline`` is followed by a blank line."""
    return text.count("\n", newline, _skip_blank(text, newline + 1)) >= 2


def _skip_blank(text: str, pos: int) -> int:
    """The start of the first line at or after ``pos`` that has something on it."""
    end = len(text)
    line_start = pos
    while pos < end and text[pos] in " \t\r\n":
        if text[pos] == "\n":
            line_start = pos + 1
        pos += 1
    # Stay at the line's start so an indented first line keeps its indentation.
    return line_start if pos < end else pos


def _preamble_kind(
    spec: PieceSpec, line: str, next_line: str, *, alone: bool, next_alone: bool
) -> str | None:
    """ "intro" for chat filler, "title" for a title line, None for the piece's first line.

    ``alone``: a blank line follows ``line``; ``next_alone``: one follows the line after it too,
    as in a poem double-spaced throughout, whose first line is then no title.
    """
    if _FENCE.match(line) or _CHATTY.match(line):
        return "intro"
    if spec.form is Form.SCRIPT and _CUE.match(line):
        return None
    if len(line) <= 200 and (_HERE_IS.match(line) or _INTRO_COLON.match(line)):
        return "intro"
    if spec.form is Form.CONTINUE:
        return None  # the continuation may open with anything, even a heading
    if _HEADING.match(line) or labelled_title(spec).match(line):
        return "title"
    emphasis = _EMPHASIS.match(line)
    if emphasis:
        # A poem set wholly in italics has every line emphasised; a title stands apart.
        return "title" if alone or not next_line.startswith(emphasis.group(1)) else None
    if spec.form is Form.POEM and is_poem_header(line):
        return "title"
    if not alone or next_alone or spec.form is Form.SCRIPT:
        # A script's opening "INT. KITCHEN - NIGHT" stands alone too, and is part of the scene.
        return None
    if _QUOTED.match(line):
        return "title"
    if spec.form is Form.POEM and spec.poem_form is not PoemForm.FREE:
        # Fixed forms never open with a one-line stanza, so a short one is a title.
        short = len(line) <= 60 and len(line.split()) <= 8 and not line.endswith((",", ";"))
        return "title" if short else None
    return "title" if looks_like_title(line) else None
