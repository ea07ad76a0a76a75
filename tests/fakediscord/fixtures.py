"""pytest fixtures. Import them from a conftest: ``from tests.fakediscord.fixtures import *``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from .client import run_client
from .server import FakeDiscord

__all__ = ["fake_discord", "run_client"]


@pytest_asyncio.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started FakeDiscord with discord.py's REST base and gateway patched to it.

    Teardown fails the test if the fake's own handlers crashed (a bug here, not in the bot).
    """
    async with FakeDiscord() as server:
        yield server
    assert not server.internal_errors, "\n".join(server.internal_errors)
