"""A FakeDiscord on its own event loop in a background thread, for code that runs
``asyncio.run()`` itself (the command line) and so cannot share the test's loop."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

from .server import FakeDiscord

T = TypeVar("T")


class ThreadedFakeDiscord:
    """Owns the loop and thread; :meth:`call` runs a coroutine of the server on that loop."""

    def __init__(self, server: FakeDiscord, timeout: float) -> None:
        self.server = server
        self.timeout = timeout
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="fakediscord", daemon=True
        )

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` (e.g. ``server.add_private_channel(...)``) on the server's loop."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(self.timeout)


@contextlib.contextmanager
def serve_in_thread(
    server: FakeDiscord | None = None, *, timeout: float = 10.0
) -> Iterator[ThreadedFakeDiscord]:
    """Start ``server`` (default: a fresh FakeDiscord) in a background thread and patch
    discord.py's endpoints to it until the block ends.

    Read ``.server`` after the code under test has returned: the fake's state is only
    changed on its own thread, and nothing else runs there once the client has gone.
    """
    running = ThreadedFakeDiscord(server or FakeDiscord(), timeout)
    running.thread.start()
    try:
        running.call(running.server.start())
        try:
            with running.server.patched():
                yield running
        finally:
            running.call(running.server.stop())
    finally:
        running.loop.call_soon_threadsafe(running.loop.stop)
        running.thread.join(timeout)
        running.loop.close()
