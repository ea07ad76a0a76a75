"""/stats: owners everywhere; Manage Server for its own guild. (Reloading the model is the
owner's /owner reload-model.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import InkwellError
from bot.ops.model_state import ModelState, ModelStatus
from bot.ops.stats import StatsReport, Vitals
from cogs.access import is_bot_owner
from cogs.private import NO_PINGS, acknowledge

if TYPE_CHECKING:
    from cogs.client import InkwellBot

NOT_ALLOWED = (
    "/stats is for the bot's owner, or, for its own server, for members with the Manage Server "
    "permission."
)


class NotAllowed(InkwellError):
    """Neither an owner nor a Manage Server member in a guild."""


async def stats_scope(interaction: discord.Interaction) -> int | None:
    """Whose counts the member may see: None (every guild) for an owner, their guild's id
    for a Manage Server member there; anyone else is refused (checked here, not by hiding)."""
    if await is_bot_owner(interaction):
        return None
    if interaction.guild_id is not None and interaction.permissions.manage_guild:
        return interaction.guild_id
    raise NotAllowed(NOT_ALLOWED)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h {minutes} min"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds} s"


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def _writer(report: StatsReport) -> str:
    if report.state is ModelState.RESTING:
        return f"😴 resting: {report.reason or 'unknown reason'}"
    if report.state is ModelState.LOADING:
        return "⏳ loading"
    if report.state is ModelState.READY:
        return "✅ writing"
    return "unknown"


def render_stats(report: StatsReport) -> discord.Embed:
    """The snapshot as an embed."""
    where = "this server" if report.guild_id is not None else "all servers"
    recent = report.recent
    speed = "—" if recent.tokens_per_second is None else f"{recent.tokens_per_second:.1f}"
    embed = discord.Embed(title="Inkwell stats", colour=discord.Colour.blurple())
    embed.add_field(name="Uptime", value=_duration(report.uptime_seconds))
    embed.add_field(name="Model", value=f"{report.model}\n{report.engine}"[:1024])
    embed.add_field(name="Writer", value=_writer(report)[:1024], inline=False)
    embed.add_field(name="Queue", value=f"{report.running} writing · {report.waiting} waiting")
    embed.add_field(name="Tokens/s per piece (last hour)", value=speed)
    embed.add_field(
        name="Latency (last hour)",
        value=f"p50 {_seconds(recent.p50_seconds)} · p95 {_seconds(recent.p95_seconds)}\n"
        f"{recent.generations} piece(s)",
    )
    embed.add_field(name="Errors (last hour)", value=str(recent.errors))
    activity = report.activity
    embed.add_field(
        name=f"Running in {where}",
        value=f"{activity.games} game(s) · {activity.sprints} sprint(s) · "
        f"{activity.schedules} daily schedule(s)",
        inline=False,
    )
    return embed


def reload_outcome(status: ModelStatus) -> str:
    """What the owner is told once a reload ended."""
    if status.state is ModelState.READY:
        return "✅ The model is loaded again; the writer is back."
    return f"😴 The model still could not be loaded: {status.reason or 'unknown reason'}"


class Stats(commands.Cog):
    """Operations: how the bot is doing."""

    def __init__(self, vitals: Vitals) -> None:
        self._vitals = vitals

    @app_commands.command(
        name="stats", description="How Inkwell is doing (owner, or Manage Server)"
    )
    async def stats(self, interaction: discord.Interaction) -> None:
        """Uptime, model, queue, speed, latency, errors and what is running."""
        scope = await stats_scope(interaction)
        await acknowledge(interaction)  # the counts are database reads
        report = await self._vitals.report(scope)
        await interaction.followup.send(
            embed=render_stats(report), ephemeral=True, allowed_mentions=NO_PINGS
        )


async def setup(bot: InkwellBot) -> None:
    """Load the cog with the bot's vitals."""
    await bot.add_cog(Stats(bot.vitals))
