"""Changing who sees what: roles, private channels (permission overwrites), threads, deletions.

``ChannelMixin`` is mixed into :class:`~.server.FakeDiscord`. Each helper changes the world and,
when a bot is connected, sends the gateway event Discord would send so the client's cache
follows (GUILD_ROLE_CREATE/UPDATE, GUILD_MEMBER_UPDATE, CHANNEL_CREATE/UPDATE/DELETE,
THREAD_CREATE/UPDATE/DELETE). Called before the bot connects, the change simply shows in
GUILD_CREATE. Permissions are then computed like Discord: see
:meth:`~.models.FakeGuild.channel_permissions`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import discord

from .models import (
    MEMBER_OVERWRITE,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    ROLE_OVERWRITE,
    SEND_MESSAGES,
    TEXT,
    VIEW_CHANNEL,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeOverwrite,
    FakeRole,
    FakeUser,
)
from .payloads import channel_payload, member_payload, role_payload

if TYPE_CHECKING:
    from .server import FakeDiscord

GUILDS_INTENT, GUILD_MEMBERS_INTENT = 1 << 0, 1 << 1
# Who an overwrite (or a channel's allow list) is for: a role, a user, or a user's name.
Target = FakeRole | FakeUser | FakeMember | str


class ChannelMixin:
    """World-changing helpers; relies on FakeDiscord's world, ids and gateway."""

    # ---- lookups ------------------------------------------------------------------------

    @property
    def everyone(self: FakeDiscord) -> FakeRole:
        """The main guild's @everyone role (its id is the guild's)."""
        role = self.guild.role(self.guild.id)
        assert role is not None
        return role

    def guild_of(self: FakeDiscord, channel: FakeChannel) -> FakeGuild:
        guild = self.find_guild(channel.guild_id or 0)
        if guild is None or guild.channel(channel.id) is None:
            raise LookupError(f"channel {channel.name!r} ({channel.id}) is not in any guild")
        return guild

    def permissions_in(
        self: FakeDiscord, channel: FakeChannel, user: FakeUser | str | None = None
    ) -> discord.Permissions:
        """What Discord computes for ``user`` (default alice) in ``channel`` (a thread uses its
        parent's overwrites). This is what interactions carry as ``member.permissions``."""
        who = self.user(user)
        return discord.Permissions(self.guild_of(channel).channel_permissions(channel, who.id))

    def can_view(self: FakeDiscord, channel: FakeChannel, user: FakeUser | str | None) -> bool:
        """Whether Discord shows ``channel`` to ``user`` (private threads need membership)."""
        return self.guild_of(channel).can_view(channel, self.user(user).id)

    # ---- roles and members --------------------------------------------------------------

    async def add_role(
        self: FakeDiscord, name: str, permissions: int = 0, *, guild: FakeGuild | None = None
    ) -> FakeRole:
        """A new role granting ``permissions`` guild-wide (GUILD_ROLE_CREATE)."""
        guild = guild or self.guild
        role = FakeRole(self.new_id(), name, permissions, len(guild.roles))
        guild.roles.append(role)
        await self._guild_event("GUILD_ROLE_CREATE", guild, {"role": role_payload(role)})
        return role

    async def set_role_permissions(
        self: FakeDiscord, role: FakeRole, permissions: int, *, guild: FakeGuild | None = None
    ) -> None:
        """Change what a role grants guild-wide (GUILD_ROLE_UPDATE)."""
        guild = guild or self.guild
        role.permissions = permissions
        await self._guild_event("GUILD_ROLE_UPDATE", guild, {"role": role_payload(role)})

    async def give_role(
        self: FakeDiscord, user: FakeUser | str, role: FakeRole, *, guild: FakeGuild | None = None
    ) -> None:
        """Give a member a role (GUILD_MEMBER_UPDATE)."""
        guild = guild or self.guild
        member = self._member(user, guild)
        if role.id not in member.role_ids:
            member.role_ids.append(role.id)
        await self._member_update(guild, member)

    async def take_role(
        self: FakeDiscord, user: FakeUser | str, role: FakeRole, *, guild: FakeGuild | None = None
    ) -> None:
        """Take a role away from a member (GUILD_MEMBER_UPDATE)."""
        guild = guild or self.guild
        member = self._member(user, guild)
        if role.id in member.role_ids:
            member.role_ids.remove(role.id)
        await self._member_update(guild, member)

    # ---- channels and overwrites --------------------------------------------------------

    async def add_channel(
        self: FakeDiscord,
        name: str,
        *,
        overwrites: Iterable[FakeOverwrite] = (),
        topic: str | None = None,
        guild: FakeGuild | None = None,
        nsfw: bool = False,
    ) -> FakeChannel:
        """A new text channel (CHANNEL_CREATE); ``nsfw``: age-restricted."""
        guild = guild or self.guild
        channel = FakeChannel(
            self.new_id(),
            name,
            guild.id,
            position=len(guild.channels),
            topic=topic,
            nsfw=nsfw,
            overwrites=list(overwrites),
        )
        guild.channels.append(channel)
        await self._guild_event("CHANNEL_CREATE", guild, channel_payload(channel))
        return channel

    async def add_private_channel(
        self: FakeDiscord,
        name: str,
        *,
        allow: Iterable[Target] = (),
        bot: bool = True,
        guild: FakeGuild | None = None,
    ) -> FakeChannel:
        """A text channel hidden from @everyone, shown to each role or member in ``allow``.

        ``bot=True`` also lets the bot view and post there (a member overwrite for it);
        with ``bot=False`` posting there gets 403 Missing Access, as on Discord.
        """
        guild = guild or self.guild
        shown = VIEW_CHANNEL | SEND_MESSAGES
        overwrites = [FakeOverwrite(guild.id, ROLE_OVERWRITE, deny=VIEW_CHANNEL)]
        targets = [*allow, self.world.bot] if bot else list(allow)
        for target in targets:
            target_id, kind = self._target(target)
            overwrites.append(FakeOverwrite(target_id, kind, allow=shown))
        return await self.add_channel(name, overwrites=overwrites, guild=guild)

    async def set_overwrite(
        self: FakeDiscord, channel: FakeChannel, target: Target, *, allow: int = 0, deny: int = 0
    ) -> FakeOverwrite:
        """Set (replace) the overwrite for a role or member on ``channel`` (CHANNEL_UPDATE).

        For @everyone pass :attr:`everyone`, e.g. ``deny=VIEW_CHANNEL`` to hide a channel.
        """
        target_id, kind = self._target(target)
        channel.overwrites = [o for o in channel.overwrites if o.id != target_id]
        overwrite = FakeOverwrite(target_id, kind, allow=allow, deny=deny)
        channel.overwrites.append(overwrite)
        await self._channel_update(channel)
        return overwrite

    async def remove_overwrite(self: FakeDiscord, channel: FakeChannel, target: Target) -> None:
        """Drop the overwrite for a role or member on ``channel`` (CHANNEL_UPDATE)."""
        target_id, _ = self._target(target)
        channel.overwrites = [o for o in channel.overwrites if o.id != target_id]
        await self._channel_update(channel)

    async def delete_channel(self: FakeDiscord, channel: FakeChannel) -> None:
        """Delete a channel (CHANNEL_DELETE; its threads go with it) or a thread
        (THREAD_DELETE). Afterwards REST calls for it answer 404 Unknown Channel."""
        guild = self.guild_of(channel)
        if channel.is_thread:
            guild.threads.remove(channel)
            data = {
                "id": str(channel.id),
                "guild_id": str(guild.id),
                "parent_id": str(channel.parent_id),
                "type": channel.type,
            }
            await self._guild_event("THREAD_DELETE", guild, data)
            return
        guild.channels.remove(channel)
        # discord.py drops the cached threads of a deleted channel itself.
        guild.threads = [t for t in guild.threads if t.parent_id != channel.id]
        await self._guild_event("CHANNEL_DELETE", guild, channel_payload(channel))

    # ---- threads ------------------------------------------------------------------------

    async def add_thread(
        self: FakeDiscord,
        parent: FakeChannel,
        name: str,
        *,
        private: bool = False,
        owner: FakeUser | str | None = None,
        members: Iterable[FakeUser | str] = (),
        bot_joined: bool = True,
        archived: bool = False,
        locked: bool = False,
    ) -> FakeChannel:
        """A thread in ``parent`` started by ``owner`` (default alice), joined by ``members``
        (and the bot unless ``bot_joined=False``). Who may see it follows the parent's
        overwrites; a private thread also needs membership (or Manage Threads).

        THREAD_CREATE goes out only if the bot can see the thread; an archived thread is not
        in GUILD_CREATE either, so the client must fetch it (GET /channels/{id}).
        """
        guild = self.guild_of(parent)
        if parent.is_thread or parent.type != TEXT:
            raise ValueError("threads start in a text channel")
        starter = self.user(owner)
        joined = [starter.id, *(self.user(m).id for m in members)]
        if bot_joined:
            joined.append(self.world.bot.id)
        thread = FakeChannel(
            self.new_id(),
            name,
            guild.id,
            type=PRIVATE_THREAD if private else PUBLIC_THREAD,
            parent_id=parent.id,
            owner_id=starter.id,
            member_ids=list(dict.fromkeys(joined)),
            archived=archived,
            locked=locked,
        )
        guild.threads.append(thread)
        if not archived and guild.can_view(thread, self.world.bot.id):
            data = {**channel_payload(thread, bot_id=self.world.bot.id), "newly_created": True}
            await self._guild_event("THREAD_CREATE", guild, data)
        return thread

    async def archive_thread(
        self: FakeDiscord, thread: FakeChannel, *, archived: bool = True, locked: bool | None = None
    ) -> None:
        """Archive (or unarchive) a thread (THREAD_UPDATE): discord.py then drops it from its
        cache, and only GET /channels/{id} still finds it."""
        guild = self.guild_of(thread)
        thread.archived = archived
        if locked is not None:
            thread.locked = locked
        if guild.can_view(thread, self.world.bot.id):
            data = channel_payload(thread, bot_id=self.world.bot.id)
            await self._guild_event("THREAD_UPDATE", guild, data)

    # ---- internals ----------------------------------------------------------------------

    def _member(self: FakeDiscord, user: FakeUser | str, guild: FakeGuild) -> FakeMember:
        who = self.user(user)
        member = guild.member(who.id)
        if member is None:
            raise LookupError(f"{who.username} is not a member of {guild.name}")
        return member

    def _target(self: FakeDiscord, target: Target) -> tuple[int, int]:
        if isinstance(target, FakeRole):
            return target.id, ROLE_OVERWRITE
        if isinstance(target, FakeMember):
            return target.user.id, MEMBER_OVERWRITE
        return self.user(target).id, MEMBER_OVERWRITE

    async def _guild_event(
        self: FakeDiscord, event: str, guild: FakeGuild, data: dict[str, object]
    ) -> None:
        await self.gateway.dispatch(
            event, {**data, "guild_id": str(guild.id)}, intents=GUILDS_INTENT
        )

    async def _channel_update(self: FakeDiscord, channel: FakeChannel) -> None:
        guild = self.guild_of(channel)
        await self._guild_event("CHANNEL_UPDATE", guild, channel_payload(channel))

    async def _member_update(self: FakeDiscord, guild: FakeGuild, member: FakeMember) -> None:
        data = {**member_payload(guild, member), "guild_id": str(guild.id)}
        # Discord sends GUILD_MEMBER_UPDATE with the GUILD_MEMBERS intent only, except for
        # the bot's own member.
        mine = member.user.id == self.world.bot.id
        await self.gateway.dispatch(
            "GUILD_MEMBER_UPDATE", data, intents=None if mine else GUILD_MEMBERS_INTENT
        )
