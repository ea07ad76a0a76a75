"""The whole Inkwell stack (tiny model, real SQLite, real discord.py) against the fake Discord."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.clock.dispatcher import Dispatcher
from bot.config import (
    DiscordSettings,
    GenerationSettings,
    LimitsSettings,
    ModelSettings,
    Settings,
    VoiceSettings,
)
from bot.generation.service import GenerationService
from bot.storage import Database
from bot.writing.fairness import FairnessGate
from bot.writing.flow import WriteFlow
from bot.writing.pieces import WritingService
from cogs.client import InkwellBot
from tests.fakediscord import FakeDiscord
from tests.fakediscord.fixtures import fake_discord  # noqa: F401  (pytest fixture)

# Every command a synced Inkwell must publish (the library commands come on top).
CORE_COMMANDS = frozenset(
    {"poem", "story", "script", "continue", "generate", "help", "settings", "Continue with Inkwell"}
)


@dataclass
class Stack:
    server: FakeDiscord
    make_bot: Callable[[], InkwellBot]
    database: Database
    generation: GenerationService
    flow: WriteFlow


def stack_settings(model_dir: str, **generation: int) -> Settings:
    return Settings(
        model=ModelSettings(name=model_dir),
        generation=GenerationSettings(
            **{"max_new_tokens_cap": 48, "max_prompt_tokens": 96, **generation}
        ),
        # Validation keeps real configs at >= 0.5 s; tests edit faster to see streaming.
        discord=DiscordSettings(cooldown_seconds=0.0, stream_edit_interval=0.01),
    )


@contextlib.asynccontextmanager
async def build_stack(
    model_dir: Path,
    tmp_path: Path,
    server: FakeDiscord,
    limits: LimitsSettings | None = None,
    **generation_settings: int,
) -> AsyncIterator[Stack]:
    """The stack with its own generation limits (batch size, queue length, token cap) and, if
    given, its own command limits."""
    settings = dataclasses.replace(
        stack_settings(str(model_dir), **generation_settings),
        voice=VoiceSettings(adapters_dir=str(tmp_path / "voices")),
        limits=limits or LimitsSettings(),
    )
    generation = GenerationService(settings.model, settings.generation, settings.voice)
    await generation.start()
    database = await Database.open(tmp_path / "inkwell.db")
    flow = WriteFlow(
        WritingService(generation),
        database,
        FairnessGate(database, max_per_guild=settings.generation.max_per_guild),
        cooldown_seconds=settings.discord.cooldown_seconds,
    )

    def make_bot() -> InkwellBot:
        return InkwellBot(
            settings=settings,
            flow=flow,
            database=database,
            clock=Dispatcher(database),
            guild_ready_timeout=0.05,
        )

    try:
        yield Stack(server, make_bot, database, generation, flow)
    finally:
        await generation.close()
        await database.close()


@pytest.fixture
async def stack(tiny_gpt2_dir, tmp_path, fake_discord) -> AsyncIterator[Stack]:  # noqa: F811
    async with build_stack(tiny_gpt2_dir, tmp_path, fake_discord) as built:
        yield built
