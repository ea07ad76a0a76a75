"""JSON payload builders shaped like Discord API v10 objects (what discord.py reads + realism)."""

from __future__ import annotations

import datetime
from typing import Any

from .models import FakeChannel, FakeGuild, FakeMember, FakeRole, FakeUser, World

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
    guild: FakeGuild, member: FakeMember, *, with_user: bool = True, with_permissions: bool = False
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
        # Interaction payloads carry the member's resolved permissions as a string.
        out["permissions"] = str(guild.permissions_for(member.user.id))
    return out


def channel_payload(channel: FakeChannel, *, permissions: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": str(channel.id), "type": channel.type, "last_message_id": None}
    if channel.type == 1:
        out["recipients"] = [user_payload(channel.recipient)] if channel.recipient else []
    else:
        out.update(
            guild_id=str(channel.guild_id),
            name=channel.name,
            position=channel.position,
            topic=channel.topic,
            nsfw=channel.nsfw,
            parent_id=None,
            permission_overwrites=[],
            rate_limit_per_user=0,
        )
    if permissions is not None:
        out["permissions"] = str(permissions)
    return out


def guild_payload(guild: FakeGuild) -> dict[str, Any]:
    """A full GUILD_CREATE payload.

    ``member_count`` equals the number of members sent, so discord.py considers the guild
    chunked and does not wait for GUILD_MEMBERS_CHUNK before ``on_ready``.
    """
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
        "threads": [],
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


def ready_payload(world: World, session_id: str, resume_url: str) -> dict[str, Any]:
    me = {**user_payload(world.bot), "verified": True, "mfa_enabled": False, "flags": 0}
    return {
        "v": 10,
        "user": me,
        "guilds": [{"id": str(g.id), "unavailable": True} for g in world.guilds],
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
