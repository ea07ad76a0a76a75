"""The console as a destination of the write flow: a piece streamed to a terminal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TextIO

from bot.forms import fit_label
from bot.writing.destination import WriteUpdate


class ConsoleOutput:
    """Prints a piece as it is written, then its attribution (or why it wasn't saved)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    async def accept(self) -> None:
        """Nothing to acknowledge on a terminal."""

    async def deliver(self, title: str, updates: AsyncIterator[WriteUpdate]) -> None:
        """Print what is new in each update; the final text whole if clean-up changed it."""
        self._say(f"✍  {title}")
        printed = ""
        async for update in updates:
            if update.queue_position is not None:
                self._say(f"(waiting — number {update.queue_position} in the queue)")
                continue
            if update.text.startswith(printed):
                self._out.write(update.text[len(printed) :])
                printed = update.text
            elif update.piece is not None:
                self._out.write("\n\n— final version —\n" + update.text)
            self._out.flush()
            if update.piece is not None:
                piece, record = update.piece, update.record
                where = (
                    f"piece #{record.id} (/save to keep it, /remix {record.id} to vary it)"
                    if record is not None
                    else f"⚠ {update.unsaved_reason}"
                )
                fit = fit_label(piece.spec, piece.text)
                self._say(
                    f"\n— {fit + ' · ' if fit else ''}{piece.attribution()} · "
                    f"{piece.new_tokens} tokens in "
                    f"{piece.seconds:.1f} s · {where}\n"
                )

    async def stop(self, message: str) -> None:
        """Say why the piece stopped."""
        self._say(f"\n{message}")

    def _say(self, text: str) -> None:
        print(text, file=self._out, flush=True)
