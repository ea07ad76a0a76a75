"""Child process for the timer race: claims every due timer it can, the moment it is told to.

Usage: python -m tests.storage.timer_claimer DB_PATH

Prints "ready" once the database is open, waits for a line on stdin (so every claimer starts
at the same instant), tries to claim each due timer, and prints the ids of those it won.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.storage import Database

NOW = 1_000.0


async def main(path: Path) -> None:
    async with await Database.open(path) as database:
        due = await database.timers.due(NOW, 100)
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        won = []
        for timer in due:
            claimed = await database.timers.claim(timer, NOW, lease_seconds=60)
            if claimed is not None:
                won.append(claimed.id)
    print(*won, flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
