"""Build CHAT_INPUT option trees (typed values + ``resolved``) the way the Discord client does.

When the command was synced to the fake, the option *types* come from the synced schema, so an
``app_commands.Range[int, 1, 5]`` option is sent as type 4 even if the test passes ``"3"``.
Without a schema the type is inferred from the Python value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .models import FakeChannel, FakeGuild, FakeMember, FakeRole, FakeUser
from .payloads import channel_payload, member_payload, role_payload, user_payload

STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = (
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
)
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2

Resolved = dict[str, dict[str, Any]]
# (filename, data[, content_type]) -> attachment payload; supplied by the server (stores bytes).
AttachmentMaker = Callable[[tuple[Any, ...]], dict[str, Any]]


def infer_type(value: Any) -> int:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    if isinstance(value, FakeUser | FakeMember):
        return USER
    if isinstance(value, FakeChannel):
        return CHANNEL
    if isinstance(value, FakeRole):
        return ROLE
    if isinstance(value, tuple):
        return ATTACHMENT
    return STRING


def split_path(name: str, subcommand: str | None) -> tuple[str, list[str]]:
    """``"favorites list"`` or ``("favorites", subcommand="list")`` -> ("favorites", ["list"])."""
    parts = name.split()
    if subcommand:
        parts += subcommand.split()
    return parts[0], parts[1:]


def leaf_schema(command: dict[str, Any] | None, path: list[str]) -> list[dict[str, Any]] | None:
    """Walk subcommand groups / subcommands of a synced command down to the leaf options."""
    if command is None:
        return None
    options: list[dict[str, Any]] = command.get("options", [])
    for part in path:
        node = next((o for o in options if o["name"] == part and o["type"] in (1, 2)), None)
        if node is None:
            raise ValueError(f"synced command {command['name']!r} has no subcommand {part!r}")
        options = node.get("options", [])
    return options


class OptionBuilder:
    def __init__(
        self,
        guild: FakeGuild | None,
        make_attachment: AttachmentMaker,
        invoker_id: int = 0,
        channel: FakeChannel | None = None,
    ) -> None:
        self.guild = guild
        self.make_attachment = make_attachment
        self.invoker_id = invoker_id  # resolved channels carry the invoker's permissions
        self.channel = channel  # resolved members carry their permissions in this channel
        self.resolved: Resolved = {}

    def build(
        self,
        path: list[str],
        values: dict[str, Any],
        schema: list[dict[str, Any]] | None,
        focused: str | None = None,
    ) -> list[dict[str, Any]]:
        leaf = [
            self._option(name, value, schema, name == focused) for name, value in values.items()
        ]
        if focused is not None and focused not in values:
            leaf.append(self._option(focused, "", schema, True))
        # Wrap from the innermost subcommand outwards: [group, sub] -> group{sub{leaf}}.
        for depth, part in reversed(list(enumerate(path))):
            kind = SUB_COMMAND if depth == len(path) - 1 else SUB_COMMAND_GROUP
            leaf = [{"type": kind, "name": part, "options": leaf}]
        return leaf

    def _option(
        self, name: str, value: Any, schema: list[dict[str, Any]] | None, focused: bool
    ) -> dict[str, Any]:
        spec = next((o for o in schema or [] if o["name"] == name), None)
        if schema is not None and spec is None:
            raise ValueError(f"option {name!r} is not in the synced command schema")
        kind = spec["type"] if spec else infer_type(value)
        out: dict[str, Any] = {"name": name, "type": kind}
        if focused:
            # Autocomplete sends the raw text typed so far, whatever the option type.
            out.update(value=str(value), focused=True)
            return out
        out["value"] = self._value(kind, value)
        return out

    def _value(self, kind: int, value: Any) -> Any:
        if kind == STRING:
            return str(value)
        if kind == INTEGER:
            return int(value)
        if kind == NUMBER:
            return float(value)
        if kind == BOOLEAN:
            return bool(value)
        if kind in (USER, MENTIONABLE) and isinstance(value, FakeUser | FakeMember):
            return self._resolve_user(value.user if isinstance(value, FakeMember) else value)
        if kind in (ROLE, MENTIONABLE) and isinstance(value, FakeRole):
            self.resolved.setdefault("roles", {})[str(value.id)] = role_payload(value)
            return str(value.id)
        if kind == CHANNEL and isinstance(value, FakeChannel):
            perms = self.guild.channel_permissions(value, self.invoker_id) if self.guild else 0
            self.resolved.setdefault("channels", {})[str(value.id)] = channel_payload(
                value, permissions=perms
            )
            return str(value.id)
        if kind == ATTACHMENT and isinstance(value, tuple):
            att = self.make_attachment(value)
            self.resolved.setdefault("attachments", {})[att["id"]] = att
            return att["id"]
        return str(value)  # a raw snowflake the test chose deliberately

    def _resolve_user(self, user: FakeUser) -> str:
        self.resolved.setdefault("users", {})[str(user.id)] = user_payload(user)
        member = self.guild.member(user.id) if self.guild else None
        if self.guild is not None and member is not None:
            # Resolved members omit "user" and carry their permissions, like Discord.
            data = member_payload(
                self.guild, member, with_user=False, with_permissions=True, channel=self.channel
            )
            self.resolved.setdefault("members", {})[str(user.id)] = data
        return str(user.id)
