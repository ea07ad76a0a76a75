"""JSON payload builders shaped like Discord API v10 objects (what discord.py reads + realism)."""

from __future__ import annotations

import datetime
from typing import Any

from .models import (
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeOverwrite,
    FakeRole,
    FakeUser,
    World,
)

JOINED_AT = "2024-01-01T00:00:00+00:00"


def now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


def user_payload(user: FakeUser) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(user.id),
        "username": user.username,
        "discriminator": "0",
        "global_name": user.global_name,
        "avatar": None,
        "public_flags": 0,
    }
    if user.bot:
        out["bot"] = True
    return out


def role_payload(role: FakeRole) -> dict[str, Any]:
    return {
        "id": str(role.id),
        "name": role.name,
        "permissions": str(role.permissions),
        "position": role.position,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "color": 0,
        "hoist": False,
        "managed": role.managed,
        "mentionable": False,
        "flags": 0,
        "icon": None,
        "unicode_emoji": None,
    }


def member_payload(
    guild: FakeGuild,
    member: FakeMember,
    *,
    with_user: bool = True,
    with_permissions: bool = False,
    channel: FakeChannel | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "roles": [str(r) for r in member.role_ids],
        "nick": member.nick,
        "avatar": None,
        "joined_at": JOINED_AT,
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
    }
    if with_user:
        out["user"] = user_payload(member.user)
    if with_permissions:
        # Interaction payloads carry the member's permissions in the interaction's channel,
        # overwrites included, as a string.
        value = (
            guild.channel_permissions(channel, member.user.id)
            if channel is not None
            else guild.permissions_for(member.user.id)
        )
        out["permissions"] = str(value)
    return out


def overwrite_payload(overwrite: FakeOverwrite) -> dict[str, Any]:
    return {
        "id": str(overwrite.id),
        "type": overwrite.type,
        "allow": str(overwrite.allow),
        "deny": str(overwrite.deny),
    }


def channel_payload(
    channel: FakeChannel, *, permissions: int | None = None, bot_id: int | None = None
) -> dict[str, Any]:
    """A channel or thread object; ``bot_id`` adds a thread's ``member`` (the bot's own thread
    membership) when the bot has joined it, as GUILD_CREATE and THREAD_CREATE do."""
    out: dict[str, Any] = {"id": str(channel.id), "type": channel.type, "last_message_id": None}
    if channel.type == 1:
        out["recipients"] = [user_payload(channel.recipient)] if channel.recipient else []
    elif channel.is_thread:
        out.update(_thread_fields(channel))
        if bot_id is not None and bot_id in channel.member_ids:
            out["member"] = {
                "id": str(channel.id),
                "user_id": str(bot_id),
                "join_timestamp": JOINED_AT,
                "flags": 0,
            }
    else:
        out.update(
            guild_id=str(channel.guild_id),
            name=channel.name,
            position=channel.position,
            topic=channel.topic,
            nsfw=channel.nsfw,
            parent_id=None,  # the category; the fake has none
            permission_overwrites=[overwrite_payload(o) for o in channel.overwrites],
            rate_limit_per_user=0,
        )
    if permissions is not None:
        out["permissions"] = str(permissions)
    return out


def _thread_fields(thread: FakeChannel) -> dict[str, Any]:
    return {
        "guild_id": str(thread.guild_id),
        "parent_id": str(thread.parent_id),
        "owner_id": str(thread.owner_id),
        "name": thread.name,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "total_message_sent": 0,
        "member_count": min(len(thread.member_ids), 50),  # Discord stops counting at 50
        "flags": 0,
        "applied_tags": [],
        "thread_metadata": {
            "archived": thread.archived,
            "auto_archive_duration": 1440,
            "archive_timestamp": JOINED_AT,
            "locked": thread.locked,
            "invitable": True,
            "create_timestamp": JOINED_AT,
        },
    }


def guild_payload(guild: FakeGuild, bot_id: int | None = None) -> dict[str, Any]:
    """A full GUILD_CREATE payload.

    ``member_count`` equals the number of members sent, so discord.py considers the guild
    chunked and does not wait for GUILD_MEMBERS_CHUNK before ``on_ready``. ``threads`` holds
    the active threads the bot (``bot_id``) can view, like Discord; archived ones are left out.
    """
    threads = [
        t for t in guild.threads if not t.archived and (bot_id is None or guild.can_view(t, bot_id))
    ]
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "owner_id": str(guild.owner_id),
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 1,
        "explicit_content_filter": 0,
        "features": [],
        "mfa_level": 0,
        "system_channel_id": str(guild.channels[0].id) if guild.channels else None,
        "system_channel_flags": 0,
        "preferred_locale": guild.locale,
        "premium_tier": 0,
        "nsfw_level": 0,
        "roles": [role_payload(r) for r in guild.roles],
        "emojis": [],
        "stickers": [],
        "channels": [channel_payload(c) for c in guild.channels],
        "threads": [channel_payload(t, bot_id=bot_id) for t in threads],
        "members": [member_payload(guild, m) for m in guild.members],
        "member_count": len(guild.members),
        "presences": [],
        "voice_states": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "large": False,
        "unavailable": False,
        "joined_at": JOINED_AT,
        "lazy": True,
    }


def app_info_payload(world: World) -> dict[str, Any]:
    # interactions_endpoint_url must be null or discord.py warns that it won't receive interactions.
    return {
        "id": str(world.application_id),
        "name": world.bot.username,
        "icon": None,
        "description": "Fake application for end-to-end tests",
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": user_payload(world.owner),
        "verify_key": "0" * 64,
        "flags": 0,
        "team": None,
        "interactions_endpoint_url": None,
        "bot": user_payload(world.bot),
    }


def ready_payload(
    world: World, session_id: str, resume_url: str, guilds: list[FakeGuild] | None = None
) -> dict[str, Any]:
    """READY, listing ``guilds`` (default: all of them) as still to come."""
    me = {**user_payload(world.bot), "verified": True, "mfa_enabled": False, "flags": 0}
    shown = world.guilds if guilds is None else guilds
    return {
        "v": 10,
        "user": me,
        "guilds": [{"id": str(g.id), "unavailable": True} for g in shown],
        "session_id": session_id,
        "session_type": "normal",
        "resume_gateway_url": resume_url,
        "application": {"id": str(world.application_id), "flags": 0},
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "user_settings": {},
        "_trace": ["fakediscord"],
    }


def error_payload(status: int, message: str, code: int = 0) -> dict[str, Any]:
    return {"message": message or f"{status}", "code": code}
