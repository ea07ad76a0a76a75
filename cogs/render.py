"""How pieces look on Discord: message text, attribution, and splitting to Discord's limits.

Pure functions, so the formatting rules are tested without a gateway.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import discord

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
        while len(word) > limit:  # no boundary to respect inside one giant word
            if current:
                parts.append(current)
                current = ""
            parts.append(word[:limit])
            word = word[limit:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= limit:
            current = candidate
        else:
            parts.append(current)
            current = word
    if current:
        parts.append(current)
    return parts


def piece_body(text: str) -> str:
    """Generated text made safe to show: markdown is shown literally, not interpreted, so the
    model cannot format headers, links or spoilers into the reply. (Pings are prevented
    separately by ``AllowedMentions.none()`` on every message.)"""
    return discord.utils.escape_markdown(text)


def attribution_line(record: GenerationRecord) -> str:
    """Subtext saying what the AI wrote, with which settings, and who prompted it."""
    params = record.params
    return (
        f"-# ✍ Written by AI ({record.model}) for <@{record.user_id}> · piece #{record.id}"
        f" · seed {record.seed} · temp {params.get('temperature', 0):g}"
        f" · top-p {params.get('top_p', 0):g} · top-k {params.get('top_k', 0)}"
    )


def piece_title(piece: Piece) -> str:
    """The bold first line of a result."""
    return f"**{discord.utils.escape_markdown(piece.spec.title())}**"


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
    """A streaming snapshot: the newest text that fits one message, with a cursor."""
    head = f"**{discord.utils.escape_markdown(title)}**\n"
    body = piece_body(text)
    room = MESSAGE_LIMIT - len(head) - len(STREAMING_CURSOR) - 2
    if len(body) > room:
        body = "…" + body[-(room - 1) :]
    return f"{head}{body}{STREAMING_CURSOR}"


def render_queue(title: str, position: int) -> str:
    """What a waiting user sees."""
    ahead = "you're next" if position == 1 else f"you're number {position} in the queue"
    return f"**{discord.utils.escape_markdown(title)}**\n⏳ Waiting for the writer — {ahead}…"


_ESCAPED = re.compile(r"\\([\\*_~|`>#\-\[\]()])")
MAX_LISTED_CHANNELS = 20


def piece_text_of(content: str) -> str:
    """The piece inside one of Inkwell's own result messages: without the bold title line,
    the attribution subtext and the escaping added by ``piece_body``."""
    lines = content.split("\n")
    if lines and lines[0].startswith("**") and lines[0].endswith("**"):
        lines = lines[1:]
    lines = [line for line in lines if not line.startswith("-# ✍")]
    return _ESCAPED.sub(r"\1", "\n".join(lines))


def channel_list(channel_ids: Iterable[int]) -> str:
    """Channel mentions for a message, at most ``MAX_LISTED_CHANNELS`` of them."""
    ids = sorted(channel_ids)
    shown = ", ".join(f"<#{c}>" for c in ids[:MAX_LISTED_CHANNELS])
    more = len(ids) - MAX_LISTED_CHANNELS
    return f"{shown} and {more} more" if more > 0 else shown
