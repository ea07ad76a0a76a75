"""Turning raw model output into the piece shown to the user, while streaming and at the end.

``stable_prefix`` and ``finish`` share one pipeline and differ only in how much of the tail they
trust, which is what keeps the streamed text a prefix of the final one.
"""

from __future__ import annotations

import re
from enum import Enum

from bot.forms.one_line import is_one_line, tidy_line
from bot.forms.patterns import (
    PARTIAL_SPECIAL_TOKEN,
    SPECIAL_TOKEN,
    body_start,
    settled_body_start,
)
from bot.forms.repetition import repeat_start
from bot.forms.spec import Form, PieceSpec, PoemForm, normalise_user_text
from bot.forms.stops import line_segments, stop_index

# A sentence ends at terminal punctuation, with any closing quotes or brackets after it.
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019\u00bb)\]*_]*")
_ENDS_COMPLETE = re.compile(r"[.!?\u2026][\"'\u201d\u2019\u00bb)\]*_]*$")
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "vs", "etc", "mt", "no", "capt", "col"}
    | {"gen", "lt", "sgt", "rev", "e.g", "i.e"}
)
_SEPARATOR_LINE = re.compile(r"(?:[-*_=~#][ \t]*)+")
_OPENING_QUOTES = ('"', "\u201c")
_CLOSING_QUOTES = ('"', "\u201d")
# Forms written as one stanza: a blank line inside them is a model's habit, not a stanza break.
_ONE_STANZA = frozenset({PoemForm.HAIKU, PoemForm.LIMERICK, PoemForm.QUATRAIN})


class _Tail(Enum):
    """How to treat an unfinished last line or sentence."""

    KEEP = "keep"  # the model stopped by itself: the text is whole
    DROP = "drop"  # streaming: show only what can no longer change
    DROP_UNLESS_ENDED = "drop unless ended"  # cut off by the length limit


def stable_prefix(spec: PieceSpec, generated: str) -> str:
    """The part of ``generated`` (text so far) that is safe to show while streaming: complete
    lines for poems and scripts, complete sentences or paragraphs for prose, after the same
    cleanup as ``finish``. It is always a prefix of ``finish(spec, generated,
    hit_length_limit=True)``, give or take trailing whitespace."""
    if is_one_line(spec):
        # A line or title is shown once it is whole, which is also when the piece ends.
        text, ended = _cut(spec, generated)
        return tidy_line(spec, text) if ended else ""
    return _render(spec, generated, _Tail.DROP)


def finish(spec: PieceSpec, generated: str, *, hit_length_limit: bool) -> str:
    """The finished piece from the model's whole output.

    Applies the stop rule's cut; removes special tokens, a chat model's preamble, title line
    and code fences; tidies line breaks (no trailing spaces, at most one blank line between
    stanzas, none inside a haiku, limerick or quatrain); splits a haiku written as "a / b / c";
    for ``continue`` drops an echo of the user's text. When ``hit_length_limit`` is true, the
    unfinished last line (poems, scripts) or sentence (prose) is dropped. Never empty when the
    output had any text before an end-of-text token: if cleanup would leave nothing, the text is
    kept as it was, cut at a word boundary with "…" when the length limit was hit.
    """
    if is_one_line(spec):
        # One line, whatever came: the first real line, or all there was on one line.
        return tidy_line(spec, _cut(spec, generated)[0]) or tidy_line(
            spec, _before_end_token(generated)
        )
    tail = _Tail.DROP_UNLESS_ENDED if hit_length_limit else _Tail.KEEP
    piece = _render(spec, generated, tail)
    if piece:
        return piece
    # Nothing survived the cleanup: the output was all preamble, one unfinished line, or
    # furniture the stop rule cut. Show what there was rather than nothing.
    fallback = (
        _render(spec, generated, _Tail.KEEP)
        or _tidy(_cut(spec, generated)[0])
        or _tidy(_before_end_token(generated))
    )
    if not fallback or not hit_length_limit:
        return fallback
    return _trim_to_word(fallback)


def _render(spec: PieceSpec, generated: str, tail: _Tail) -> str:
    text, ended = _cut(spec, generated)
    if tail is _Tail.DROP and not ended:
        # A second copy of what came just before may be a loop in the making, which the stop
        # rule would cut back once a third copy comes; don't show what may be taken back.
        text = text[: repeat_start(text)]
    if tail is _Tail.DROP and not ended:
        start = settled_body_start(spec, text)
        text = "" if start is None else text[start:]
    elif spec.form is not Form.GENERATE:
        text = text[body_start(spec, text) :]
    if spec.form is Form.CONTINUE:
        text = _without_echo(spec, text, streaming=tail is _Tail.DROP)
    if not ended and tail is not _Tail.KEEP:
        text = _drop_tail(spec, text, strict=tail is _Tail.DROP)
    if spec.form is Form.POEM:
        text = _shape_poem(spec, text)
    return _tidy(text)


def _cut(spec: PieceSpec, generated: str) -> tuple[str, bool]:
    """The output up to the stop rule's cut with uniform line breaks and no special tokens,
    and whether a natural end was found."""
    text = _normalise_newlines(generated)
    cut = stop_index(spec, text)
    if cut is None:
        return PARTIAL_SPECIAL_TOKEN.sub("", text), False
    return SPECIAL_TOKEN.sub("", text[:cut]), True


