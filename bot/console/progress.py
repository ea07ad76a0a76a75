"""A terminal progress bar for model loading, safe to update from the loader's thread.

On a terminal the bar redraws in place and an elapsed-seconds counter keeps moving during long
stages (the one-time GGUF conversion takes ~15 s); elsewhere each stage is one plain line.
"""

from __future__ import annotations

import threading
import time
from typing import TextIO

BAR_WIDTH = 24
REDRAW_SECONDS = 0.2


class TerminalProgress:
    """Call the instance as a ``ProgressCallback``; call ``close()`` when loading ends."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._live = stream.isatty()
        self._stage = "Starting"
        self._fraction = 0.0
        self._started = time.perf_counter()
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._ticker: threading.Thread | None = None
        if self._live:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    def __call__(self, stage: str, fraction: float | None) -> None:
        with self._lock:
            self._stage = stage
            if fraction is not None:
                self._fraction = max(0.0, min(1.0, fraction))
            if self._live:
                self._draw()
            else:
                self._stream.write(f"[{self._fraction * 100:3.0f}%] {stage}\n")
                self._stream.flush()

    def close(self) -> None:
        """Stop redrawing and leave the cursor on a fresh line."""
        self._done.set()
        if self._ticker is not None:
            self._ticker.join()
            with self._lock:
                self._draw()
                self._stream.write("\n")
                self._stream.flush()

    def _tick(self) -> None:
        while not self._done.wait(REDRAW_SECONDS):
            with self._lock:
                self._draw()

    def _draw(self) -> None:
        filled = round(self._fraction * BAR_WIDTH)
        bar = "█" * filled + "░" * (BAR_WIDTH - filled)
        elapsed = time.perf_counter() - self._started
        self._stream.write(
            f"\r\x1b[2K{bar} {self._fraction * 100:3.0f}%  {self._stage}  ({elapsed:.1f} s)"
        )
        self._stream.flush()
