"""FakeDiscord: an aiohttp app serving REST under /api/v10 and the gateway at /gateway."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any, Self

import yarl
from aiohttp import web
from discord.gateway import DiscordWebSocket
from discord.http import Route

from .channels import ChannelMixin
from .faults import RateLimitRule, RouteMatcher
from .gateway import Gateway, GatewaySession
from .interactions import InteractionHandle, InteractionMixin
from .messages import MessageStore, StoredMessage
from .models import (
    CommandRegistry,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    SnowflakeFactory,
    World,
    default_world,
    sharded_world,
)
from .payloads import error_payload, member_payload, role_payload
from .recording import RecordedRequest, json_response, record
from .rest import RestApi
from .rest_interactions import InteractionRoutes

GUILD_MESSAGES, DIRECT_MESSAGES, MESSAGE_CONTENT = 1 << 9, 1 << 12, 1 << 15


class FakeDiscord(InteractionMixin, ChannelMixin):
    """A fake Discord for the real discord.py client.

    Use ``async with FakeDiscord() as server:`` (starts, patches discord.py's endpoints, and
    undoes both), or ``await start()`` + ``with server.patched():`` + ``await stop()``.
    """

    API_PREFIX = "/api/v10"

    def __init__(
        self,
        world: World | None = None,
        *,
        heartbeat_interval_ms: int = 5_000,
        interaction_deadline: float | None = 3.0,
        echo_message_events: bool = True,
        followup_replaces_thinking: bool = True,
        require_synced_commands: bool = False,
        shard_count: int = 0,
    ) -> None:
        self.new_id = SnowflakeFactory()
        # With shard_count, one guild per shard (see sharded_world), for sharded clients.
        if world is None:
            world = (
                sharded_world(self.new_id, shard_count)
                if shard_count
                else default_world(self.new_id)
            )
        self.world = world
        # Discord's 3 s rule for the first callback; None disables it (e.g. under a debugger).
        self.interaction_deadline = interaction_deadline
        # Send MESSAGE_CREATE/UPDATE/DELETE for the bot's own non-ephemeral messages, like Discord.
        self.echo_message_events = echo_message_events
        self.followup_replaces_thinking = followup_replaces_thinking
        # If True, slash()/context helpers refuse commands the client never synced.
        self.require_synced_commands = require_synced_commands
        self.requests: list[RecordedRequest] = []
        self.unhandled: list[RecordedRequest] = []
        self.requests_by_token: dict[str, list[RecordedRequest]] = {}
        self.client_errors: list[logging.LogRecord] = []  # filled by run_client
        self.internal_errors: list[str] = []  # tracebacks of bugs in the fake's own handlers
        # Route names ("POST /webhooks/{app_id}/{token}") whose next call is refused with 403,
        # to test how the bot copes when Discord says no halfway through a reply.
        self.faults: list[str] = []
        self.rate_limits: list[RateLimitRule] = []  # see rate_limit()
        # Seconds by which new interactions' snowflakes are back-dated (see expire_token()).
        self.interaction_age = 0.0
        self.commands = CommandRegistry(self.world.application_id, self.new_id)
        self.adhoc_command_ids: dict[tuple[str, int], int] = {}
        self.store = MessageStore(self.new_id, self._attachment_url, self.lookup_user)
        self.interactions: dict[int, InteractionHandle] = {}
        self.interactions_by_token: dict[str, InteractionHandle] = {}
        self.dm_channels: dict[int, FakeChannel] = {}
        self.gateway = Gateway(self, heartbeat_interval_ms)
        self.rest = RestApi(self)
        InteractionRoutes(self, self.rest.router)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._patches = contextlib.ExitStack()

    # ---- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._attachment)
        app.router.add_route("*", self.API_PREFIX + "/{tail:.*}", self.rest.handle)
        app.router.add_route("*", "/{tail:.*}", self._outside_api)
        # Short shutdown timeout: a test must not hang 60 s on a client that forgot to close.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @contextlib.contextmanager
    def patched(self) -> Iterator[Self]:
        """Point discord.py's REST base and default gateway at this server (process-global!)."""
        old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
        Route.BASE = self.rest_base
        DiscordWebSocket.DEFAULT_GATEWAY = self.gateway_url
        try:
            yield self
        finally:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway

    async def __aenter__(self) -> Self:
        await self.start()
        self._patches.enter_context(self.patched())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._patches.close()
        await self.stop()

    # ---- addresses --------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeDiscord is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def rest_base(self) -> str:
        return self.base_url + self.API_PREFIX

    @property
    def gateway_url(self) -> yarl.URL:
        # DEFAULT_GATEWAY is a yarl.URL in discord.py 2.x (it calls .with_query on it).
        return yarl.URL(self.base_url.replace("http://", "ws://", 1) + "/gateway")

    # ---- world lookups ----------------------------------------------------------------------

    @property
    def guild(self) -> FakeGuild:
        return self.world.guild

    @property
    def channel(self) -> FakeChannel:
        return next(c for c in self.world.guild.channels if c.type == 0)

    @property
    def messages(self) -> dict[int, StoredMessage]:
        return self.store.messages

    def user(self, ref: FakeUser | str | None = None) -> FakeUser:
        """A user by name (``"alice"``, ``"mod"``, ``"owner"``, ``"bot"``...); default alice."""
        if isinstance(ref, FakeUser):
            return ref
        name = ref or "alice"
        if name not in self.world.users:
            raise KeyError(f"no fake user {name!r}; known: {sorted(self.world.users)}")
        return self.world.users[name]

    def lookup_user(self, user_id: int) -> FakeUser | None:
        return next((u for u in self.world.users.values() if u.id == user_id), None)

    def find_guild(self, guild_id: int) -> FakeGuild | None:
        return next((g for g in self.world.guilds if g.id == guild_id), None)

    def find_channel(self, channel_id: int) -> tuple[FakeChannel, FakeGuild | None] | None:
        for guild in self.world.guilds:
            if (channel := guild.channel(channel_id)) is not None:
                return channel, guild
        dm = next((c for c in self.dm_channels.values() if c.id == channel_id), None)
        return (dm, None) if dm else None

    async def add_user(
        self, name: str, *, permissions: int | None = None, guild: FakeGuild | None = None
    ) -> FakeUser:
        """Add a guild member (with a fresh role granting ``permissions``, if given).

        Before the client connects it simply appears in GUILD_CREATE; afterwards the matching
        GUILD_ROLE_CREATE / GUILD_MEMBER_ADD events are dispatched.
        """
        guild = guild or self.guild
        user = FakeUser(self.new_id(), name, global_name=name.title())
        self.world.users[name] = user
        member = FakeMember(user)
        if permissions is not None:
            role = FakeRole(self.new_id(), f"{name}-role", permissions, len(guild.roles))
            guild.roles.append(role)
            member.role_ids.append(role.id)
            await self.dispatch(
                "GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role_payload(role)}
            )
        guild.members.append(member)
        await self.dispatch(
            "GUILD_MEMBER_ADD", {**member_payload(guild, member), "guild_id": str(guild.id)}
        )
        return user

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        if user.id not in self.dm_channels:
            self.dm_channels[user.id] = FakeChannel(self.new_id(), "", type=1, recipient=user)
        return self.dm_channels[user.id]

    # ---- waiting / querying -----------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Poll ``predicate`` every 10 ms; TimeoutError (listing unhandled routes) if never true."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() >= deadline:
                raise TimeoutError(
                    f"condition not met within {timeout}s; unhandled={self.unhandled}; "
                    f"fake errors={self.internal_errors}"
                )
            await asyncio.sleep(0.01)

    def requests_to(self, route: str) -> list[RecordedRequest]:
        """Requests matching a route template, e.g. ``"PUT /applications/{app_id}/commands"``."""
        return [r for r in self.requests if r.route == route]

    def reset_records(self) -> None:
        self.requests.clear()
        self.unhandled.clear()
        self.requests_by_token.clear()

    # ---- faults -----------------------------------------------------------------------------

    def rate_limit(
        self,
        route: RouteMatcher,
        *,
        times: int = 1,
        retry_after: float = 0.3,
        is_global: bool = False,
    ) -> RateLimitRule:
        """Answer the next ``times`` requests matching ``route`` (a route template such as
        ``"PATCH /webhooks/{app_id}/{token}/messages/{message_id}"``, or a predicate on the
        recorded request) with 429 and ``retry_after`` seconds."""
        rule = RateLimitRule(route, times, retry_after, is_global)
        self.rate_limits.append(rule)
        return rule

    def rate_limited(self, req: RecordedRequest) -> tuple[dict[str, Any], dict[str, str]] | None:
        """The 429 (body, headers) for ``req`` if a rule takes it, else None."""
        rule = next((r for r in self.rate_limits if r.matches(req)), None)
        return None if rule is None else rule.answer()

    def expire_token(self, handle: InteractionHandle) -> None:
        """The interaction's 15 minutes are over: its webhook routes now answer 401 50027."""
        handle.token_expired = True

    # ---- gateway passthroughs ---------------------------------------------------------------

    async def dispatch(self, event: str, data: Any) -> int:
        return await self.gateway.dispatch(event, data)

    async def drop_connection(self, code: int = 4000) -> None:
        await self.gateway.drop(code)

    async def wait_for_session(self, timeout: float = 5.0) -> GatewaySession:  # noqa: ASYNC109
        await self.wait_for(lambda: bool(self.gateway.live_sessions()), timeout)
        return self.gateway.live_sessions()[-1]

    async def echo(self, event: str, msg: StoredMessage) -> None:
        """Gateway echo of a message change, honouring intents like Discord (never ephemerals)."""
        if not self.echo_message_events or msg.ephemeral:
            return
        found = self.find_channel(msg.channel_id)
        if found is None:
            return  # the channel was deleted
        channel, guild = found
        if guild is not None and not guild.can_view(channel, self.world.bot.id):
            return  # no message events from channels the bot cannot see
        data: dict[str, Any] = dict(msg.payload)
        if event == "MESSAGE_DELETE":
            data = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
        if guild is not None:
            data["guild_id"] = str(guild.id)
            author = guild.member(int(msg.payload["author"]["id"]))
            if author is not None and event == "MESSAGE_CREATE":
                data["member"] = member_payload(guild, author, with_user=False)
        needed = GUILD_MESSAGES if guild is not None else DIRECT_MESSAGES
        for session in list(self.gateway.sessions.values()):
            if session.intents & needed and session.holds(guild.id if guild else None):
                await self.gateway.send_to(
                    session, event, _strip_content(data, session, self.world.bot)
                )

    async def user_message(
        self,
        content: str,
        *,
        user: FakeUser | str | None = None,
        channel: FakeChannel | None = None,
    ) -> StoredMessage:
        """A message *a user* posts (MESSAGE_CREATE is dispatched); a target for context menus."""
        author = self.user(user)
        channel = channel or self.channel
        found = self.find_channel(channel.id)
        msg = self.store.create(
            channel_id=channel.id,
            guild=found[1] if found else None,
            author=author,
            body={"content": content},
            files=[],
        )
        await self.echo("MESSAGE_CREATE", msg)
        return msg

    # ---- attachments ------------------------------------------------------------------------

    def _attachment_url(self, channel_id: int, attachment_id: int, filename: str) -> str:
        return f"{self.base_url}/attachments/{channel_id}/{attachment_id}/{filename}"

    def make_attachment(self, value: tuple[Any, ...]) -> dict[str, Any]:
        """``(filename, bytes[, content_type])`` -> a resolved attachment for an option."""
        filename, data = value[0], value[1]
        att_id = self.new_id()
        self.store.attachment_data[att_id] = data
        url = self._attachment_url(0, att_id, filename)
        content_type = value[2] if len(value) > 2 else "application/octet-stream"
        return {
            "id": str(att_id),
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
            "ephemeral": True,
        }

    async def _attachment(self, request: web.Request) -> web.StreamResponse:
        req = await record(request, request.path)
        self.requests.append(req)
        data = self.store.attachment_data.get(int(request.match_info["attachment_id"]))
        req.status = 200 if data is not None else 404
        if data is None:
            return json_response(404, error_payload(404, "Not Found"))
        return web.Response(body=data, content_type="application/octet-stream")

    async def _outside_api(self, request: web.Request) -> web.Response:
        req = await record(request, request.path)
        req.status = 404
        self.requests.append(req)
        self.unhandled.append(req)
        return json_response(
            404, error_payload(404, f"fakediscord: {request.path} is outside the API")
        )


def _strip_content(data: dict[str, Any], session: GatewaySession, bot: FakeUser) -> dict[str, Any]:
    """Without MESSAGE_CONTENT, Discord blanks content unless the bot wrote it or is mentioned."""
    if session.intents & MESSAGE_CONTENT or "content" not in data:
        return data
    author_id = int(data.get("author", {}).get("id", 0))
    mentioned = any(int(u["id"]) == bot.id for u in data.get("mentions", []))
    if author_id == bot.id or mentioned or "guild_id" not in data:
        return data
    return {**data, "content": "", "embeds": [], "attachments": [], "components": []}
