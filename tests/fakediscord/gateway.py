"""Fake gateway: HELLO / IDENTIFY -> READY + GUILD_CREATE, heartbeats, RESUME, dispatch, drops.

Frames are sent as uncompressed TEXT. discord.py always asks for ``compress=zlib-stream``
(or ``zstd-stream``) in the URL, but it only runs its decompressor on BINARY frames
(``DiscordWebSocket.received_message``), so plain text JSON is accepted regardless.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .payloads import guild_payload, member_payload, ready_payload

if TYPE_CHECKING:
    from .server import FakeDiscord

log = logging.getLogger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, RESUME, RECONNECT = 0, 1, 2, 3, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11
# Close codes after which Discord forgets the session (a client's clean close).
_SESSION_ENDING_CLOSES = (1000, 1001)


@dataclass
class GatewaySession:
    session_id: str
    identify: dict[str, Any]
    seq: int = 0
    ws: web.WebSocketResponse | None = None
    # Every frame sent, so RESUME can replay what a dropped client missed (bounded for load tests).
    backlog: collections.deque[dict[str, Any]] = field(
        default_factory=lambda: collections.deque(maxlen=10_000)
    )
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def shard(self) -> tuple[int, int] | None:
        """``(shard_id, shard_count)`` from IDENTIFY, or None for an unsharded client."""
        shard = self.identify.get("shard")
        return None if not shard else (int(shard[0]), int(shard[1]))

    def holds(self, guild_id: int | None) -> bool:
        """Whether Discord sends this guild's events here: to shard
        ``(guild_id >> 22) % shard_count``, and events of no guild (DMs) to shard 0."""
        if self.shard is None:
            return True
        shard_id, count = self.shard
        return (0 if guild_id is None else (guild_id >> 22) % count) == shard_id

    @property
    def intents(self) -> int:
        return int(self.identify.get("intents", 0))

    @property
    def connected(self) -> bool:
        return self.ws is not None and not self.ws.closed


@dataclass
class GatewayFrame:
    timestamp: float
    session_id: str | None
    payload: dict[str, Any]


def guild_of(event: str, data: Any) -> int | None:
    """The guild an event belongs to (``guild_id``, or a GUILD_* event's own ``id``)."""
    if not isinstance(data, dict):
        return None
    if data.get("guild_id") is not None:
        return int(data["guild_id"])
    if event.startswith("GUILD_") and data.get("id") is not None:
        return int(data["id"])
    return None


class Gateway:
    def __init__(self, server: FakeDiscord, heartbeat_interval_ms: int) -> None:
        self.server = server
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.sessions: dict[str, GatewaySession] = {}
        self.received: list[GatewayFrame] = []  # every frame clients sent (heartbeats included)
        self.connect_queries: list[dict[str, str]] = []  # ?v=10&encoding=json&compress=...
        self.identify_count = 0
        self.resume_count = 0
        self._sockets: set[web.WebSocketResponse] = set()
        # Cleared by a test to hold RESUMEs back: the bot stays away while events queue up.
        self.resumes_open = asyncio.Event()
        self.resumes_open.set()

    # ---- public API -------------------------------------------------------------------------

    def live_sessions(self) -> list[GatewaySession]:
        return [s for s in self.sessions.values() if s.connected]

    async def dispatch(self, event: str, data: Any, *, intents: int | None = None) -> int:
        """Send a DISPATCH to every known session; disconnected ones get it on RESUME.

        A sharded session gets only the events of its shard's guilds (and shard 0 those of no
        guild), as Discord routes them. With ``intents``, only sessions that identified with
        one of those intent bits get it (as Discord filters GUILD_MEMBER_UPDATE,
        CHANNEL_UPDATE...). Returns how many sessions it was queued for (0 means no bot is
        connected).
        """
        sent = 0
        guild_id = guild_of(event, data)
        for session in list(self.sessions.values()):
            if not session.holds(guild_id):
                continue
            if intents is None or session.intents & intents:
                await self._send_dispatch(session, event, data)
                sent += 1
        return sent

    async def send_to(self, session: GatewaySession, event: str, data: Any) -> None:
        """DISPATCH to one session (used for intent-filtered events)."""
        await self._send_dispatch(session, event, data)

    async def drop(self, code: int = 4000) -> None:
        """Close every live socket like a network blip; sessions stay resumable."""
        for session in self.live_sessions():
            ws, session.ws = session.ws, None
            if ws is not None:
                await ws.close(code=code, message=b"fakediscord drop")

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: the client closes and RESUMEs on resume_gateway_url."""
        for session in self.live_sessions():
            await self._send(session, {"op": RECONNECT, "d": None})

    async def invalidate(self, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; with ``resumable=False`` the client re-IDENTIFYs."""
        for session in self.live_sessions():
            if not resumable:
                self.sessions.pop(session.session_id, None)
            await self._send(session, {"op": INVALID_SESSION, "d": resumable})

    async def close_all(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b"fakediscord stopping")

    # ---- websocket handler ------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        self.connect_queries.append(dict(request.query))
        ws = web.WebSocketResponse(max_msg_size=0, timeout=2.0)
        await ws.prepare(request)
        self._sockets.add(ws)
        session: GatewaySession | None = None
        try:
            await ws.send_str(
                json.dumps({"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
            )
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                self.received.append(
                    GatewayFrame(time.monotonic(), session.session_id if session else None, frame)
                )
                session = await self._on_frame(ws, session, frame)
        finally:
            self._sockets.discard(ws)
            if session is not None and session.ws is ws:
                session.ws = None
                if ws.close_code in _SESSION_ENDING_CLOSES:
                    self.sessions.pop(session.session_id, None)
        return ws

    async def _on_frame(
        self, ws: web.WebSocketResponse, session: GatewaySession | None, frame: dict[str, Any]
    ) -> GatewaySession | None:
        op, data = frame.get("op"), frame.get("d")
        if op == HEARTBEAT:
            await ws.send_str(json.dumps({"op": HEARTBEAT_ACK}))
        elif op == IDENTIFY:
            session = await self._identify(ws, data)
        elif op == RESUME:
            session = await self._resume(ws, data)
        elif op == REQUEST_MEMBERS and session is not None:
            await self._members_chunk(session, data)
        return session

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> GatewaySession:
        self.identify_count += 1
        session = GatewaySession(secrets.token_hex(16), data, ws=ws)
        self.sessions[session.session_id] = session
        world = self.server.world
        guilds = [guild for guild in world.guilds if session.holds(guild.id)]
        ready = ready_payload(world, session.session_id, str(self.server.gateway_url), guilds)
        if session.shard is not None:
            ready["shard"] = list(session.shard)
        await self._send_dispatch(session, "READY", ready)
        for guild in guilds:
            await self._send_dispatch(session, "GUILD_CREATE", guild_payload(guild, world.bot.id))
        return session

    async def _resume(
        self, ws: web.WebSocketResponse, data: dict[str, Any]
    ) -> GatewaySession | None:
        self.resume_count += 1
        await self.resumes_open.wait()
        session = self.sessions.get(data.get("session_id", ""))
        if session is None:
            await ws.send_str(json.dumps({"op": INVALID_SESSION, "d": False}))
            return None
        last_seen = int(data.get("seq") or 0)
        async with session.send_lock:
            # Attached under the lock: an event dispatched meanwhile is either in the backlog
            # replayed here or sent after it, never both (a doubled interaction).
            session.ws = ws
            for frame in list(session.backlog):
                if frame["s"] > last_seen:
                    await ws.send_str(json.dumps(frame))
        await self._send_dispatch(session, "RESUMED", {"_trace": ["fakediscord"]})
        return session

    async def _members_chunk(self, session: GatewaySession, data: dict[str, Any]) -> None:
        guild = next((g for g in self.server.world.guilds if g.id == int(data["guild_id"])), None)
        if guild is None:
            return
        query = (data.get("query") or "").lower()
        wanted = {int(u) for u in data.get("user_ids") or []}
        members = [
            m
            for m in guild.members
            if (not wanted or m.user.id in wanted) and m.user.username.lower().startswith(query)
        ]
        chunk = {
            "guild_id": str(guild.id),
            "members": [member_payload(guild, m) for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", chunk)

    # ---- sending ----------------------------------------------------------------------------

    async def _send_dispatch(self, session: GatewaySession, event: str, data: Any) -> None:
        async with session.send_lock:
            session.seq += 1
            frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
            session.backlog.append(frame)
            await self._write(session, frame)

    async def _send(self, session: GatewaySession, frame: dict[str, Any]) -> None:
        async with session.send_lock:
            await self._write(session, frame)

    async def _write(self, session: GatewaySession, frame: dict[str, Any]) -> None:
        ws = session.ws
        if ws is None or ws.closed:
            return  # kept in the backlog; delivered on RESUME
        try:
            await ws.send_str(json.dumps(frame))
        except ConnectionError:
            log.debug("gateway write failed for session %s", session.session_id)
