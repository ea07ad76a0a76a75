"""Child process for the crash test: writes until it is SIGKILLed.

Usage: python -m tests.storage.crash_writer DB_PATH

Each loop iteration is one user action (a piece, a favourite of it, a saved prompt)
in one transaction. Only after the transaction has committed does it print
"<user> <generation id> <favorite id> <prompt id>", flushed: that line is the
acknowledgement the parent holds the database to.
"""

from __future__ import annotations

import asyncio
import sys
from itertools import count
from pathlib import Path

from bot.storage import Database
from tests.storage.factories import new_generation


async def main(path: Path) -> None:
    db = await Database.open(path)
    for user in count(1):
        async with db.transaction():
            piece = await db.generations.add(new_generation(user_id=user, text="x" * 2000))
            # Yield between statements so the kill can land mid-transaction too.
            await asyncio.sleep(0)
            favorite = await db.favorites.add(user, piece.id)
            await asyncio.sleep(0)
            prompt = await db.prompts.save(user, f"prompt {user}", "y" * 500, "poem")
        print(user, piece.id, favorite.favorite.id, prompt.id, flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
