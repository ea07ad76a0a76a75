"""Child process for the concurrent-open test: opens one database the moment it is told to.

Usage: python -m tests.storage.open_racer DB_PATH (upgrade|open)

Prints "ready" once imported, waits for a line on stdin (so every racer starts at the same
instant), then runs `upgrade` (the `db upgrade` CLI's call) or `Database.open` (the bot's)
and prints "<version before> <version after>" as that process saw them.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from bot.storage import Database, upgrade


class _Upgrades(logging.Handler):
    """Collects the (before, after) that `Database.open` logs when it migrated the file."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, int]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "upgraded from version" in record.msg:
            _, before, after = record.args  # type: ignore[misc]
            self.seen.append((before, after))


async def main(path: Path, mode: str) -> None:
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    if mode == "upgrade":
        before, after = await upgrade(path)
    else:
        upgrades = _Upgrades()
        logger = logging.getLogger("bot.storage.database")
        logger.setLevel(logging.INFO)
        logger.addHandler(upgrades)
        async with await Database.open(path) as database:
            after = await database.schema_version()
        before, _ = upgrades.seen[0] if upgrades.seen else (after, after)
    print(before, after, flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))
