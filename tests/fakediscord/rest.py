"""REST API: a tiny router plus the user / application / command / channel routes.

Every request is recorded *before* it is handled (so ordering and timestamps reflect arrival),
then updated with the status and response body. Interaction callback and webhook routes live
in :mod:`.rest_interactions`.
"""

from __future__ import annotations

import copy
import re
import traceback
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .models import (
    ADD_REACTIONS,
    ATTACH_FILES,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
)
from .payloads import (
    app_info_payload,
    channel_payload,
    error_payload,
    guild_payload,
    member_payload,
    user_payload,
)
from .recording import RecordedRequest, json_response, record

if TYPE_CHECKING:
    from .messages import StoredMessage
    from .models import FakeChannel, FakeGuild
    from .server import FakeDiscord

Params = dict[str, str]
Result = tuple[int, Any]
Handler = Callable[[RecordedRequest, Params], Awaitable[Result]]


class ApiError(Exception):
    """Raised by handlers; becomes a Discord-style JSON error (discord.py raises NotFound...)."""

    def __init__(self, status: int, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def unknown(what: str, code: int) -> ApiError:
    return ApiError(404, f"Unknown {what}", code)


# Discord's answers when the bot may not see a channel, or may see it but not do the thing.
def missing_access() -> ApiError:
    return ApiError(403, "Missing Access", 50001)


def missing_permissions() -> ApiError:
    return ApiError(403, "Missing Permissions", 50013)


class Router:
    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], str, Handler]] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        self.routes.append((method, re.compile(f"^{pattern}$"), f"{method} {template}", handler))

    def match(self, method: str, path: str) -> tuple[str, Handler, Params] | None:
        for route_method, pattern, name, handler in self.routes:
            if route_method == method and (m := pattern.match(path)):
                return name, handler, m.groupdict()
        return None


