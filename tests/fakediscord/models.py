"""Plain data for the fake Discord world: snowflakes, users, guilds, roles, channels, commands.

These are deliberately small dataclasses instead of discord.py objects: the fake is the
*server*, so it must speak raw JSON and never depend on client-side caches.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import discord

DISCORD_EPOCH_MS = 1420070400000

# Permission bits the tests care about (values from discord.Permissions so they cannot drift).
ADMINISTRATOR = discord.Permissions(administrator=True).value
MANAGE_GUILD = discord.Permissions(manage_guild=True).value
ALL_PERMISSIONS = discord.Permissions.all().value
VIEW_CHANNEL = discord.Permissions(view_channel=True).value
SEND_MESSAGES = discord.Permissions(send_messages=True).value
SEND_MESSAGES_IN_THREADS = discord.Permissions(send_messages_in_threads=True).value
READ_MESSAGE_HISTORY = discord.Permissions(read_message_history=True).value
ATTACH_FILES = discord.Permissions(attach_files=True).value
ADD_REACTIONS = discord.Permissions(add_reactions=True).value
MANAGE_THREADS = discord.Permissions(manage_threads=True).value
# Lost without SEND_MESSAGES (SEND_MESSAGES_IN_THREADS in a thread), and everything
# channel-specific lost without VIEW_CHANNEL: Discord's implicit permissions.
_NEEDS_SEND = discord.Permissions(
    send_tts_messages=True, mention_everyone=True, embed_links=True, attach_files=True
).value
_CHANNEL_ONLY = discord.Permissions.all_channel().value
_VOICE = discord.Permissions.voice().value

# Channel types
TEXT, DM, NEWS, PUBLIC_THREAD, PRIVATE_THREAD = 0, 1, 5, 11, 12
THREAD_TYPES = (10, PUBLIC_THREAD, PRIVATE_THREAD)
# Overwrite target types
ROLE_OVERWRITE, MEMBER_OVERWRITE = 0, 1
# What a fresh Discord server grants @everyone in practice (enough to run slash commands).
EVERYONE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    read_message_history=True,
    use_application_commands=True,
    embed_links=True,
    attach_files=True,
    add_reactions=True,
    use_external_emojis=True,
    create_public_threads=True,
    send_messages_in_threads=True,
).value


class SnowflakeFactory:
    """Monotonic, time-based snowflakes so ids sort like real ones and never collide."""

    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> int:
        candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        if candidate <= self._last:
            candidate = self._last + 1
        self._last = candidate
        return candidate

    def on_shard(self, shard_id: int, shard_count: int) -> int:
        """A new id whose guild Discord would send to ``shard_id`` of ``shard_count``."""
        candidate = self()
        while (candidate >> 22) % shard_count != shard_id:
            candidate += 1 << 22
        self._last = candidate
        return candidate


@dataclass
class FakeUser:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass
class FakeRole:
    id: int
    name: str
    permissions: int = 0
    position: int = 0
    managed: bool = False


@dataclass
class FakeOverwrite:
    """A channel permission overwrite: ``type`` 0 targets a role (``id`` of the guild for
    @everyone), 1 a member."""

    id: int
    type: int = ROLE_OVERWRITE
    allow: int = 0
    deny: int = 0


@dataclass
class FakeChannel:
    id: int
    name: str
    guild_id: int | None = None
    type: int = TEXT  # 0 = GUILD_TEXT, 1 = DM, 11/12 = public/private thread
    position: int = 0
    topic: str | None = None
    nsfw: bool = False
    recipient: FakeUser | None = None  # DM channels only
    overwrites: list[FakeOverwrite] = field(default_factory=list)  # not for threads
    # Threads only: the channel they were started in, who started them, who has joined.
    parent_id: int | None = None
    owner_id: int | None = None
    member_ids: list[int] = field(default_factory=list)
    archived: bool = False
    locked: bool = False

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    def overwrite_for(self, target_id: int) -> FakeOverwrite | None:
        return next((o for o in self.overwrites if o.id == target_id), None)


@dataclass
class FakeMember:
    user: FakeUser
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None


@dataclass
class FakeGuild:
    id: int
    name: str
    owner_id: int
    roles: list[FakeRole] = field(default_factory=list)
    channels: list[FakeChannel] = field(default_factory=list)
    members: list[FakeMember] = field(default_factory=list)
    locale: str = "en-US"
    threads: list[FakeChannel] = field(default_factory=list)  # active and archived

    def member(self, user_id: int) -> FakeMember | None:
        return next((m for m in self.members if m.user.id == user_id), None)

    def channel(self, channel_id: int) -> FakeChannel | None:
        """A channel or a thread of this guild."""
        return next((c for c in [*self.channels, *self.threads] if c.id == channel_id), None)

    def role(self, role_id: int) -> FakeRole | None:
        return next((r for r in self.roles if r.id == role_id), None)

    def permissions_for(self, user_id: int) -> int:
        """Guild-level permissions the way Discord computes them (no channel overwrites)."""
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        member = self.member(user_id)
        everyone = self.role(self.id)
        value = everyone.permissions if everyone else 0
        if member is not None:
            for role_id in member.role_ids:
                role = self.role(role_id)
                if role is not None:
                    value |= role.permissions
        return ALL_PERMISSIONS if value & ADMINISTRATOR else value

    def channel_permissions(self, channel: FakeChannel, user_id: int) -> int:
        """A member's permissions in a channel or thread, with its overwrites.

        The same maths as discord.py's ``permissions_for`` (Discord's documented algorithm:
        @everyone overwrite, then all the member's role overwrites, then the member's own;
        implicit denials without View Channel / Send Messages), so a test can compare what
        the fake sends with what the client computes. A thread uses its parent's overwrites.
        """
        thread = channel if channel.is_thread else None
        if thread is not None:
            parent = self.channel(thread.parent_id or 0)
            if parent is None:
                return 0
            channel = parent
        value = self._overwritten(channel, user_id)
        send = SEND_MESSAGES_IN_THREADS if thread is not None else SEND_MESSAGES
        if not value & send:
            value &= ~_NEEDS_SEND
        if not value & VIEW_CHANNEL:
            value &= ~_CHANNEL_ONLY
        if thread is None:
            value &= ~_VOICE  # discord.py drops voice permissions in text channels
        return value

    def _overwritten(self, channel: FakeChannel, user_id: int) -> int:
        value = self.permissions_for(user_id)
        if value & ADMINISTRATOR:  # the owner too: permissions_for gives them everything
            return ALL_PERMISSIONS
        member = self.member(user_id)
        role_ids = set(member.role_ids) if member else set()
        everyone = channel.overwrite_for(self.id)
        if everyone is not None and everyone.type == ROLE_OVERWRITE:
            value = (value & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for ow in channel.overwrites:
            if ow.type == ROLE_OVERWRITE and ow.id in role_ids:
                allow, deny = allow | ow.allow, deny | ow.deny
        value = (value & ~deny) | allow
        own = next(
            (o for o in channel.overwrites if o.type == MEMBER_OVERWRITE and o.id == user_id), None
        )
        if own is not None:
            value = (value & ~own.deny) | own.allow
        return value

    def can_view(self, channel: FakeChannel, user_id: int) -> bool:
        """Whether Discord shows ``channel`` to the member: View Channel there (a thread's
        parent) and, for a private thread, having joined it or Manage Threads."""
        perms = self.channel_permissions(channel, user_id)
        if not perms & VIEW_CHANNEL:
            return False
        if channel.type == PRIVATE_THREAD:
            return user_id in channel.member_ids or bool(perms & MANAGE_THREADS)
        return True


class CommandRegistry:
    """Application commands as synced by the client, keyed by scope (None = global)."""

    def __init__(self, application_id: int, new_id: SnowflakeFactory) -> None:
        self.application_id = application_id
        self._new_id = new_id
        self.scopes: dict[int | None, dict[tuple[str, int], dict[str, Any]]] = {}
        # Ids survive re-syncs (like Discord) so mentions such as </cmd:id> stay stable.
        self._ids: dict[tuple[int | None, str, int], int] = {}

    def _complete(self, scope: int | None, payload: dict[str, Any]) -> dict[str, Any]:
        kind = int(payload.get("type", 1))
        key = (scope, payload["name"], kind)
        cmd_id = self._ids.setdefault(key, self._new_id())
        out = {
            "description": "",
            "options": [],
            "default_member_permissions": None,
            "dm_permission": True,
            "nsfw": False,
            **payload,
            "id": str(cmd_id),
            "application_id": str(self.application_id),
            "type": kind,
            "version": str(self._new_id()),
        }
        if scope is not None:
            out["guild_id"] = str(scope)
        return out

    def bulk_overwrite(
        self, scope: int | None, payloads: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        done = [self._complete(scope, p) for p in payloads]
        self.scopes[scope] = {(c["name"], c["type"]): c for c in done}
        return done

    def upsert(self, scope: int | None, payload: dict[str, Any]) -> dict[str, Any]:
        cmd = self._complete(scope, payload)
        self.scopes.setdefault(scope, {})[(cmd["name"], cmd["type"])] = cmd
        return cmd

    def list(self, scope: int | None) -> list[dict[str, Any]]:
        return list(self.scopes.get(scope, {}).values())

    def by_id(self, scope: int | None, cmd_id: int) -> dict[str, Any] | None:
        return next((c for c in self.list(scope) if int(c["id"]) == cmd_id), None)

    def delete(self, scope: int | None, cmd_id: int) -> bool:
        cmd = self.by_id(scope, cmd_id)
        if cmd is None:
            return False
        del self.scopes[scope][(cmd["name"], cmd["type"])]
        return True

    def find(self, name: str, kind: int, guild_id: int | None) -> dict[str, Any] | None:
        """Guild commands shadow global ones, exactly like the Discord client shows them."""
        if guild_id is not None:
            cmd = self.scopes.get(guild_id, {}).get((name, kind))
            if cmd is not None:
                return cmd
        return self.scopes.get(None, {}).get((name, kind))


@dataclass
class World:
    """Everything the fake knows about at startup. Build with :func:`default_world`."""

    application_id: int
    bot: FakeUser
    owner: FakeUser
    guilds: list[FakeGuild]
    users: dict[str, FakeUser]

    @property
    def guild(self) -> FakeGuild:
        return self.guilds[0]


def default_world(new_id: SnowflakeFactory) -> World:
    """One guild, two text channels; ``mod`` has Manage Server, ``alice``/``bob`` do not."""
    bot = FakeUser(new_id(), "Inkwell", bot=True)
    names = ("owner", "mod", "alice", "bob")
    users = {n: FakeUser(new_id(), n, global_name=n.title()) for n in names}
    guild = _guild(new_id, new_id(), "Inkwell Test Guild", users, bot)
    # Modern applications share their id with the bot user.
    return World(bot.id, bot, users["owner"], [guild], {**users, "bot": bot})


def sharded_world(new_id: SnowflakeFactory, shard_count: int) -> World:
    """Like ``default_world``, with one guild on each of ``shard_count`` shards (guild ``n``
    on shard ``n``), the same people in each."""
    world = default_world(new_id)
    world.guilds = [
        _guild(
            new_id, new_id.on_shard(shard, shard_count), f"Guild {shard}", world.users, world.bot
        )
        for shard in range(shard_count)
    ]
    return world


def _guild(
    new_id: SnowflakeFactory,
    guild_id: int,
    name: str,
    users: dict[str, FakeUser],
    bot: FakeUser,
) -> FakeGuild:
    counter = itertools.count(1)
    everyone = FakeRole(guild_id, "@everyone", EVERYONE_PERMISSIONS, 0)
    moderator = FakeRole(new_id(), "Moderator", MANAGE_GUILD, 1)
    bot_role = FakeRole(new_id(), "Inkwell", EVERYONE_PERMISSIONS, 2, managed=True)
    channels = [
        FakeChannel(new_id(), channel_name, guild_id, position=next(counter) - 1)
        for channel_name in ("general", "writing")
    ]
    members = [
        FakeMember(users["owner"]),
        FakeMember(users["mod"], [moderator.id]),
        FakeMember(users["alice"]),
        FakeMember(users["bob"]),
        FakeMember(bot, [bot_role.id]),
    ]
    return FakeGuild(
        guild_id,
        name,
        users["owner"].id,
        roles=[everyone, moderator, bot_role],
        channels=channels,
        members=members,
    )
