"""Interaction helpers: build realistic INTERACTION_CREATE payloads, dispatch, and inspect replies.

``InteractionMixin`` is mixed into :class:`~.server.FakeDiscord`; each helper returns an
:class:`InteractionHandle` to wait on and inspect what the bot answered.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .messages import EPHEMERAL, StoredMessage
from .models import FakeChannel, FakeGuild, FakeUser
from .options import OptionBuilder, leaf_schema, split_path
from .payloads import channel_payload, member_payload, user_payload

if TYPE_CHECKING:
    from .recording import RecordedRequest
    from .server import FakeDiscord

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024  # 10 MiB, the non-boosted guild limit
UserRef = FakeUser | str | None


@dataclass(eq=False)
class InteractionHandle:
    server: FakeDiscord
    id: int
    token: str
    type: int
    payload: dict[str, Any]
    user: FakeUser
    guild: FakeGuild | None
    channel_id: int | None
    source_message_id: int | None = None  # message a component / modal belongs to
    dispatched_at: float = 0.0
    callback_type: int | None = None
    acknowledged_at: float | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    modal: dict[str, Any] | None = None  # data of a type-9 (modal) callback
    choices: list[dict[str, Any]] | None = None  # data of a type-8 (autocomplete) callback
    expired: bool = False  # the bot answered after the deadline
    token_expired: bool = False  # 15 minutes are over: webhook routes answer 401 (50027)

    def responses(self) -> list[RecordedRequest]:
        """Callback + webhook requests made with this token, in arrival order."""
        return list(self.server.requests_by_token.get(self.token, []))

    def callback(self) -> RecordedRequest | None:
        return next((r for r in self.responses() if r.path.endswith("/callback")), None)

    def original_edits(self) -> list[RecordedRequest]:
        return [
            r
            for r in self.responses()
            if r.method == "PATCH" and r.path.endswith("/messages/@original")
        ]

    def final_message(self) -> StoredMessage | None:
        """The @original message as last edited (None if never created or deleted)."""
        return self.server.store.get(self.original_message_id or 0)

    def followups(self) -> list[StoredMessage]:
        return [m for i in self.followup_ids if (m := self.server.store.messages.get(i))]

    def private_answer(self) -> dict[str, Any] | None:
        """What only the user saw: an ephemeral callback message, or after a deferral the
        last ephemeral followup, else the ephemeral placeholder once edited (None if none of
        these has come yet)."""
        callback = self.callback()
        if callback is not None and callback.json and callback.json.get("type") == 4:
            data = callback.json["data"]
            return data if data.get("flags", 0) & EPHEMERAL else None
        private = [m for m in self.followups() if m.ephemeral]
        if private:
            return private[-1].payload
        original = self.final_message()  # the answer may take the placeholder's place
        if self.original_edits() and original is not None and original.ephemeral:
            return original.payload
        return None

    async def wait_private_answer(self, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        """Wait for ``private_answer`` and return it."""
        await self.server.wait_for(lambda: self.private_answer() is not None, timeout=timeout)
        answer = self.private_answer()
        assert answer is not None
        return answer

    @property
    def callback_delay(self) -> float | None:
        """Seconds between dispatch and the callback arriving (Discord allows 3)."""
        return None if self.acknowledged_at is None else self.acknowledged_at - self.dispatched_at

    # A plain ``timeout=`` reads best in tests; polling needs the deadline anyway.
    async def wait_callback(self, timeout: float = 5.0) -> RecordedRequest:  # noqa: ASYNC109
        await self.server.wait_for(lambda: self.callback() is not None, timeout=timeout)
        found = self.callback()
        assert found is not None
        return found

    async def wait_responses(
        self,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[RecordedRequest]:
        """Wait until this interaction produced ``count`` finished requests."""
        await self.server.wait_for(
            lambda: len([r for r in self.responses() if r.status is not None]) >= count,
            timeout=timeout,
        )
        return self.responses()


class InteractionMixin:
    """Interaction builders; relies on FakeDiscord's world, ids, store, commands, gateway."""

    def _ctx(
        self: FakeDiscord, user: UserRef, guild: FakeGuild | None, channel: FakeChannel | None
    ) -> tuple[FakeUser, FakeGuild | None, FakeChannel]:
        resolved_user = self.user(user) if not isinstance(user, FakeUser) else user
        if channel is not None:
            found = self.find_channel(channel.id)
            if found is None:
                raise LookupError(f"channel {channel.name!r} ({channel.id}) does not exist")
            guild = found[1]
        else:
            guild = guild or self.world.guild
            channel = next(c for c in guild.channels if c.type == 0)
        return resolved_user, guild, channel

    async def _dispatch_interaction(
        self: FakeDiscord,
        itype: int,
        data: dict[str, Any],
        user: FakeUser,
        guild: FakeGuild | None,
        channel: FakeChannel,
        message: StoredMessage | None = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        iid, token = self.new_id(), f"fake.{secrets.token_urlsafe(32)}"
        # A back-dated snowflake: discord.py's Interaction.created_at then says it is this old.
        iid -= int(self.interaction_age * 1000) << 22
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.world.application_id),
            "type": itype,
            "data": data,
            "channel_id": str(channel.id),
            "token": token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if guild is not None:
            member = guild.member(user.id)
            if member is None:
                raise ValueError(f"{user.username} is not a member of {guild.name}")
            if not guild.can_view(channel, user.id):
                raise ValueError(
                    f"{user.username} cannot view #{channel.name}: Discord would not let them "
                    "use a command or a component there"
                )
            # Like Discord: the member's and the bot's permissions *in this channel*.
            perms = guild.channel_permissions(channel, user.id)
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": guild.locale, "features": []},
                guild_locale=guild.locale,
                member=member_payload(guild, member, with_permissions=True, channel=channel),
                channel=channel_payload(channel, permissions=perms),
                app_permissions=str(guild.channel_permissions(channel, self.world.bot.id)),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,  # GUILD
            )
        else:
            payload.update(
                user=user_payload(user),
                channel=channel_payload(channel),
                app_permissions=str(2**53 - 1),
                authorizing_integration_owners={"0": "0"},
                context=1,  # BOT_DM
            )
        if message is not None:
            payload["message"] = message.payload
        handle = InteractionHandle(
            self,
            iid,
            token,
            itype,
            payload,
            user,
            guild,
            channel.id,
            source_message_id=message.id if message else None,
        )
        self.interactions[iid] = handle
        self.interactions_by_token[token] = handle
        handle.dispatched_at = time.monotonic()
        if await self.gateway.dispatch("INTERACTION_CREATE", payload) == 0:
            raise RuntimeError("no bot session is connected to the fake gateway")
        return handle

    def _command_data(
        self: FakeDiscord, name: str, kind: int, guild: FakeGuild | None
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """``data.id``/``data.guild_id`` as Discord sends them; guild commands need guild_id."""
        cmd = self.commands.find(name, kind, guild.id if guild else None)
        if cmd is None and self.require_synced_commands:
            raise LookupError(f"command {name!r} (type {kind}) was never synced to the fake")
        cmd_id = (
            int(cmd["id"])
            if cmd
            else self.adhoc_command_ids.setdefault((name, kind), self.new_id())
        )
        data: dict[str, Any] = {"id": str(cmd_id), "name": name, "type": kind}
        if cmd is not None and "guild_id" in cmd:
            data["guild_id"] = cmd["guild_id"]
        return data, cmd

    async def slash(
        self: FakeDiscord,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        subcommand: str | None = None,
        user: UserRef = None,
        guild: FakeGuild | None = None,
        channel: FakeChannel | None = None,
        locale: str = "en-US",
        _focused: str | None = None,
    ) -> InteractionHandle:
        """Invoke ``/name [subcommand...] options`` (CHAT_INPUT). ``name`` may be "group sub"."""
        who, guild, channel = self._ctx(user, guild, channel)
        root, path = split_path(name, subcommand)
        data, cmd = self._command_data(root, 1, guild)
        builder = OptionBuilder(guild, self.make_attachment, who.id, channel)
        data["options"] = builder.build(path, options or {}, leaf_schema(cmd, path), _focused)
        if builder.resolved and _focused is None:
            data["resolved"] = builder.resolved  # Discord sends no resolved data to autocomplete
        itype = 4 if _focused is not None else 2
        return await self._dispatch_interaction(itype, data, who, guild, channel, locale=locale)

    async def autocomplete(
        self: FakeDiscord,
        name: str,
        options: dict[str, Any] | None = None,
        focused: str = "",
        **kwargs: Any,
    ) -> InteractionHandle:
        """Type-4 interaction; ``options[focused]`` is the partial text (sent as a string)."""
        return await self.slash(name, options, _focused=focused, **kwargs)

    async def click(
        self: FakeDiscord,
        message: int | StoredMessage,
        custom_id: str,
        *,
        user: UserRef = None,
        values: list[str] | None = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Click a button / choose select ``values`` on a message the bot sent."""
        msg = self.store.get(message if isinstance(message, int) else message.id)
        if msg is None:
            raise LookupError(f"message {message!r} is not in the fake's store")
        comp = msg.component(custom_id)
        if comp is None:
            raise LookupError(
                f"{custom_id!r} not among the message's components: {msg.custom_ids()}"
            )
        if comp.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled; Discord would not send a click")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": comp["type"]}
        if values is not None:
            data["values"] = values
        found = self.find_channel(msg.channel_id)
        if found is None:
            raise LookupError(f"channel {msg.channel_id} unknown")
        who, guild, channel = self._ctx(user, found[1], found[0])
        return await self._dispatch_interaction(3, data, who, guild, channel, msg, locale)

    async def message_context(
        self: FakeDiscord,
        name: str,
        target: int | StoredMessage,
        *,
        user: UserRef = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Run a MESSAGE context-menu command (type 2, command type 3) on a stored message."""
        msg = self.store.get(target if isinstance(target, int) else target.id)
        if msg is None:
            raise LookupError(f"message {target!r} is not in the fake's store")
        found = self.find_channel(msg.channel_id)
        assert found is not None
        who, guild, channel = self._ctx(user, found[1], found[0])
        data, _ = self._command_data(name, 3, guild)
        data.update(target_id=str(msg.id), resolved={"messages": {str(msg.id): msg.payload}})
        return await self._dispatch_interaction(2, data, who, guild, channel, locale=locale)

    async def user_context(
        self: FakeDiscord,
        name: str,
        target: FakeUser | str,
        *,
        user: UserRef = None,
        guild: FakeGuild | None = None,
        channel: FakeChannel | None = None,
    ) -> InteractionHandle:
        """Run a USER context-menu command (command type 2) on a member."""
        who, guild, channel = self._ctx(user, guild, channel)
        target_user = self.user(target) if isinstance(target, str) else target
        data, _ = self._command_data(name, 2, guild)
        builder = OptionBuilder(guild, self.make_attachment, who.id, channel)
        data.update(target_id=builder._resolve_user(target_user), resolved=builder.resolved)
        return await self._dispatch_interaction(2, data, who, guild, channel)

    async def modal_submit(
        self: FakeDiscord,
        opened_by: InteractionHandle,
        values: dict[str, str | list[str]],
        *,
        user: UserRef = None,
    ) -> InteractionHandle:
        """Submit the modal the bot answered ``opened_by`` with; ``values`` keyed by custom_id."""
        if opened_by.modal is None:
            raise LookupError("that interaction was not answered with a modal")
        data = {
            "custom_id": opened_by.modal["custom_id"],
            "components": _fill_modal(opened_by.modal.get("components", []), values),
        }
        channel = self.find_channel(opened_by.channel_id or 0)
        assert channel is not None
        source = self.store.get(opened_by.source_message_id or 0)
        who = opened_by.user if user is None else self.user(user)
        return await self._dispatch_interaction(5, data, who, channel[1], channel[0], source)


def _fill_modal(
    components: list[dict[str, Any]], values: dict[str, str | list[str]]
) -> list[dict[str, Any]]:
    """Mirror the modal's layout with submitted values (action rows and v2 labels both work)."""
    out: list[dict[str, Any]] = []
    for comp in components:
        kind = comp["type"]
        if kind == 1:
            out.append({"type": 1, "components": _fill_modal(comp.get("components", []), values)})
        elif kind == 18:  # Label wraps exactly one component
            out.append({"type": 18, "component": _fill_modal([comp["component"]], values)[0]})
        elif "custom_id" in comp:
            value = values.get(comp["custom_id"], "" if kind == 4 else [])
            key = "value" if kind == 4 else "values"
            out.append({"type": kind, "custom_id": comp["custom_id"], key: value})
        else:
            out.append({"type": kind, **({"id": comp["id"]} if "id" in comp else {})})
    return out
