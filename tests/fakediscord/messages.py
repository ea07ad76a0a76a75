"""Message store: what the bot created/edited, as Discord would return it, plus what was sent.

``StoredMessage.payload`` is the Discord-shaped message (fed back to the client, e.g. in a
component click). The request-side details Discord does not echo (``allowed_mentions``,
uploaded bytes, every edit body) are kept alongside for assertions.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .models import FakeGuild, FakeUser, SnowflakeFactory
from .payloads import now_iso, user_payload
from .recording import UploadedFile

EPHEMERAL = 1 << 6
LOADING = 1 << 7  # the "Bot is thinking..." placeholder after a type-5 defer
_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
# Body keys copied verbatim into the stored message when present.
_VERBATIM = ("content", "embeds", "components", "tts", "poll", "message_reference", "nonce")


@dataclass
class StoredMessage:
    payload: dict[str, Any]
    allowed_mentions: dict[str, Any] | None = None
    files: list[UploadedFile] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    interaction_token: str | None = None  # set for interaction responses / followups

    @property
    def id(self) -> int:
        return int(self.payload["id"])

    @property
    def channel_id(self) -> int:
        return int(self.payload["channel_id"])

    @property
    def content(self) -> str:
        return self.payload.get("content", "")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.payload.get("embeds", [])

    @property
    def components(self) -> list[dict[str, Any]]:
        return self.payload.get("components", [])

    @property
    def flags(self) -> int:
        return int(self.payload.get("flags", 0))

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def attachments(self) -> list[dict[str, Any]]:
        return self.payload.get("attachments", [])

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in walk_components(self.components) if "custom_id" in c]

    def component(self, custom_id: str) -> dict[str, Any] | None:
        return next(
            (c for c in walk_components(self.components) if c.get("custom_id") == custom_id), None
        )


def walk_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flatten action rows, sections, containers and labels (components v2 nest them)."""
    out: list[dict[str, Any]] = []
    for comp in components:
        out.append(comp)
        out.extend(walk_components(comp.get("components", [])))
        for key in ("accessory", "component"):
            if isinstance(comp.get(key), dict):
                out.extend(walk_components([comp[key]]))
    return out


def compute_mentions(
    content: str,
    allowed: dict[str, Any] | None,
    guild: FakeGuild | None,
    lookup_user: Callable[[int], FakeUser | None],
) -> tuple[list[dict[str, Any]], list[str], bool]:
    """Which mentions Discord would actually *ping*, honouring allowed_mentions like the API."""
    parse = ["users", "roles", "everyone"] if allowed is None else allowed.get("parse", [])
    users_ok = {int(u) for u in (allowed or {}).get("users", [])}
    roles_ok = {int(r) for r in (allowed or {}).get("roles", [])}
    mentions: list[dict[str, Any]] = []
    for raw in dict.fromkeys(_USER_MENTION.findall(content)):
        uid = int(raw)
        user = lookup_user(uid)
        if user is not None and ("users" in parse or uid in users_ok):
            mentions.append(user_payload(user))
    roles: list[str] = []
    for raw in dict.fromkeys(_ROLE_MENTION.findall(content)):
        rid = int(raw)
        if guild is not None and guild.role(rid) and ("roles" in parse or rid in roles_ok):
            roles.append(raw)
    everyone = "everyone" in parse and ("@everyone" in content or "@here" in content)
    return mentions, roles, everyone


