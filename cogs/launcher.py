"""Start Inkwell on Discord, or sync its commands: building the resources and handing them in."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import discord

from bot.config import Settings, discord_token
from bot.errors import InkwellError
from bot.generation.service import GenerationService
from bot.storage import Database
from bot.writing.fairness import UserGate
from bot.writing.flow import Studio
from bot.writing.pieces import WritingService
from cogs.client import InkwellBot

log = logging.getLogger(__name__)

NO_TOKEN = (
    "No Discord token found. Set INKWELL_DISCORD_TOKEN (or DISCORD_TOKEN) in the "
    "environment; see README → Running on Discord."
)


@asynccontextmanager
async def _built_bot(settings: Settings, *, load_model: bool) -> AsyncIterator[InkwellBot]:
    database = await Database.open(Path(settings.storage.database))
    generation = GenerationService(settings.model, settings.generation)
    try:
        if load_model:
            await generation.start(
                lambda stage, fraction: log.info("Model: %s (%.0f%%)", stage, 100 * (fraction or 0))
            )
        studio = Studio(
            WritingService(generation),
            database,
            UserGate(),
            cooldown_seconds=settings.discord.cooldown_seconds,
        )
        bot = InkwellBot(settings=settings, studio=studio, database=database)
        async with bot:
            yield bot
    finally:
        await generation.close()
        await database.close()


@asynccontextmanager
async def _explained_connection_errors() -> AsyncIterator[None]:
    try:
        yield
    except discord.LoginFailure:
        raise InkwellError(
            "Discord refused the token. Check INKWELL_DISCORD_TOKEN (Developer "
            "Portal → your application → Bot → Reset Token)."
        ) from None
    except aiohttp.ClientConnectionError as error:
        raise InkwellError(f"Could not reach Discord ({error}). Check the network.") from None


async def run_bot(settings: Settings) -> None:
    """Serve Discord until interrupted."""
    token = discord_token()
    if token is None:
        raise InkwellError(NO_TOKEN)
    async with _built_bot(settings, load_model=True) as bot, _explained_connection_errors():
        await bot.start(token)


async def sync_commands(settings: Settings, guild_id: int | None) -> list[str]:
    """Publish the slash commands globally (can take up to an hour to show) or to one guild
    (instant); returns the synced command names."""
    token = discord_token()
    if token is None:
        raise InkwellError(NO_TOKEN)
    async with _built_bot(settings, load_model=False) as bot, _explained_connection_errors():
        await bot.login(token)
        guild = discord.Object(guild_id) if guild_id else None
        if guild is not None:
            bot.tree.copy_global_to(guild=guild)
        synced = await bot.tree.sync(guild=guild)
        return [command.name for command in synced]
