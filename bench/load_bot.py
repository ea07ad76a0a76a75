"""``python -m bot run`` for the load test: ``python -m bench.load_bot REST_BASE GATEWAY CONFIG``.

The same as ``tests.cogs.bot_process`` (the real entry point, with only Discord's two
endpoints pointed at the fake), plus a probe on the bot's own event loop: every second it
prints ``inkwell-load: loop late max X s`` with the longest it woke up late, so the load
test can tell a bot whose loop is starved from a slow database or a slow fake.
"""

from __future__ import annotations

import asyncio
import sys

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.__main__ import main
from cogs.client import InkwellBot

LAG_MARK = "inkwell-load: loop late max"
TICK = 0.05


async def _probe() -> None:
    loop = asyncio.get_running_loop()
    while True:
        worst, window_ends = 0.0, loop.time() + 1.0
        while loop.time() < window_ends:
            planned = loop.time() + TICK
            await asyncio.sleep(TICK)
            worst = max(worst, loop.time() - planned)
        print(f"{LAG_MARK} {worst:.3f} s", flush=True)


def _with_probe() -> None:
    setup_hook = InkwellBot.setup_hook
    probes: set[asyncio.Task[None]] = set()

    async def setup_hook_with_probe(self: InkwellBot) -> None:
        probes.add(asyncio.create_task(_probe(), name="inkwell-load-probe"))
        await setup_hook(self)

    InkwellBot.setup_hook = setup_hook_with_probe  # type: ignore[method-assign]


if __name__ == "__main__":
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = sys.argv[1], yarl.URL(sys.argv[2])
    _with_probe()
    sys.exit(main(["--config", sys.argv[3], "run"]))
