"""The heartbeat: a small JSON file the running bot rewrites every few seconds, so that
``python -m bot health`` (Docker's HEALTHCHECK, a systemd timer, a person) can tell whether
it is alive without talking to it.

The file is written by a task on the bot's event loop, so a loop that is blocked stops the
beats as surely as a dead process does. Each write is atomic (a temporary file renamed over
the old one): a reader never sees half a heartbeat. On a clean stop the last beat says
``"state": "stopped"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

RUNNING, STOPPED = "running", "stopped"

# What the bot reports at each beat: {"discord": "connected" | "connecting", ...}.
StatusSource = Callable[[], dict[str, Any]]


def write_beat(path: Path, beat: dict[str, Any]) -> None:
    """Replace ``path`` with ``beat`` in one step."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(beat, file)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


class Heartbeat:
    """Writes ``status()`` plus the pid, the time and the state to ``path`` every
    ``interval`` seconds from ``start`` until ``close``."""

    def __init__(
        self,
        path: Path,
        interval: float,
        status: StatusSource,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._path = path
        self._interval = interval
        self._status = status
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    def beat(self, state: str = RUNNING) -> None:
        """Write one beat now; a failure is logged, never raised (the bot keeps serving, and
        the health check sees the heartbeat go stale)."""
        try:
            status = self._status()
        except Exception:  # a beat that cannot say how the bot is reads as unhealthy
            log.exception("The heartbeat could not read the bot's status")
            status = {"discord": "unknown (status failed)"}
        beat = {"pid": os.getpid(), "time": self._clock(), "state": state, **status}
        try:
            write_beat(self._path, beat)
        except OSError as error:
            log.warning("Could not write the heartbeat %s: %s", self._path, error)

    def start(self) -> None:
        """Beat now, then every ``interval`` seconds."""
        if self._task is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._task = asyncio.create_task(self._run(), name="inkwell-heartbeat")

    async def _run(self) -> None:
        while True:
            self.beat()
            await asyncio.sleep(self._interval)

    async def close(self) -> None:
        """Stop beating and leave a last beat that says the bot stopped."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            self.beat(STOPPED)


def read_beat(path: Path) -> dict[str, Any]:
    """The last beat written to ``path``; raises ``OSError`` or ``ValueError``."""
    beat = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(beat, dict) or not isinstance(beat.get("time"), int | float):
        raise ValueError("not a heartbeat")
    return beat
