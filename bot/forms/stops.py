"""Where a piece being generated has reached its natural end.

``stop_index`` runs after every token on the text so far (a few thousand characters at most),
so every rule is a bounded number of linear scans.
"""

from __future__ import annotations

import re

from bot.forms.one_line import is_one_line, line_end
from bot.forms.patterns import (
    POEM_HEADER,
    SPECIAL_TOKEN,
    body_start,
    is_poem_header,
    is_title,
    labelled_title,
    looks_like_title,
)
from bot.forms.repetition import repetition_cut
from bot.forms.spec import FREE_VERSE_MAX_LINES, Form, PieceSpec, PoemForm

# Web-page furniture that follows a poem or story in base-model training text.
_JUNK = re.compile(
    r"^[ \t]*(?:Posted (?:by|on|in)\b|Comments\b|\d+ (?:comments|responses|likes)\b|Copyright\b"
    r"|\u00a9|All rights reserved|Advertisement\b|Share this\b|Click here\b|Read more\b"
    r"|Related(?: posts| articles| stories)?:|Tags?:|Like this:|Subscribe\b|Sign up\b"
    r"|Leave a (?:comment|reply)\b|Follow (?:me|us)\b|Filed under\b|Previous post\b|Next post\b)",
    re.M,
)
# Chat models' remarks after the piece; only at the start of a paragraph after the body.
_AFTERWORD = re.compile(
    r"\n[ \t]*\n[ \t]*(?:I hope\b|Hope you\b|Let me know\b|Feel free\b|Would you like\b|Note:"
    r"|\(Note|Explanation:|I've written\b|I have written\b|I tried\b"
    r"|(?:This|In this|The above) (?:haiku|poem|limerick|sonnet|quatrain|story|scene|script"
    r"|screenplay|piece|continuation)\b)"
)
_CLOSING_FENCE = re.compile(r"^[ \t]*```", re.M)
_POEM_SEPARATOR = re.compile(r"^[ \t]*(?:[-*_=~][ \t]*){3,}$", re.M)
_LINE_GAP = re.compile(r"\n(?:[ \t]*\n){2,}")  # two blank lines: the poem is over
_PROSE_GAP = re.compile(r"\n(?:[ \t]*\n){3,}")  # prose and scenes get one more
_STORY_RESTART = re.compile(
    r"^[ \t]*(?:Writing prompt:|Prompt:|Genre:|Story:|Premise:|\[WP\]|Title:)", re.M | re.I
)
_SCRIPT_RESTART = re.compile(r"^[ \t]*(?:SCREENPLAY\b|LOGLINE:|CHARACTERS:|CAST:|Title:)", re.M)
# "The End" closes a story and is kept; it must stand alone or follow a finished sentence,
# and be finished itself (a full stop, or the end of its line) so "The Endless" is not cut.
_THE_END = re.compile(
    r"(?:^|(?<=[.!?\"\u201d\u2019'\u2026]))[ \t]*[*_]*(?:THE END|The End|The end)[*_]*"
    r"(?:[.!]+[*_]*|[ \t]*(?=\n))",
    re.M,
)
_SCRIPT_END = re.compile(
    r"^[ \t]*[*_(]*(?:THE END|FADE OUT|FADE TO BLACK|CUT TO BLACK|END SCENE|END OF SCENE)"
    r"(?:[.!:)*_]+|[ \t]*(?=\n))",
    re.M,
)
_FREE_VERSE_MIN_LINES = 4
_PROSE_LINE = 100  # a "line" this long in a poem is the model drifting into prose


def stop_index(spec: PieceSpec, generated: str) -> int | None:
    """Where to cut ``generated`` (the text so far, prompt excluded) because the piece has
    reached a natural end, or None to keep generating.

    Natural ends: an end-of-text token; a runaway loop; a fixed poem's last line; a free-verse
    poem giving way to a new title, prose or a restart; "The End" or "FADE OUT." (kept);
    base-model web furniture ("Posted by", "Comments", "Copyright"), a fresh header such as
    "A haiku about winter", or a long blank gap; a chat model's closing remarks or code fence.
    ``generate`` only stops at end-of-text tokens and loops.
    """
    special = SPECIAL_TOKEN.search(generated)
    text = generated if special is None else generated[: special.start()]
    cuts = [repetition_cut(text)]
    if special is not None:
        cuts.append(special.start())
    if spec.form is not Form.GENERATE:
        cuts.extend(_natural_ends(spec, text))
    found = [cut for cut in cuts if cut is not None]
    return min(found) if found else None


