"""Interaction callback + webhook (followup / @original) routes, with Discord's rules enforced.

Rules modelled because cogs get them wrong in production:
* a callback must arrive within ``server.interaction_deadline`` seconds (3 s on Discord),
  otherwise 404 Unknown interaction (10062);
* an interaction can be acknowledged once (400, code 40060);
* followups / @original need an acknowledged interaction (404 Unknown Webhook / Message);
* the first followup after a type-5 "thinking" defer *replaces* the placeholder (same id, and
  the defer's ephemerality wins over the followup's flags).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .faults import INVALID_WEBHOOK_TOKEN
from .messages import EPHEMERAL, LOADING, StoredMessage
from .payloads import user_payload
from .rest import ApiError, Params, Result, Router, unknown

if TYPE_CHECKING:
    from .interactions import InteractionHandle
    from .recording import RecordedRequest
    from .server import FakeDiscord

# Interaction types
APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
# Callback types allowed per interaction type (Discord rejects the others with 400).
_ALLOWED = {
    APPLICATION_COMMAND: {4, 5, 9},
    COMPONENT: {4, 5, 6, 7, 9},
    AUTOCOMPLETE: {8},
    MODAL_SUBMIT: {4, 5, 6, 7},
}


def invalid_body(message: str) -> ApiError:
    return ApiError(400, f"Invalid Form Body: {message}", 50035)


class InteractionRoutes:
    def __init__(self, server: FakeDiscord, router: Router) -> None:
        self.server = server
        router.add("POST", "/interactions/{interaction_id}/{token}/callback", self.callback)
        hook = "/webhooks/{app_id}/{token}"
        router.add("POST", hook, self.followup)
        router.add("GET", hook + "/messages/{message_id}", self.get_message)
        router.add("PATCH", hook + "/messages/{message_id}", self.edit_message)
        router.add("DELETE", hook + "/messages/{message_id}", self.delete_message)

    # ---- helpers ----------------------------------------------------------------------------

    def _by_token(self, params: Params) -> InteractionHandle:
        handle = self.server.interactions_by_token.get(params["token"])
        if handle is None or int(params["app_id"]) != self.server.world.application_id:
            raise unknown("Webhook", 10015)
        if handle.token_expired:
            # 15 minutes after the interaction, Discord refuses its token on every webhook route.
            raise ApiError(401, "Invalid Webhook Token", INVALID_WEBHOOK_TOKEN)
        return handle

    def _message_extra(self, handle: InteractionHandle) -> dict[str, Any]:
        """Fields Discord adds to messages created through an interaction."""
        app_id = str(self.server.world.application_id)
        data = handle.payload.get("data", {})
        kind = 0
        if handle.type == APPLICATION_COMMAND:
            kind = 20 if data.get("type", 1) == 1 else 23  # CHAT_INPUT_COMMAND / CONTEXT_MENU
        meta: dict[str, Any] = {
            "id": str(handle.id),
            "type": handle.type,
            "user": user_payload(handle.user),
            "authorizing_integration_owners": handle.payload["authorizing_integration_owners"],
        }
        if "name" in data:
            meta["name"] = data["name"]
        return {
            "webhook_id": app_id,
            "application_id": app_id,
            "type": kind,
            "interaction_metadata": meta,
        }

    def _create(
        self, handle: InteractionHandle, body: dict[str, Any], req: RecordedRequest
    ) -> StoredMessage:
        if handle.channel_id is None:
            raise invalid_body("interaction has no channel")
        return self.server.store.create(
            channel_id=handle.channel_id,
            guild=handle.guild,
            author=self.server.world.bot,
            body=body,
            files=req.files,
            extra=self._message_extra(handle),
            interaction_token=handle.token,
        )

    def _resolve(self, handle: InteractionHandle, message_id: str) -> StoredMessage:
        target = handle.original_message_id if message_id == "@original" else int(message_id)
        mine = {handle.original_message_id, *handle.followup_ids}
        msg = self.server.store.get(target) if target is not None and target in mine else None
        if msg is None:
            raise unknown("Message", 10008)
        return msg

    # ---- callback ---------------------------------------------------------------------------

    async def callback(self, req: RecordedRequest, params: Params) -> Result:
        handle = self.server.interactions.get(int(params["interaction_id"]))
        if handle is None or handle.token != params["token"]:
            raise unknown("interaction", 10062)
        if handle.callback_type is not None:
            raise ApiError(400, "Interaction has already been acknowledged.", 40060)
        deadline = self.server.interaction_deadline
        if deadline is not None and req.timestamp - handle.dispatched_at > deadline:
            handle.expired = True
            raise unknown("interaction", 10062)
        body = req.json or {}
        rtype, data = int(body.get("type", 0)), body.get("data") or {}
        if rtype not in _ALLOWED.get(handle.type, set()):
            raise invalid_body(
                f"callback type {rtype} not allowed for interaction type {handle.type}"
            )
        message: StoredMessage | None = None
        if rtype == 4:
            message = self._create(handle, data, req)
        elif rtype == 5:
            # The placeholder carries only the LOADING flag (+ ephemeral if requested).
            message = self._create(
                handle, {"flags": (int(data.get("flags") or 0) & EPHEMERAL) | LOADING}, req
            )
        elif rtype in (6, 7):
            message = self.server.store.get(handle.source_message_id or 0)
            if message is None:
                raise invalid_body("no source message to update")
            if rtype == 7:
                self.server.store.edit(message, data, req.files, handle.guild)
                await self.server.echo("MESSAGE_UPDATE", message)
        elif rtype == 8:
            handle.choices = list(data.get("choices", []))
        elif rtype == 9:
            handle.modal = data
        handle.callback_type, handle.acknowledged_at = rtype, req.timestamp
        interaction: dict[str, Any] = {
            "id": str(handle.id),
            "type": handle.type,
            "activity_instance_id": None,
        }
        resource: dict[str, Any] = {"type": rtype}
        if message is not None:
            handle.original_message_id = message.id
            if rtype in (4, 5):
                await self.server.echo("MESSAGE_CREATE", message)
            interaction.update(
                response_message_id=str(message.id),
                response_message_loading=bool(message.flags & LOADING),
                response_message_ephemeral=message.ephemeral,
            )
            if rtype != 6:
                resource["message"] = message.payload
        return 200, {"interaction": interaction, "resource": resource}

    # ---- webhooks ---------------------------------------------------------------------------

    async def followup(self, req: RecordedRequest, params: Params) -> Result:
        handle = self._by_token(params)
        if handle.callback_type is None or handle.callback_type in (8, 9):
            raise unknown("Webhook", 10015)
        body = dict(req.json or {})
        original = self.server.store.get(handle.original_message_id or 0)
        if (
            original is not None
            and not original.deleted
            and original.flags & LOADING
            and self.server.followup_replaces_thinking
        ):
            body.pop("flags", None)
            msg = self.server.store.edit(original, body, req.files, handle.guild)
            await self.server.echo("MESSAGE_UPDATE", msg)
        else:
            msg = self._create(handle, body, req)
            await self.server.echo("MESSAGE_CREATE", msg)
        handle.followup_ids.append(msg.id)
        if req.query.get("wait", "false").lower() in ("1", "true"):
            return 200, msg.payload
        return 204, None

    async def get_message(self, req: RecordedRequest, params: Params) -> Result:
        return 200, self._resolve(self._by_token(params), params["message_id"]).payload

    async def edit_message(self, req: RecordedRequest, params: Params) -> Result:
        handle = self._by_token(params)
        msg = self._resolve(handle, params["message_id"])
        self.server.store.edit(msg, req.json or {}, req.files, handle.guild)
        await self.server.echo("MESSAGE_UPDATE", msg)
        return 200, msg.payload

    async def delete_message(self, req: RecordedRequest, params: Params) -> Result:
        msg = self._resolve(self._by_token(params), params["message_id"])
        msg.deleted = True
        await self.server.echo("MESSAGE_DELETE", msg)
        return 204, None
