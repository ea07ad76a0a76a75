"""Where a piece is delivered: an interaction's reply, a post in a channel, or the console.

The write flow hands a destination the stream of updates for one piece; the destination
decides how to show them (edits at most once a second on Discord, plain text on a terminal).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from bot.errors import InkwellError
from bot.storage import GenerationRecord
from bot.writing.pieces import Piece


@dataclass(frozen=True)
class WriteUpdate:
    """``queue_position`` while waiting, ``text`` while writing. At the end ``piece``, with
    the stored ``record``, or ``record=None`` and ``unsaved_reason`` when storing failed (the
    text is still shown: a finished piece is never thrown away)."""

    text: str = ""
    queue_position: int | None = None
    piece: Piece | None = None
    record: GenerationRecord | None = None
    unsaved_reason: str | None = None


class Destination(Protocol):
    """Somewhere a piece can be shown."""

    async def accept(self) -> None:
        """The request was admitted: acknowledge it now (defer, post a placeholder)."""
        ...

    async def deliver(self, title: str, updates: AsyncIterator[WriteUpdate]) -> None:
        """Show the updates as they come, and the finished piece at the end."""
        ...

    async def stop(self, message: str) -> None:
        """The piece was stopped before it finished (shutdown): say so, best effort."""
        ...


class DestinationGone(InkwellError):
    """The destination can no longer be written to (the channel was deleted, or the bot may
    no longer post there): whatever posts there should pause, not retry forever."""
