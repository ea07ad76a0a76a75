"""Start Inkwell on Discord, or sync its commands: building the resources and handing them in.

``run_bot`` serves until SIGTERM or SIGINT, then shuts down in order: stop taking new pieces
(a kind reply to anyone who asks), let running pieces finish within
``discord.shutdown_grace_seconds`` or stop them with a message, close the Discord client, then
the database, then the model. The clock claims no new timers from the first moment; a timer
cut short is retried after its lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import signal
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import discord

from bot.clock.dispatcher import Dispatcher
from bot.config import DiscordSettings, Settings, discord_token, openai_api_key
from bot.errors import InkwellError
from bot.generation.backends import build_generation_service
from bot.ops.interactions import InteractionLog
from bot.ops.metered import MeteredGeneration
from bot.ops.model_state import RestingGeneration
from bot.ops.recent import RecentWindow, WindowedGeneration
from bot.ops.runtime import Operations, build_metrics
from bot.ops.stats import Vitals
from bot.shards import ShardGroup
from bot.storage import Database
from bot.storage.instance_lock import hold_instance_lock
from bot.writing.fairness import FairnessGate
from bot.writing.flow import WriteFlow
from bot.writing.pieces import WritingService
from cogs.client import InkwellBot

log = logging.getLogger(__name__)

NO_TOKEN = (
    "No Discord token found. Set INKWELL_DISCORD_TOKEN (or DISCORD_TOKEN) in the "
    "environment; see README → Running on Discord."
)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# `python -m bot reload-model` sends it (to the pid in the heartbeat): load the model again.
RELOAD_SIGNAL = signal.SIGHUP


def shard_group(settings: DiscordSettings) -> ShardGroup | None:
    """The shards this process holds, when it holds only some of them (else None: all)."""
    if not settings.shard_ids:
        return None
    return ShardGroup.of(settings.shard_count, settings.shard_ids)


def process_name(settings: DiscordSettings) -> str:
    """What this process is called in the shared fairness state: the same on every start, so a
    restart frees what the crashed run held, and different for each shard group."""
    group = shard_group(settings)
    return f"{socket.gethostname()} {'all shards' if group is None else group.name}"


@asynccontextmanager
async def _built_bot(settings: Settings, *, load_model: bool) -> AsyncIterator[InkwellBot]:
    database = await Database.open(settings.storage.location(), quotas=settings.limits.quotas())
    # Metrics and the heartbeat belong to a serving bot, not to `sync`.
    metrics = build_metrics(settings) if load_model else None
    recent = RecentWindow()
    backend = build_generation_service(settings)
    if metrics is not None:
        backend = MeteredGeneration(backend, metrics)
    # Outermost, so that a resting writer's refusals are not counted as generations: a model
    # that fails to load leaves the bot up, and /stats and the log say why.
    generation = RestingGeneration(
        WindowedGeneration(backend, recent), secrets=(discord_token(), openai_api_key())
    )
    try:
        if load_model:
            await generation.start(
                lambda stage, fraction: log.info("Model: %s (%.0f%%)", stage, 100 * (fraction or 0))
            )
        gate = FairnessGate(
            database,
            holder=process_name(settings.discord),
            max_per_guild=settings.generation.max_per_guild,
        )
        if load_model:  # serving, not just syncing: what a crashed run held is free again
            await gate.recover()
        flow = WriteFlow(
            WritingService(generation),
            database,
            gate,
            cooldown_seconds=settings.discord.cooldown_seconds,
        )
        clock = Dispatcher(database, shards=shard_group(settings.discord))
        bot = InkwellBot(
            settings=settings,
            flow=flow,
            database=database,
            clock=clock,
            interactions=InteractionLog(metrics, recent),
            vitals=Vitals(
                settings=settings,
                database=database,
                recent=recent,
                model=generation,
                health=generation.health,
            ),
        )
        operations = Operations(settings, metrics, lambda: _status(bot, generation))
        try:
            if load_model:
                await operations.start()
            yield bot
        finally:
            # No new timers are claimed; pieces (a timer's too) finish or are stopped while
            # the client can still tell people; then the clock, then the client.
            clock.stop_claiming()
            await flow.close(settings.discord.shutdown_grace_seconds)
            await clock.close()
            await bot.close()
            await operations.close()
    finally:
        await database.close()
        await generation.close()


def _status(bot: InkwellBot, generation: RestingGeneration) -> dict[str, object]:
    """What each heartbeat reports: the gateway connection, the model and the queue."""
    # Sharded: connected when every shard this process runs has its gateway open.
    shards = list(bot.shards.values())
    connected = bot.is_ready() and not bot.is_closed() and bool(shards)
    connected = connected and not any(shard.is_closed() for shard in shards)
    health = generation.health()
    latency = bot.latency
    return {
        "discord": "connected" if connected else "connecting",
        "gateway_latency_ms": round(latency * 1000) if math.isfinite(latency) else None,
        "model_ready": bool(health.get("ready")),
        "model_state": generation.status.state.value,
        "model_reason": generation.status.reason,
        "model_attempts": generation.status.attempts,
        "running": int(health.get("running", 0)),
        "waiting": int(health.get("waiting", 0)),
    }


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
    """Serve Discord until SIGTERM or SIGINT, then shut down gracefully."""
    token = discord_token()
    if token is None:
        raise InkwellError(NO_TOKEN)
    # Before the model loads or anything connects: a second process must cost nothing.
    async with hold_instance_lock(
        settings.storage.location(), token, shard_group(settings.discord)
    ):
        await _serve(settings, token)


async def _serve(settings: Settings, token: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    try:
        async with _built_bot(settings, load_model=True) as bot, _explained_connection_errors():
            reloads: set[asyncio.Task[None]] = set()

            def reload() -> None:
                task = asyncio.create_task(_reload_model(bot), name="reload-model")
                reloads.add(task)
                task.add_done_callback(reloads.discard)

            loop.add_signal_handler(RELOAD_SIGNAL, reload)
            serving = asyncio.create_task(bot.start(token), name="discord-client")
            stopping = asyncio.create_task(stop.wait(), name="stop-signal")
            await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if serving.done():
                serving.result()  # the client ended on its own: raise its error, if any
                return
            log.info("Stop signal received: finishing pieces, then closing")
            # _built_bot closes the flow, then the client; the client task then ends.
        with contextlib.suppress(asyncio.CancelledError):
            await serving
    finally:
        for signum in (*STOP_SIGNALS, RELOAD_SIGNAL):
            loop.remove_signal_handler(signum)


async def _reload_model(bot: InkwellBot) -> None:
    """Answer the reload signal: try the model again, and log how it went."""
    log.info("Reload signal received: loading the model again")
    try:
        status = await bot.vitals.reload_model()
    except InkwellError as refusal:
        log.warning("Reload signal ignored: %s", refusal.user_message)
        return
    except Exception:  # a task nobody awaits: its failure must reach the log
        log.exception("Model reload failed")
        return
    log.info(
        "Model reload finished: %s%s",
        status.state.value,
        f" ({status.reason})" if status.reason else "",
    )


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