class MessageStore:
    def __init__(
        self,
        new_id: SnowflakeFactory,
        attachment_url: Callable[[int, int, str], str],
        lookup_user: Callable[[int], FakeUser | None],
    ) -> None:
        self._new_id = new_id
        self._attachment_url = attachment_url
        self._lookup_user = lookup_user
        self._component_ids = itertools.count(1)
        self.messages: dict[int, StoredMessage] = {}
        self.attachment_data: dict[int, bytes] = {}

    def get(self, message_id: int) -> StoredMessage | None:
        msg = self.messages.get(message_id)
        return None if msg is None or msg.deleted else msg

    def in_channel(self, channel_id: int) -> list[StoredMessage]:
        return [m for m in self.messages.values() if m.channel_id == channel_id and not m.deleted]

    def create(
        self,
        *,
        channel_id: int,
        guild: FakeGuild | None,
        author: FakeUser,
        body: dict[str, Any],
        files: list[UploadedFile],
        extra: dict[str, Any] | None = None,
        interaction_token: str | None = None,
    ) -> StoredMessage:
        payload: dict[str, Any] = {
            "id": str(self._new_id()),
            "channel_id": str(channel_id),
            "author": user_payload(author),
            "content": "",
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "reactions": [],
            "pinned": False,
            "type": 19 if body.get("message_reference") else 0,
            "flags": int(body.get("flags") or 0),
        }
        if guild is not None:
            payload["guild_id"] = str(guild.id)
        payload.update(extra or {})
        msg = StoredMessage(payload, interaction_token=interaction_token)
        self._apply(msg, body, files, guild)
        self.messages[msg.id] = msg
        return msg

    def edit(
        self,
        msg: StoredMessage,
        body: dict[str, Any],
        files: list[UploadedFile],
        guild: FakeGuild | None,
    ) -> StoredMessage:
        msg.edits.append(body)
        if "flags" in body and body["flags"] is not None:
            # Only SUPPRESS_EMBEDS / IS_COMPONENTS_V2 are editable; ephemeral is fixed at creation.
            msg.payload["flags"] = (msg.flags & EPHEMERAL) | (int(body["flags"]) & ~EPHEMERAL)
        msg.payload["flags"] = msg.flags & ~LOADING  # any edit replaces the "thinking" state
        msg.payload["edited_timestamp"] = now_iso()
        self._apply(msg, body, files, guild)
        return msg

    def _apply(
        self,
        msg: StoredMessage,
        body: dict[str, Any],
        files: list[UploadedFile],
        guild: FakeGuild | None,
    ) -> None:
        for key in _VERBATIM:
            if key in body:
                value = body[key]
                msg.payload[key] = "" if key == "content" and value is None else value
        if "embeds" in body and body["embeds"] is None:
            msg.payload["embeds"] = []
        if "components" in body:
            msg.payload["components"] = self._number_components(body["components"] or [])
        if "allowed_mentions" in body:
            msg.allowed_mentions = body["allowed_mentions"]
        msg.files.extend(files)
        self._apply_attachments(msg, body, files)
        mentions, roles, everyone = compute_mentions(
            msg.content, msg.allowed_mentions, guild, self._lookup_user
        )
        msg.payload.update(mentions=mentions, mention_roles=roles, mention_everyone=everyone)

    def _apply_attachments(
        self, msg: StoredMessage, body: dict[str, Any], files: list[UploadedFile]
    ) -> None:
        by_index = {f.index: f for f in files}
        if "attachments" not in body:
            # Without an explicit list Discord appends uploads to what the message already has.
            specs: list[dict[str, Any]] = [{"id": f.index} for f in files]
            kept = msg.attachments
        else:
            specs, kept = [], []
            existing = {int(a["id"]): a for a in msg.attachments}
            for spec in body["attachments"] or []:
                old = existing.get(int(spec["id"]))
                if old is not None and int(spec["id"]) not in by_index:
                    kept.append(old)  # an attachment the client chose to keep
                else:
                    specs.append(spec)
        new = []
        for spec in specs:
            upload = by_index.get(int(spec["id"]))
            if upload is None:
                continue
            att_id = self._new_id()
            filename = spec.get("filename") or upload.filename
            self.attachment_data[att_id] = upload.data
            url = self._attachment_url(msg.channel_id, att_id, filename)
            new.append(
                {
                    "id": str(att_id),
                    "filename": filename,
                    "size": len(upload.data),
                    "url": url,
                    "proxy_url": url,
                    "content_type": upload.content_type,
                    "description": spec.get("description"),
                    "ephemeral": msg.ephemeral,
                }
            )
        msg.payload["attachments"] = [*kept, *new]

    def _number_components(self, components: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Discord echoes components with a numeric ``id`` each; mimic it (input left untouched)."""
        out = []
        for comp in components:
            comp = dict(comp)
            comp.setdefault("id", next(self._component_ids))
            if "components" in comp:
                comp["components"] = self._number_components(comp["components"])
            for key in ("accessory", "component"):
                if isinstance(comp.get(key), dict):
                    comp[key] = self._number_components([comp[key]])[0]
            out.append(comp)
        return out
