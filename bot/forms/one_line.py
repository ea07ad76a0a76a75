"""Pieces that are one line: a game's next line of a poem, and a poem's title.

The stop rule ends the piece when its first real line is finished, and the cleanup keeps just
that line; both find it the same way here, so what streams is what is kept.
"""

from __future__ import annotations

import re

from bot.forms.patterns import is_intro
from bot.forms.spec import Form, PieceSpec

MAX_LINE_CHARS = 200
MAX_TITLE_CHARS = 60
# How far an unfinished title may run before the stop rule gives up on a line break.
_TITLE_RUN_CHARS = 120
# "Line 4: the moon…", "Title: Low Tide", "Next line - …": labels chat models put on answers.
_LABEL = re.compile(
    r"^(?:(?:next |new |your |the )?line(?:[ \t]*\d+)?|title|suggested title)[ \t]*[:\-\u2013—]\s*",
    re.I,
)
_ENCLOSING = (
    ("**", "**"),
    ("__", "__"),
    ("*", "*"),
    ("_", "_"),
    ("`", "`"),
    ('"', '"'),
    ("\u201c", "\u201d"),
    ("\u00ab", "\u00bb"),
    ("'", "'"),
    ("\u2018", "\u2019"),
)
_OPENING_QUOTES = ('"', "\u201c", "\u00ab")
_CLOSING_QUOTES = ('"', "\u201d", "\u00bb")


def is_one_line(spec: PieceSpec) -> bool:
    """Whether ``spec`` asks for a single line (a game line or a title)."""
    return spec.form in (Form.LINE, Form.TITLE)


def limit(spec: PieceSpec) -> int:
    """The most characters the finished line may have."""
    return MAX_TITLE_CHARS if spec.form is Form.TITLE else MAX_LINE_CHARS


def first_line(text: str) -> tuple[int, int | None]:
    """(start, end) of the first line in ``text`` with words on it that is not a chat model's
    filler; ``end`` is the index of its line break, or None while it is still being written."""
    start = 0
    while True:
        newline = text.find("\n", start)
        line = text[start:] if newline < 0 else text[start:newline]
        if newline < 0:
            return start, None
        if line.strip() and not is_intro(line):
            return start, newline
        start = newline + 1


def line_end(spec: PieceSpec, text: str) -> int | None:
    """Where the stop rule cuts a one-line piece: after its first real line, or when that line
    runs on far past the length a line may have."""
    start, end = first_line(text)
    if end is not None:
        return end
    run = _TITLE_RUN_CHARS if spec.form is Form.TITLE else MAX_LINE_CHARS
    if len(text) - start > run:
        space = text.rfind(" ", start, start + run)
        return space if space > start + run // 2 else start + run
    return None


def tidy_line(spec: PieceSpec, text: str) -> str:
    """The piece's one line from ``text``: the first real line, without a label ("Line 4:"),
    quotes or emphasis around it, on one line and cut at a word to the form's limit. A title
    also loses a full stop at its end."""
    start, end = first_line(text)
    line = " ".join(text[start:end].split())
    if not line:
        line = " ".join(text.split())  # nothing but filler: keep what there is
    line = _LABEL.sub("", line, count=1)
    line = _unwrap(line)
    if spec.form is Form.TITLE:
        line = line.rstrip(".").rstrip()
    return _cut_to(line, limit(spec))


def _unwrap(line: str) -> str:
    """``line`` without quotes or emphasis marks that enclose it whole ("**Low Tide**",
    "\u201cthe moon\u201d."), and without an opening quote that never closes."""
    text = line.strip()
    for _ in range(3):  # **"Low Tide"** has two layers
        body = text.rstrip(".,;!?")
        trailing = text[len(body) :]
        for opener, closer in _ENCLOSING:
            wrapped = len(body) > len(opener) + len(closer)
            if wrapped and body.startswith(opener) and body.endswith(closer):
                inner = body[len(opener) : -len(closer)]
                if opener not in inner and closer not in inner:
                    text = inner.strip() + trailing
                    break
        else:
            break
    if text[:1] in _OPENING_QUOTES and not any(q in text[1:] for q in _CLOSING_QUOTES):
        text = text[1:].lstrip()
    return text


def _cut_to(line: str, most: int) -> str:
    if len(line) <= most:
        return line
    cut = line[: most - 1]
    space = cut.rfind(" ")
    if space >= most // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-\u2013—") + "…"