def _before_end_token(generated: str) -> str:
    text = _normalise_newlines(generated)
    special = SPECIAL_TOKEN.search(text)
    return PARTIAL_SPECIAL_TOKEN.sub("", text if special is None else text[: special.start()])


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _without_echo(spec: PieceSpec, text: str, *, streaming: bool) -> str:
    """``text`` without a leading copy of the user's own text, which chat models often repeat
    despite being told not to. An echo with nothing after it is kept rather than leave the
    user with nothing, but not shown while streaming."""
    user = normalise_user_text(spec.text)
    start = len(text) - len(text.lstrip())
    so_far = text[start:].rstrip()
    if user and text.startswith(user, start) and text[start + len(user) :].strip():
        return text[start + len(user) :]
    if streaming and so_far and user.startswith(so_far):
        return ""
    return text


def _drop_tail(spec: PieceSpec, text: str, *, strict: bool) -> str:
    """``text`` without its unfinished last line (poems, scripts), sentence (prose) or word
    (raw ``generate`` output).

    ``strict`` (streaming) also holds back a last line or sentence until more text follows it,
    since what follows can still make it a title to strip or the end of the piece; otherwise a
    last line or sentence that ends in terminal punctuation counts as finished."""
    if spec.form is Form.GENERATE:
        # Raw prompts get minimal processing: only the half-written last word goes, so the
        # text streams word by word even when it has no sentences (code, lists, noise).
        return text[: max(text.rfind(" "), text.rfind("\n")) + 1]
    if not strict and _ENDS_COMPLETE.search(text.rstrip()):
        return text
    if spec.form in (Form.POEM, Form.SCRIPT):
        # While streaming, a finished line still waits for the next one to begin.
        kept = text.rstrip() if strict else text
        return text[: kept.rfind("\n") + 1]
    return text[: _last_sentence_end(text, strict=strict)]


def _last_sentence_end(text: str, *, strict: bool) -> int:
    """The end of the last finished sentence or paragraph in ``text``; 0 if there is none.

    ``strict``: a sentence must be followed by a space, and a paragraph by the next one's first
    words, since a closing quote may still follow and a lone line may turn out to be a title.
    """
    best = (text.rstrip() if strict else text).rfind("\n") + 1
    for match in _SENTENCE_END.finditer(text, best):
        end = match.end()
        if end == len(text) and strict:
            continue  # a closing quote may still follow
        if end < len(text) and not text[end].isspace():
            continue  # "3.5", "e.g.this", "…and"
        if match.group() == "." and _is_abbreviation(text, match.start()):
            continue
        best = end
    return best


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the full stop at ``dot`` ends "Mr", "J" or a list number ("9.") rather than a
    sentence."""
    word_start = dot
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:dot].lstrip("\"'(\u201c\u2018")
    if word.isdigit():
        line_start = text.rfind("\n", 0, word_start) + 1
        return not text[line_start:word_start].strip()
    return word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isupper())


def _shape_poem(spec: PieceSpec, text: str) -> str:
    """One poem line per line: split "a / b / c", drop quotes around the whole poem, keep a
    fixed form to its number of lines."""
    lines: list[str] = []
    for line in text.split("\n"):
        if line_segments(spec, line) > 1:
            lines.extend(part.strip() for part in line.split(" / "))
        else:
            lines.append(line.strip())
    filled = [index for index, line in enumerate(lines) if line]
    if filled:
        first, last = filled[0], filled[-1]
        opening = lines[first]
        if opening.startswith(_OPENING_QUOTES) and not any(
            quote in opening[1:] for quote in _CLOSING_QUOTES
        ):
            lines[first] = opening[1:].lstrip()
            closing = lines[last]
            quotes = sum(closing.count(quote) for quote in ('"', "\u201c", "\u201d"))
            if last != first and quotes == 1 and closing.endswith(_CLOSING_QUOTES):
                lines[last] = closing[:-1].rstrip()
    if spec.poem_form in _ONE_STANZA:
        lines = [line for line in lines if line]
    if spec.fixed_lines is not None:
        lines = _first_lines(lines, spec.fixed_lines)
    return "\n".join(lines)


def _first_lines(lines: list[str], wanted: int) -> list[str]:
    kept: list[str] = []
    for line in lines:
        if line:
            if wanted == 0:
                break
            wanted -= 1
        kept.append(line)
    return kept


def _tidy(text: str) -> str:
    """No trailing spaces, at most one blank line in a row, no separator rules at the end, no
    surrounding whitespace."""
    out: list[str] = []
    blank = False
    for raw in text.split("\n"):
        line = raw.rstrip()
        if not line.strip():
            blank = bool(out)
            continue
        if blank:
            out.append("")
        out.append(line)
        blank = False
    while out and (not out[-1] or _SEPARATOR_LINE.fullmatch(out[-1].strip())):
        out.pop()
    return "\n".join(out).strip()


def _trim_to_word(text: str) -> str:
    """``text`` cut back to its last whole word, marked with "…" as unfinished."""
    space = max(text.rfind(" "), text.rfind("\n"))
    if space > 0:
        text = text[:space]
    return text.rstrip(" \t\n,;:-\u2013\u2014") + "…"