class RestApi:
    def __init__(self, server: FakeDiscord) -> None:
        self.server = server
        self.router = Router()
        add = self.router.add
        add("GET", "/users/@me", self.get_me)
        add("GET", "/users/{user_id}", self.get_user)
        add("POST", "/users/@me/channels", self.create_dm)
        add("GET", "/oauth2/applications/@me", self.app_info)
        add("GET", "/applications/@me", self.app_info)
        add("GET", "/gateway", self.get_gateway)
        add("GET", "/gateway/bot", self.get_gateway)
        for prefix in ("/applications/{app_id}", "/applications/{app_id}/guilds/{guild_id}"):
            add("GET", prefix + "/commands", self.list_commands)
            add("PUT", prefix + "/commands", self.bulk_commands)
            add("POST", prefix + "/commands", self.upsert_command)
            add("GET", prefix + "/commands/{command_id}", self.get_command)
            add("PATCH", prefix + "/commands/{command_id}", self.edit_command)
            add("DELETE", prefix + "/commands/{command_id}", self.delete_command)
        add("GET", "/guilds/{guild_id}", self.get_guild)
        add("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member)
        add("GET", "/channels/{channel_id}", self.get_channel)
        add("GET", "/channels/{channel_id}/thread-members/{user_id}", self.get_thread_member)
        add("POST", "/channels/{channel_id}/typing", self.typing)
        add("GET", "/channels/{channel_id}/messages", self.history)
        add("POST", "/channels/{channel_id}/messages", self.create_message)
        add("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message)
        add("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_message)
        add("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message)
        reaction = "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}"
        add("PUT", reaction + "/@me", self.react)
        add("DELETE", reaction + "/@me", self.unreact)

    async def handle(self, request: web.Request) -> web.Response:
        try:
            return await self._handle(request)
        except Exception:
            # A bug in the fake itself. Answer 400 (a 5xx would make discord.py retry with
            # sleeps) and keep the traceback so wait_for timeouts can show it.
            self.server.internal_errors.append(traceback.format_exc())
            return json_response(400, error_payload(400, "fakediscord internal error"))

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path.removeprefix(self.server.API_PREFIX)
        req = await record(request, path)
        self.server.requests.append(req)
        found = self.router.match(req.method, path)
        if found is None:
            self.server.unhandled.append(req)
            status, body = 404, error_payload(404, f"fakediscord: no route for {req.method} {path}")
        else:
            req.route, handler, params = found
            if "token" in params:  # index per interaction so handles don't rescan everything
                self.server.requests_by_token.setdefault(params["token"], []).append(req)
            limited = self.server.rate_limited(req)
            if limited is not None:
                req.status, req.response = 429, limited[0]
                return json_response(429, *limited)
            try:
                if req.route in self.server.faults:
                    self.server.faults.remove(req.route)
                    raise ApiError(403, "Missing Permissions (injected by the test)", 50013)
                status, body = await handler(req, params)
            except ApiError as exc:
                status, body = exc.status, error_payload(exc.status, exc.message, exc.code)
        # Snapshot: handlers return live store dicts that later edits would mutate.
        req.status, req.response = status, copy.deepcopy(body)
        return json_response(status, body)

    # ---- helpers ----------------------------------------------------------------------------

    def check_app(self, params: Params) -> None:
        if int(params["app_id"]) != self.server.world.application_id:
            raise unknown("Application", 10002)

    def channel(self, channel_id: str) -> tuple[FakeChannel, FakeGuild | None]:
        found = self.server.find_channel(int(channel_id))
        if found is None:
            raise unknown("Channel", 10003)
        return found

    def allowed_channel(
        self, channel_id: str, needed: int = 0
    ) -> tuple[FakeChannel, FakeGuild | None]:
        """The channel, if the bot may see it (403 50001) and holds ``needed`` there (403 50013);
        404 Unknown Channel if it does not exist (or was deleted). DMs need nothing."""
        channel, guild = self.channel(channel_id)
        if guild is None:
            return channel, guild
        bot_id = self.server.world.bot.id
        if not guild.can_view(channel, bot_id):
            raise missing_access()
        if guild.channel_permissions(channel, bot_id) & needed != needed:
            raise missing_permissions()
        return channel, guild

    def message(self, params: Params) -> StoredMessage:
        msg = self.server.store.get(int(params["message_id"]))
        if msg is None or msg.channel_id != int(params["channel_id"]):
            raise unknown("Message", 10008)
        return msg

    # ---- users / application ----------------------------------------------------------------

    async def get_me(self, req: RecordedRequest, params: Params) -> Result:
        me = {**user_payload(self.server.world.bot), "verified": True, "mfa_enabled": False}
        return 200, {**me, "flags": 0}

    async def get_user(self, req: RecordedRequest, params: Params) -> Result:
        user = self.server.lookup_user(int(params["user_id"]))
        if user is None:
            raise unknown("User", 10013)
        return 200, user_payload(user)

    async def create_dm(self, req: RecordedRequest, params: Params) -> Result:
        user = self.server.lookup_user(int(req.json["recipient_id"]))
        if user is None:
            raise unknown("User", 10013)
        return 200, channel_payload(self.server.dm_channel(user))

    async def app_info(self, req: RecordedRequest, params: Params) -> Result:
        return 200, app_info_payload(self.server.world)

    async def get_gateway(self, req: RecordedRequest, params: Params) -> Result:
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return 200, {"url": str(self.server.gateway_url), "shards": 1, "session_start_limit": limit}

    # ---- application commands ---------------------------------------------------------------

    @staticmethod
    def _scope(params: Params) -> int | None:
        return int(params["guild_id"]) if "guild_id" in params else None

    async def list_commands(self, req: RecordedRequest, params: Params) -> Result:
        self.check_app(params)
        return 200, self.server.commands.list(self._scope(params))

    async def bulk_commands(self, req: RecordedRequest, params: Params) -> Result:
        self.check_app(params)
        return 200, self.server.commands.bulk_overwrite(self._scope(params), req.json or [])

    async def upsert_command(self, req: RecordedRequest, params: Params) -> Result:
        self.check_app(params)
        return 201, self.server.commands.upsert(self._scope(params), req.json)

    async def get_command(self, req: RecordedRequest, params: Params) -> Result:
        self.check_app(params)
        cmd = self.server.commands.by_id(self._scope(params), int(params["command_id"]))
        if cmd is None:
            raise unknown("application command", 10063)
        return 200, cmd

    async def edit_command(self, req: RecordedRequest, params: Params) -> Result:
        status, cmd = await self.get_command(req, params)
        return status, self.server.commands.upsert(self._scope(params), {**cmd, **req.json})

    async def delete_command(self, req: RecordedRequest, params: Params) -> Result:
        self.check_app(params)
        if not self.server.commands.delete(self._scope(params), int(params["command_id"])):
            raise unknown("application command", 10063)
        return 204, None

    # ---- guilds / channels / messages -------------------------------------------------------

    async def get_guild(self, req: RecordedRequest, params: Params) -> Result:
        guild = self.server.find_guild(int(params["guild_id"]))
        if guild is None:
            raise unknown("Guild", 10004)
        return 200, guild_payload(guild)

    async def get_member(self, req: RecordedRequest, params: Params) -> Result:
        guild = self.server.find_guild(int(params["guild_id"]))
        member = guild.member(int(params["user_id"])) if guild else None
        if guild is None or member is None:
            raise unknown("Member", 10007)
        return 200, member_payload(guild, member)

    async def get_thread_member(self, req: RecordedRequest, params: Params) -> Result:
        """A thread's member, as Discord answers it (404 Unknown Member if not one)."""
        channel, _ = self.allowed_channel(params["channel_id"])
        user_id = int(params["user_id"])
        if not channel.is_thread or user_id not in channel.member_ids:
            raise unknown("Member", 10007)
        return 200, {
            "id": str(channel.id),
            "user_id": str(user_id),
            "join_timestamp": "2026-01-01T00:00:00+00:00",
            "flags": 0,
        }

    async def get_channel(self, req: RecordedRequest, params: Params) -> Result:
        channel, _ = self.allowed_channel(params["channel_id"])
        return 200, channel_payload(channel, bot_id=self.server.world.bot.id)

    async def typing(self, req: RecordedRequest, params: Params) -> Result:
        self.allowed_channel(params["channel_id"], self._send_permission(params))
        return 204, None

    async def history(self, req: RecordedRequest, params: Params) -> Result:
        channel, guild = self.allowed_channel(params["channel_id"])
        bot_id = self.server.world.bot.id
        if guild is not None and not guild.channel_permissions(channel, bot_id) & (
            READ_MESSAGE_HISTORY
        ):
            return 200, []  # Discord returns no messages rather than an error
        msgs = [
            m for m in self.server.store.in_channel(int(params["channel_id"])) if not m.ephemeral
        ]
        if "before" in req.query:
            msgs = [m for m in msgs if m.id < int(req.query["before"])]
        if "after" in req.query:
            msgs = [m for m in msgs if m.id > int(req.query["after"])]
        msgs.sort(key=lambda m: m.id, reverse=True)  # newest first, like Discord
        return 200, [m.payload for m in msgs[: int(req.query.get("limit", 50))]]

    def _send_permission(self, params: Params) -> int:
        found = self.server.find_channel(int(params["channel_id"]))
        thread = found is not None and found[0].is_thread
        return SEND_MESSAGES_IN_THREADS if thread else SEND_MESSAGES

    async def create_message(self, req: RecordedRequest, params: Params) -> Result:
        body = req.json or {}
        needed = self._send_permission(params)
        if req.files:
            needed |= ATTACH_FILES
        if body.get("message_reference"):
            needed |= READ_MESSAGE_HISTORY  # a reply must be able to read what it replies to
        channel, guild = self.allowed_channel(params["channel_id"], needed)
        msg = self.server.store.create(
            channel_id=channel.id,
            guild=guild,
            author=self.server.world.bot,
            body=body,
            files=req.files,
        )
        await self.server.echo("MESSAGE_CREATE", msg)
        return 200, msg.payload

    async def get_message(self, req: RecordedRequest, params: Params) -> Result:
        self.allowed_channel(params["channel_id"], READ_MESSAGE_HISTORY)
        return 200, self.message(params).payload

    async def edit_message(self, req: RecordedRequest, params: Params) -> Result:
        _, guild = self.allowed_channel(params["channel_id"])
        msg = self.message(params)
        self.server.store.edit(msg, req.json or {}, req.files, guild)
        await self.server.echo("MESSAGE_UPDATE", msg)
        return 200, msg.payload

    async def delete_message(self, req: RecordedRequest, params: Params) -> Result:
        self.allowed_channel(params["channel_id"])
        msg = self.message(params)
        msg.deleted = True
        await self.server.echo("MESSAGE_DELETE", msg)
        return 204, None

    async def react(self, req: RecordedRequest, params: Params) -> Result:
        self.allowed_channel(params["channel_id"], READ_MESSAGE_HISTORY | ADD_REACTIONS)
        self.message(params)
        return 204, None

    async def unreact(self, req: RecordedRequest, params: Params) -> Result:
        self.allowed_channel(params["channel_id"], READ_MESSAGE_HISTORY)
        self.message(params)
        return 204, None
