"""How pieces look on Discord: message text, attribution, and splitting to Discord's limits.

Pure functions, so the formatting rules are tested without a gateway.
"""

from __future__ import annotations

import re
import unicodedata

from bot.forms import fit_label
from bot.links import INVITE, INVITE_PATH
from bot.storage import GenerationRecord
from bot.writing import Piece

MESSAGE_LIMIT = 2000
STREAMING_CURSOR = " ▌"


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split ``text`` into chunks of at most ``limit`` characters, on line boundaries where
    possible, else on spaces; a single word longer than a message is the only thing cut."""
    units = [unit for line in text.split("\n") for unit in _split_long_line(line, limit)]
    chunks: list[str] = []
    current: str | None = None
    for unit in units:
        if current is None:
            current = unit
        elif len(current) + 1 + len(unit) <= limit:
            current = f"{current}\n{unit}"
        else:
            chunks.append(current)
            current = unit
    if current is not None:
        chunks.append(current)
    return [chunk for chunk in chunks if chunk.strip()] or [""]


def _split_long_line(line: str, limit: int) -> list[str]:
    if len(line) <= limit:
        return [line]
    parts: list[str] = []
    current = ""
    for word in line.split(" "):
        while len(word) > limit:  # no space to cut at inside one giant word
            if current:
                parts.append(current)
                current = ""
            cut = _cut_within(word, limit)
            parts.append(word[:cut])
            word = word[cut:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= limit:
            current = candidate
        else:
            done, current = _break_before(current, word, limit)
            parts.append(done)
    if current:
        parts.append(current)
    return parts


# What opens a quote, heading, subtext or list item at the start of a line (as in piece_body).
_OPENS_BLOCK = re.compile(r">(?:>>)?\s|#{1,3}\s|-[#\s]")


def _break_before(current: str, word: str, limit: int) -> tuple[str, str]:
    """Break a long line between ``current`` and ``word``; the new line must not open with a
    marker such as "# " or "> " (mid-line it was text, at a line's start it is markdown), so
    the words before such a marker move down with it, or the char before it when there are
    none (a giant word's last cut)."""
    head, tail, glue = current, word, " "
    while head and _OPENS_BLOCK.match(f"{tail} "):
        if " " in head:
            head, _, last = head.rpartition(" ")
            tail = f"{last} {tail}"
        else:
            cut = _cut_within(head, len(head) - 1) if len(head) > 1 else 0
            head, tail = head[:cut], f"{head[cut:]}{glue}{tail}"
            glue = ""  # what moves next is the same word's end: no space inside it
    if not head.strip() or len(tail) > limit:
        return current, word  # nothing better: a line of markers and nothing else
    return head, tail


_AUTOLINK_START = re.compile(r"<https?://", re.IGNORECASE)


def _cut_within(word: str, limit: int) -> int:
    """Where to cut a word longer than ``limit``. Each message is read on its own, so the cut
    never falls between a backslash and the mark it escapes (the mark would be live in the
    next message), nor inside a ``<link>`` (its start, posted without the ``>``, would be a
    bare link that embeds): it goes before the link, which ``piece_body`` keeps short enough
    to fit a message of its own."""
    opening = word.rfind("<", 0, limit)
    if opening > 0 and ">" not in word[opening:limit] and _AUTOLINK_START.match(word, opening):
        return opening
    head = word[:limit]
    backslashes = len(head) - len(head.rstrip("\\"))
    return limit - 1 if backslashes % 2 else limit


# Discord invites (also inside <...>) are removed, not just unembedded.
_INVITE = INVITE
_LINK_OR_MARKDOWN = re.compile(
    rf"<(?P<wrapped_invite>{_INVITE})>"
    r"|(?P<wrapped_url><https?://[^\s<>]+>)"  # already unembedded: left as it is
    rf"|(?P<invite>{_INVITE})"
    r"|(?P<url>https?://[^\s<>]*)"
    r"|(?P<www>(?<![\w.@/-])www\.[\w-][^\s<>]*)"
    # Markdown that only means something at the start of a line: quotes, headers, subtext and
    # list items. The backslash goes after any indentation, right before the marker.
    r"|^(?P<lead>[ \t]*)(?P<marker>>(?:>>)?(?=\s)|#{1,3}(?=\s)|-(?=[#\s]))"
    r"|(?P<char>[\\_*~|`\[\]])",  # [ and ] too: no masked links such as [text](url)
    re.IGNORECASE | re.MULTILINE,
)
_TRAILING = set(".,:;!?'\"*_~|`")
# Links longer than this are shown as text, not wrapped: a wrapped link must fit in one
# message, since a cut through ``<...>`` would post its start as a bare, embedding link.
LONGEST_LINK = 1000
INVITE_REMOVED = "[invite removed]"


def piece_body(text: str) -> str:
    """Generated (or user-given) text made safe to post under the bot's name.

    Markdown is shown literally, not interpreted, so the model cannot format headers, masked
    links or spoilers into the reply. Links are wrapped as ``<url>`` so Discord shows them
    without an embed, and left unescaped (a backslash inside a URL would break it); bare
    ``www.`` hosts get ``https://`` so that the wrapped form is a link rather than literal
    angle brackets; one longer than ``LONGEST_LINK`` is shown as text instead, since a link
    must fit one message. Discord invites are removed. (Pings are prevented separately by
    ``AllowedMentions.none()`` on every message.)"""
    return _LINK_OR_MARKDOWN.sub(_make_safe, text)


def _make_safe(match: re.Match[str]) -> str:
    found = match.group
    if found("wrapped_invite") is not None:
        return INVITE_REMOVED
    if found("wrapped_url") is not None:
        return match.group() if len(match.group()) <= LONGEST_LINK else _as_text(match.group())
    if found("marker") is not None:
        return f"{found('lead')}\\{found('marker')}"
    if found("char") is not None:
        return f"\\{found('char')}"
    link, trailing = _split_trailing(match.group())
    if found("invite") is not None:
        return INVITE_REMOVED + _escape_chars(trailing)
    if len(link) > LONGEST_LINK:
        return _as_text(match.group())
    if found("www") is not None and len(link) > len("www."):
        return f"<https://{link}>{_escape_chars(trailing)}"
    if found("www") is not None:
        return _escape_chars(match.group())  # "www." and punctuation only
    scheme, rest = match.group().split("://", 1)
    if len(link) > len(scheme) + len("://"):
        return f"<{link}>{_escape_chars(trailing)}"
    # A scheme with nothing to wrap ("https://."): Discord could still start a link there and
    # run it on over what follows, so escape the colon (shown as ":", never a link).
    return f"{scheme}\\://{_escape_chars(rest)}"


def _split_trailing(candidate: str) -> tuple[str, str]:
    """Split what looks like a link into the link and the punctuation that closes the sentence
    around it: ``(see https://x.org/a_(b)).`` keeps ``a_(b)`` and leaves ``).``."""
    end = len(candidate)
    while end:
        char = candidate[end - 1]
        part = candidate[:end]
        if (
            char in _TRAILING
            or (char == ")" and part.count("(") < part.count(")"))
            or (char == "]" and part.count("[") < part.count("]"))
            or (not char.isascii() and unicodedata.category(char).startswith("P"))
        ):
            end -= 1
        else:
            break
    return candidate[:end], candidate[end:]


def _as_text(link: str) -> str:
    """A link too long to wrap, shown as text: every scheme's colon escaped, so that neither
    it nor a link inside it ("https://a/https://b") can start a bare link, and any invite in
    it removed."""
    return _IN_LONG_LINK.sub(_make_text_safe, link)


_IN_LONG_LINK = re.compile(rf"(?P<invite>{INVITE_PATH})|://|[\\_*~|`\[\]]", re.IGNORECASE)


def _make_text_safe(match: re.Match[str]) -> str:
    if match.group("invite") is not None:
        return INVITE_REMOVED
    return f"\\{match.group()}"  # "\\://" or an escaped mark


def _escape_chars(text: str) -> str:
    return re.sub(r"([\\_*~|`\[\]])", r"\\\1", text)


def attribution_line(record: GenerationRecord) -> str:
    """Subtext saying what the AI wrote, with which settings, and who prompted it."""
    params = record.params
    return (
        f"-# ✍ Written by AI ({record.model}) for <@{record.user_id}> · piece #{record.id}"
        f" · seed {record.seed} · temp {params.get('temperature', 0):g}"
        f" · top-p {params.get('top_p', 0):g} · top-k {params.get('top_k', 0)}"
    )


def piece_title(piece: Piece) -> str:
    """The bold first line of a result, then how a fixed form fits: "**Haiku: rain** · 5·7·5 ✓"."""
    fit = fit_label(piece.spec, piece.text)
    title = f"**{piece_body(piece.spec.title())}**"
    return f"{title} · {fit}" if fit else title


def render_final(piece: Piece, record: GenerationRecord) -> list[str]:
    """The finished piece as one or more messages; attribution closes the last one."""
    body = f"{piece_title(piece)}\n{piece_body(piece.text)}"
    footer = attribution_line(record)
    chunks = split_message(body, MESSAGE_LIMIT)
    if len(chunks[-1]) + 1 + len(footer) <= MESSAGE_LIMIT:
        chunks[-1] = f"{chunks[-1]}\n{footer}"
    else:
        chunks.append(footer)
    return chunks


def render_progress(title: str, text: str) -> str:
    """A streaming snapshot: the newest text that fits one message, with a cursor; made safe
    like the final piece (``piece_body``)."""
    head = f"**{piece_body(title)}**\n"
    body = piece_body(text)
    room = MESSAGE_LIMIT - len(head) - len(STREAMING_CURSOR) - 2
    if len(body) > room:
        body = "…" + _newest_within(text, room - 1)
    return f"{head}{body}{STREAMING_CURSOR}"


def _newest_within(text: str, limit: int) -> str:
    """``piece_body`` of the longest end of ``text`` whose rendering fits ``limit``, starting at
    a word where it can. The raw text is cut, never the rendered one: a cut through ``<url>``
    would leave a bare, embedding link, and a cut after a backslash would unescape a mark."""
    start = max(0, len(text) - limit)
    while True:
        if start and not text[start - 1].isspace():  # mid-word: start at the next word
            space = re.search(r"\s", text[start:])
            if space and space.end() < len(text) - start:
                start += space.end()
        rendered = piece_body(text[start:])
        if len(rendered) <= limit:
            return rendered
        start += len(rendered) - limit


def render_queue(title: str, position: int) -> str:
    """What a waiting user sees."""
    ahead = "you're next" if position == 1 else f"you're number {position} in the queue"
    return f"**{piece_body(title)}**\n⏳ Waiting for the writer — {ahead}…"


_ESCAPED_OR_WRAPPED = re.compile(
    r"<(?P<link>https?://[^\s<>]+)>|\\(?P<char>[\\*_~|`>#\-\[\]():])", re.IGNORECASE
)


# The bold title, and after it how a fixed form fits ("· 5·7·5 ✓"); the piece's own text is
# escaped, so its first line never opens with a bare "**".
_TITLE_LINE = re.compile(r"^\*\*.*\*\*(?: · [^*\n]+)?$")


def piece_text_of(content: str) -> str:
    """The piece inside one of Inkwell's own result messages: without the bold title line,
    the attribution subtext, and the escaping and link wrapping added by ``piece_body``."""
    lines = content.split("\n")
    if lines and _TITLE_LINE.match(lines[0]):
        lines = lines[1:]
    lines = [line for line in lines if not line.startswith("-# ✍")]
    return _ESCAPED_OR_WRAPPED.sub(lambda m: m.group("link") or m.group("char"), "\n".join(lines))


def render_unsaved(piece: Piece, reason: str) -> list[str]:
    """A finished piece that could not be stored: the text, its settings, and why it has no
    buttons or piece number."""
    s = piece.sampling
    body = f"{piece_title(piece)}\n{piece_body(piece.text)}"
    footer = (
        f"-# ✍ Written by AI ({piece.model}) · seed {s.seed} · temp {s.temperature:g}"
        f" · top-p {s.top_p:g} · top-k {s.top_k}\n-# ⚠ {reason}"
    )
    chunks = split_message(body, MESSAGE_LIMIT)
    if len(chunks[-1]) + 1 + len(footer) <= MESSAGE_LIMIT:
        chunks[-1] = f"{chunks[-1]}\n{footer}"
    else:
        chunks.append(footer)
    return chunks
