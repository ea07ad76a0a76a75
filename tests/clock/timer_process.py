"""A process that fires due timers once, for the crash tests: ``python -m
tests.clock.timer_process DB EFFECTS MODE [SECONDS_LATER]``.

The kind ``note`` appends its firing to the EFFECTS file. MODE ``crash-after-claim`` dies
after the claim and before the effect; ``crash-after-effect`` dies after the effect and before
the timer is completed; ``normal`` fires and completes. A retried firing (attempts > 1) looks
for its own effect first, as a real handler must. SECONDS_LATER runs the process's clock that
far ahead, so a test can step past a lease without sleeping through it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.clock.dispatcher import Dispatcher, SystemClock, TimerKind
from bot.storage import Database, Timer

LEASE_SECONDS = 60.0


class LaterClock(SystemClock):
    """The system clock, ``offset`` seconds ahead."""

    def __init__(self, offset: float) -> None:
        self._offset = offset

    def now(self) -> float:
        return super().now() + self._offset


def record_once(effects: Path, firing: str, *, retried: bool) -> None:
    """The effect: one line per firing; a retry first checks the effect didn't happen."""
    if retried and effects.exists() and firing in effects.read_text().split():
        return
    with effects.open("a") as out:
        out.write(firing + "\n")


async def main(database_path: Path, effects: Path, mode: str, offset: float) -> None:
    database = await Database.open(database_path)

    async def note(timer: Timer) -> None:
        if mode == "crash-after-claim":
            os._exit(3)
        record_once(effects, f"{timer.id}@{timer.due_at}", retried=timer.attempts > 1)
        if mode == "crash-after-effect":
            os._exit(4)
        return None

    dispatcher = Dispatcher(database, LaterClock(offset))
    dispatcher.register(TimerKind("note", note, lease_seconds=LEASE_SECONDS))
    try:
        print(await dispatcher.run_due())
    finally:
        await database.close()


if __name__ == "__main__":
    offset = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], offset))