def _natural_ends(spec: PieceSpec, text: str) -> list[int | None]:
    if is_one_line(spec):
        return [line_end(spec, text)]
    body = body_start(spec, text)
    cuts: list[int | None] = []
    if spec.form in (Form.STORY, Form.CONTINUE):
        cuts.append(_end_of(_THE_END.search(text, body)))
    elif spec.form is Form.SCRIPT:
        cuts.append(_end_of(_SCRIPT_END.search(text, body)))
    first_line_end = text.find("\n", body)
    if first_line_end < 0:
        return cuts  # every other end needs at least one finished line of the piece first
    after = first_line_end + 1
    gap = (_LINE_GAP if spec.form is Form.POEM else _PROSE_GAP).search(text, first_line_end)
    cuts += [
        _start_of(_JUNK.search(text, after)),
        _start_of(_CLOSING_FENCE.search(text, after)),
        _start_of(gap),
        _start_of(_AFTERWORD.search(text, first_line_end)),
    ]
    if spec.form is Form.POEM:
        cuts += [
            _start_of(POEM_HEADER.search(text, after)),
            _start_of(labelled_title(spec).search(text, after)),
            _start_of(_POEM_SEPARATOR.search(text, after)),
            _poem_end(spec, text, body),
        ]
    elif spec.form is Form.STORY:
        cuts.append(_start_of(_STORY_RESTART.search(text, after)))
    elif spec.form is Form.SCRIPT:
        cuts.append(_start_of(_SCRIPT_RESTART.search(text, after)))
    return cuts


def _start_of(match: re.Match[str] | None) -> int | None:
    return None if match is None else match.start()


def _end_of(match: re.Match[str] | None) -> int | None:
    return None if match is None else match.end()


def line_segments(spec: PieceSpec, line: str) -> int:
    """How many poem lines ``line`` holds: base models often write a haiku on one line as
    "a / b / c"."""
    slashes = line.count(" / ")
    if slashes >= 2 or (slashes and spec.poem_form is PoemForm.HAIKU):
        return slashes + 1
    return 1


def _poem_end(spec: PieceSpec, text: str, body: int) -> int | None:
    if spec.fixed_lines is not None:
        return _after_lines(spec, text, body, spec.fixed_lines)
    max_lines = FREE_VERSE_MAX_LINES[spec.length]
    return _min(_after_lines(spec, text, body, max_lines), _free_verse_break(text, body))


def _min(*cuts: int | None) -> int | None:
    found = [cut for cut in cuts if cut is not None]
    return min(found) if found else None


def _after_lines(spec: PieceSpec, text: str, body: int, wanted: int) -> int | None:
    """The end of the line that completes ``wanted`` lines, once that line is finished."""
    count = 0
    start = body
    while True:
        newline = text.find("\n", start)
        if newline < 0:
            return None
        line = text[start:newline]
        if line.strip():
            count += line_segments(spec, line)
            if count >= wanted:
                return newline
        start = newline + 1


def _free_verse_break(text: str, body: int) -> int | None:
    """Where a free-verse poem of a few stanzas gives way to something else: a title, prose
    or the poem starting over. The cut goes where the last stanza ended."""
    count = 0
    first = ""
    stanza_end = body  # just after the last line with words on it
    blank_before = False
    start = body
    while start <= len(text):
        newline = text.find("\n", start)
        finished = newline >= 0
        raw = text[start : newline if finished else len(text)]
        line = raw.strip()
        if not line:
            blank_before = blank_before or finished
        else:
            if blank_before and count >= _FREE_VERSE_MIN_LINES:
                if len(line) > _PROSE_LINE or (finished and _starts_anew(text, newline, line)):
                    return stanza_end
                if finished and " ".join(line.lower().split()) == first:
                    return stanza_end
            first = first or " ".join(line.lower().split())
            count += 1
            stanza_end = start + len(raw.rstrip())
            blank_before = False
        if not finished:
            return None
        start = newline + 1
    return None


def _starts_anew(text: str, newline: int, line: str) -> bool:
    """Whether ``line`` (ending at ``newline``) is a title: marked up as one, or a short Title
    Cased line standing alone between blank lines."""
    if is_title(line) or is_poem_header(line):
        return True
    after = newline + 1
    while after < len(text) and text[after] in " \t":
        after += 1
    return text.startswith("\n", after) and looks_like_title(line)
