"""Test data builders shared by the storage tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.storage import Database, GenerationRecord, NewGeneration

START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class TickingClock:
    """Each call returns one second later than the last, so order is visible in times."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def new_generation(**overrides: Any) -> NewGeneration:
    """A plausible piece; override any field."""
    fields: dict[str, Any] = {
        "user_id": 111,
        "user_name": "Ada",
        "guild_id": 900,
        "channel_id": 901,
        "form": "poem",
        "poem_form": "haiku",
        "genre": None,
        "prompt": "autumn rain",
        "params": {"temperature": 0.8, "top_p": 0.95, "top_k": 50, "max_new_tokens": 120},
        "seed": 1234,
        "model": "tiny-model",
        "text": "rain on the tin roof\n",
        "parent_id": None,
    }
    fields.update(overrides)
    return NewGeneration(**fields)


async def add_piece(db: Database, **overrides: Any) -> GenerationRecord:
    """Store a piece made by `new_generation(**overrides)`."""
    return await db.generations.add(new_generation(**overrides))
