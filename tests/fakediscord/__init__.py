"""A fake Discord (REST + gateway on 127.0.0.1) for driving the real discord.py client in tests.

Usage::

    async def test_ping(fake_discord: FakeDiscord) -> None:
        bot = MyBot(guild_ready_timeout=0.05)  # READY 50 ms after GUILD_CREATE, not 2 s
        async with run_client(bot, fake_discord):
            await bot.tree.sync()                      # -> PUT /applications/{app}/commands
            h = await fake_discord.slash("ping", {"n": 3}, user="alice")
            await h.wait_responses(2)                  # callback + one @original edit
        assert h.callback().json["type"] == 5 and h.callback_delay < 3
        assert h.final_message().content == "pong 3"
        assert fake_discord.unhandled == []

Who sees what (see :mod:`.channels`): ``add_role``/``give_role``, ``add_private_channel``
(permission overwrites), ``add_thread``, ``delete_channel``; interactions then carry the
member's and the bot's permissions in their channel, and REST answers 403 / 404 like Discord.
For code that calls ``asyncio.run`` itself, see :func:`.threaded.serve_in_thread`.
"""

from .client import run_client
from .interactions import InteractionHandle
from .messages import EPHEMERAL, LOADING, StoredMessage
from .models import (
    ADMINISTRATOR,
    MANAGE_GUILD,
    MANAGE_THREADS,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeOverwrite,
    FakeRole,
    FakeUser,
    SnowflakeFactory,
    World,
    default_world,
    sharded_world,
)
from .recording import RecordedRequest, UploadedFile
from .server import FakeDiscord

__all__ = [
    "ADMINISTRATOR",
    "EPHEMERAL",
    "LOADING",
    "MANAGE_GUILD",
    "MANAGE_THREADS",
    "SEND_MESSAGES",
    "SEND_MESSAGES_IN_THREADS",
    "VIEW_CHANNEL",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeMember",
    "FakeOverwrite",
    "FakeRole",
    "FakeUser",
    "InteractionHandle",
    "RecordedRequest",
    "SnowflakeFactory",
    "StoredMessage",
    "UploadedFile",
    "World",
    "default_world",
    "run_client",
    "sharded_world",
]
