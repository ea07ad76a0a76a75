"""Reading a server's streamed candidates: their texts, the request's stop rule applied to
each as it grows, and why each ended."""

from __future__ import annotations

from typing import Any

from bot.generation.remote.wire import chunk_texts
from bot.generation.types import FinishReason, StopRule

_REASONS = {"length": FinishReason.LENGTH, "stop": FinishReason.EOS}


async def next_chunk(stream: Any) -> Any | None:
    """The stream's next chunk, or None at its end."""
    try:
        return await stream.__anext__()
    except StopAsyncIteration:
        return None


class CandidateStreams:
    """The ``count`` candidates of one request as their chunks arrive. Candidate 0 is the one
    shown while writing; the choice among them is made when all have ended."""

    def __init__(self, count: int, *, chat: bool, stop: StopRule | None) -> None:
        self._chat = chat
        self._stop = stop
        self.texts = [""] * count
        self._reasons: list[FinishReason | None] = [None] * count
        self._chunks = [0] * count
        self._usage: Any = None
        self.started = False  # some text has arrived: a retry now would start the piece over

    @property
    def all_finished(self) -> bool:
        """Every candidate has ended (its stop rule cut it, or the server ended it)."""
        return all(reason is not None for reason in self._reasons)

    @property
    def shown_text(self) -> str:
        """The text to show while writing."""
        return self.texts[0]

    @property
    def prompt_tokens(self) -> int:
        """The prompt's length in tokens, if the server said (0 if not)."""
        return int(getattr(self._usage, "prompt_tokens", 0) or 0)

    def take(self, chunk: Any) -> None:
        """Add one chunk's text to its candidates."""
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self._usage = usage
        for index, piece, reason in chunk_texts(chunk, chat=self._chat):
            if index >= len(self.texts) or self._reasons[index] is not None:
                continue  # a candidate we cut already writes on until the server stops it
            if piece:
                self.started = True
                self._chunks[index] += 1
                text = self.texts[index] + piece
                # As the local engine: a character split across tokens waits to be whole.
                cut = self._stop(text.rstrip("\ufffd")) if self._stop is not None else None
                if cut is not None:
                    self.texts[index] = text[:cut]
                    self._reasons[index] = FinishReason.STOP
                    continue
                self.texts[index] = text
            if reason is not None:
                self._reasons[index] = _REASONS.get(reason, FinishReason.EOS)

    def finish_reason(self, index: int) -> FinishReason:
        """Why candidate ``index`` ended; a stream that just ends counts as the model's end."""
        return self._reasons[index] or FinishReason.EOS

    def new_tokens(self, index: int) -> int:
        """Tokens candidate ``index`` wrote: the server's count for a single candidate that
        ran to its end, else one per chunk (servers stream a token a chunk)."""
        reported = getattr(self._usage, "completion_tokens", None)
        if len(self.texts) == 1 and reported and self._reasons[0] is not FinishReason.STOP:
            return int(reported)
        return self._chunks[index]
