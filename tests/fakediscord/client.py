"""Run a real discord.py client against a FakeDiscord (no pytest import: benches can use it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TypeVar

import discord

from .server import FakeDiscord

ClientT = TypeVar("ClientT", bound=discord.Client)


class _ErrorCapture(logging.Handler):
    """Collects ERROR records from discord.py: it *logs* exceptions raised in commands, views and
    event handlers instead of propagating them, so without this a broken callback looks like a
    silent timeout in the test."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def format_errors(records: list[logging.LogRecord]) -> str:
    formatter = logging.Formatter("%(name)s: %(message)s")
    return "\n".join(formatter.format(r) for r in records)


@contextlib.asynccontextmanager
async def run_client(
    client: ClientT,
    server: FakeDiscord,
    *,
    token: str = "fake-token",
    ready_timeout: float = 10.0,
    fail_on_error_logs: bool = True,
    error_loggers: tuple[str, ...] = ("discord",),
) -> AsyncIterator[ClientT]:
    """Start ``client.start(token)`` as a task, wait for ``on_ready``, close cleanly on exit.

    Pass ``guild_ready_timeout=0.05`` (a real Client option) when building the client, otherwise
    discord.py waits 2 s after the last GUILD_CREATE before READY. To test a bot *restart*, exit
    this context and enter it again with a fresh client on the same server: stored messages
    (and their components) survive, the gateway session does not.
    ERROR logs from ``error_loggers`` (add your cogs' loggers) during the block are collected
    in ``server.client_errors`` and, with ``fail_on_error_logs``, fail the test on exit.
    """
    capture = _ErrorCapture()
    loggers = [logging.getLogger(name) for name in error_loggers]
    for logger in loggers:
        logger.addHandler(capture)
    task = asyncio.create_task(client.start(token), name="fakediscord-client")
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ready_timeout
        while not client.is_ready():
            if task.done():
                task.result()  # re-raise a login/connect failure
                raise RuntimeError("client.start() returned before READY")
            if loop.time() >= deadline:
                raise TimeoutError(f"client not ready within {ready_timeout}s")
            await asyncio.sleep(0.01)
        yield client
    finally:
        await client.close()
        try:
            await asyncio.wait_for(task, timeout=5.0)
        except asyncio.CancelledError:
            pass
        finally:
            for logger in loggers:
                logger.removeHandler(capture)
            server.client_errors.extend(capture.records)
    if fail_on_error_logs and capture.records:
        raise AssertionError("discord.py logged errors:\n" + format_errors(capture.records))
