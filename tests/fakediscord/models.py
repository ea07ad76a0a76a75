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
class FakeChannel:
    id: int
    name: str
    guild_id: int | None = None
    type: int = 0  # 0 = GUILD_TEXT, 1 = DM
    position: int = 0
    topic: str | None = None
    nsfw: bool = False
    recipient: FakeUser | None = None  # DM channels only


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

    def member(self, user_id: int) -> FakeMember | None:
        return next((m for m in self.members if m.user.id == user_id), None)

    def channel(self, channel_id: int) -> FakeChannel | None:
        return next((c for c in self.channels if c.id == channel_id), None)

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
    counter = itertools.count(1)
    bot = FakeUser(new_id(), "Inkwell", bot=True)
    names = ("owner", "mod", "alice", "bob")
    users = {n: FakeUser(new_id(), n, global_name=n.title()) for n in names}
    guild_id = new_id()
    everyone = FakeRole(guild_id, "@everyone", EVERYONE_PERMISSIONS, 0)
    moderator = FakeRole(new_id(), "Moderator", MANAGE_GUILD, 1)
    bot_role = FakeRole(new_id(), "Inkwell", EVERYONE_PERMISSIONS, 2, managed=True)
    channels = [
        FakeChannel(new_id(), name, guild_id, position=next(counter) - 1)
        for name in ("general", "writing")
    ]
    members = [
        FakeMember(users["owner"]),
        FakeMember(users["mod"], [moderator.id]),
        FakeMember(users["alice"]),
        FakeMember(users["bob"]),
        FakeMember(bot, [bot_role.id]),
    ]
    guild = FakeGuild(
        guild_id,
        "Inkwell Test Guild",
        users["owner"].id,
        roles=[everyone, moderator, bot_role],
        channels=channels,
        members=members,
    )
    # Modern applications share their id with the bot user.
    return World(bot.id, bot, users["owner"], [guild], {**users, "bot": bot})
