"""Fixtures: a real SQLite file in a temp dir, and a clock that ticks predictably."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import Database
from tests.storage.factories import TickingClock


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "inkwell.db"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(db_path, clock=TickingClock())
    try:
        yield database
    finally:
        await database.close()
