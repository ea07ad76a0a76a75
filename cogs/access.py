"""Who may see which piece on Discord: channel access from discord.py's own permission maths.

``may_see`` in ``bot.library.visibility`` holds the rule; this module answers its one question
("may this member view that channel?") from the guild cache, with the member's roles and the
channel's permission overwrites. A thread counts as its parent channel, except that a private
thread is seen only by its members (asked of Discord) and those who may manage threads. A
channel that is gone, or a guild other than the one the member is asking in, counts as not
viewable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.library.visibility import ChannelAccess, may_see, not_visible
from bot.storage import GenerationRecord
from bot.writing.flow import WriteFlow

T = TypeVar("T")


class OwnerOnly(app_commands.CheckFailure):
    """An owner command was used by someone who is not one of the bot's owners."""

    user_message = "Only the bot's owner may use that command."


def channel_access(interaction: discord.Interaction) -> ChannelAccess | None:
    """How to check channels for the member behind ``interaction`` (None outside a guild)."""
    guild = interaction.guild
    member = interaction.user
    if guild is None or not isinstance(member, discord.Member):
        return None

    async def can_view(guild_id: int, channel_id: int) -> bool:
        if guild_id != guild.id:
            return False
        channel = guild.get_channel_or_thread(channel_id)
        if channel is None:
            # Archived threads are not cached: ask Discord once.
            try:
                fetched = await guild.fetch_channel(channel_id)
            except (discord.NotFound, discord.Forbidden):
                return False
            channel = (
                fetched if isinstance(fetched, discord.abc.GuildChannel | discord.Thread) else None
            )
        if isinstance(channel, discord.Thread):
            thread = channel
            channel = thread.parent or guild.get_channel(thread.parent_id)
            if channel is None:
                return False
            if thread.is_private() and not await _in_private_thread(thread, channel, member):
                return False
        if channel is None:
            return False
        return channel.permissions_for(member).view_channel

    return can_view


async def _in_private_thread(
    thread: discord.Thread, parent: discord.abc.GuildChannel, member: discord.Member
) -> bool:
    """A private thread is seen by its members, and by those who may manage threads."""
    if parent.permissions_for(member).manage_threads or thread.owner_id == member.id:
        return True
    try:
        await thread.fetch_member(member.id)
    except (discord.NotFound, discord.Forbidden):
        return False
    return True


async def visible_piece(
    interaction: discord.Interaction, flow: WriteFlow, piece_id: int
) -> GenerationRecord:
    """The piece ``piece_id`` if the member may see it, else the same ``NotFound`` as for a
    piece that never existed."""
    record = await flow.find_piece(piece_id)
    if record is None or not await may_see(
        record, interaction.user.id, channel_access(interaction)
    ):
        raise not_visible(piece_id)
    return record


async def is_bot_owner(interaction: discord.Interaction) -> bool:
    """Whether the member may use owner commands: listed in ``discord.owner_ids``, or, with
    that list empty, the application's owner (or a member of its team) as Discord says."""
    owners: tuple[int, ...] = interaction.client.settings.discord.owner_ids  # type: ignore[attr-defined]
    if owners:
        return interaction.user.id in owners
    client = interaction.client
    # BotBase: InkwellBot is an AutoShardedBot, which is no subclass of commands.Bot.
    return isinstance(client, commands.bot.BotBase) and await client.is_owner(interaction.user)


def owner_only() -> Callable[[T], T]:
    """An app-command check that refuses everyone but the bot's owners, on the server side
    (owner commands are hidden from no one, since Discord has no such permission)."""

    async def predicate(interaction: discord.Interaction) -> bool:
        if not await is_bot_owner(interaction):
            raise OwnerOnly(OwnerOnly.user_message)
        return True

    return app_commands.check(predicate)
