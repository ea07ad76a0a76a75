"""``python -m bot reload-model``: ask the running bot to load its model again.

The bot's heartbeat file names its pid; this sends it SIGHUP (the usual "reload" signal) and,
with ``wait``, follows the heartbeat until a beat shows the attempt has ended. A signal
reaches a process on this host only: each process (each shard group) is asked through its own
heartbeat file, i.e. with its own ``--config``; ``--pid`` names one directly.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from bot.errors import InkwellError
from bot.ops.heartbeat import RUNNING, read_beat

RELOAD_SIGNAL = signal.SIGHUP


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """What became of the request: ``state`` is the model's state as the last beat said
    (None when not waited for), with the reason it rests."""

    pid: int
    state: str | None
    reason: str | None

    @property
    def ready(self) -> bool:
        """The model is loaded (or was not waited for: the request was sent)."""
        return self.state in (None, "ready")


def _heartbeat_path(settings: Settings) -> Path:
    if not settings.health.heartbeat_file:
        raise InkwellError(
            "health.heartbeat_file is off, so I can't find the running bot: pass --pid."
        )
    return Path(settings.health.heartbeat_file)


def _running_pid(path: Path) -> tuple[int, int]:
    """The bot's pid and its load attempts so far, from its heartbeat."""
    try:
        beat = read_beat(path)
    except (OSError, ValueError) as error:
        message = f"No readable heartbeat at {path} ({error}): is the bot running?"
        raise InkwellError(message) from None
    if beat.get("state") != RUNNING or not isinstance(beat.get("pid"), int):
        raise InkwellError(f"The heartbeat at {path} says the bot is not running.")
    return int(beat["pid"]), int(beat.get("model_attempts") or 0)


def request_reload(
    settings: Settings,
    *,
    pid: int | None = None,
    wait: float = 0.0,
    clock: Callable[[], float] = time.monotonic,
) -> ReloadOutcome:
    """Signal the bot; with ``wait`` > 0 (and the heartbeat on), wait that long for the
    attempt to end. Raises ``InkwellError`` with the reason when the bot can't be asked."""
    path = _heartbeat_path(settings) if pid is None or wait > 0 else None
    attempts = 0
    if pid is None:
        assert path is not None
        pid, attempts = _running_pid(path)
    elif path is not None:
        attempts = _running_pid(path)[1]
    try:
        os.kill(pid, RELOAD_SIGNAL)
    except ProcessLookupError:
        raise InkwellError(f"There is no process {pid}: the bot is not running.") from None
    except PermissionError:
        raise InkwellError(f"Not allowed to signal process {pid}: run as the bot's user.") from None
    if wait <= 0 or path is None:
        return ReloadOutcome(pid, None, None)
    deadline = clock() + wait
    while clock() < deadline:
        time.sleep(min(0.2, settings.health.heartbeat_interval))
        try:
            beat = read_beat(path)
        except (OSError, ValueError):
            continue  # being replaced, or the bot is stopping: look again
        state = beat.get("model_state")
        if int(beat.get("model_attempts") or 0) > attempts and state != "loading":
            return ReloadOutcome(pid, str(state), beat.get("model_reason"))
    raise InkwellError(
        f"Asked process {pid} to reload; the model was still loading after {wait:g} s. "
        "See /stats or the log."
    )
