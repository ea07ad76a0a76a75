"""Holds Inkwell's instance lock in a process of its own until killed, for the lock tests.

``python -m tests.storage.lock_holder LOCATION TOKEN [COUNT IDS]`` (IDS like ``0,1``; no
COUNT for an unsharded bot); prints ``held`` once it has the lock, or the refusal and exits 3.
"""

from __future__ import annotations

import asyncio
import sys

from bot.shards import ShardGroup
from bot.storage.instance_lock import AlreadyRunning, hold_instance_lock


async def hold(location: str, token: str, group: ShardGroup | None) -> int:
    try:
        async with hold_instance_lock(location, token, group):
            print("held", flush=True)
            await asyncio.Event().wait()  # until killed
    except AlreadyRunning as error:
        print(error.user_message, flush=True)
        return 3
    return 0


def main(argv: list[str]) -> int:
    location, token = argv[0], argv[1]
    group = None
    if len(argv) > 2:
        group = ShardGroup.of(int(argv[2]), [int(i) for i in argv[3].split(",")])
    return asyncio.run(hold(location, token, group))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
