"""Discord's own faults, provoked for real through the fake Discord and the real discord.py:
429 rate limits on the streamed edits, an interaction token that lapses during a long queue
wait, and a gateway that drops while a piece streams."""

from __future__ import annotations

import itertools
import logging
import re

import pytest

from bot.generation.types import GenerationRequest, SamplingParams
from tests.cogs.conftest import build_stack
from tests.cogs.test_discord_e2e import bot_client, finished, synced
from tests.fakediscord import SEND_MESSAGES

EDIT_ORIGINAL = "PATCH /webhooks/{app_id}/{token}/messages/{message_id}"
CHANNEL_POST = "POST /channels/{channel_id}/messages"
NO_PINGS = {"parse": []}
PIECE_ID = re.compile(r"piece #(\d+)")


async def stored_text(stack, content: str) -> str:
    """The words of the stored piece a message's attribution names (rendering may escape
    markdown and neutralise links, so words are what a complete message must carry)."""
    found = PIECE_ID.search(content)
    assert found is not None, content
    record = await stack.database.generations.get(int(found.group(1)))
    assert record is not None
    return words(record.text)


def words(text: str) -> str:
    return " ".join(re.findall(r"[a-z]+", text.lower()))


async def test_rate_limited_edits_back_off_and_the_piece_arrives_once(stack):
    server = stack.server
    async with bot_client(stack) as bot:
        await synced(bot)
        # Twelve 429s in a row: more than discord.py's five tries per request, twice over, so
        # it gives up on edits and Inkwell's own handling has to carry the piece through.
        rule = server.rate_limit(EDIT_ORIGINAL, times=12, retry_after=0.05)
        handle = await server.slash(
            "generate", {"prompt": "Once upon a time", "max_tokens": 48, "seed": 3}, user="bob"
        )
        messages = await finished(handle, server, within=30)
    assert rule.answered == 12
    edits = handle.original_edits()
    for before, after in itertools.pairwise(edits):
        if before.status == 429:  # backed off: never sooner than Discord asked
            assert after.timestamp - before.timestamp >= 0.045, (before, after)
    finals = [r for r in edits if r.status == 200 and "Written by AI" in r.json["content"]]
    assert finals == [edits[-1]]  # the piece arrived once, and nothing edited it afterwards
    assert len(messages) == 1 and not handle.followups()
    assert await stored_text(stack, messages[0].content) in words(messages[0].content)
    assert server.unhandled == []


async def test_a_token_that_lapses_in_the_queue_posts_the_piece_to_the_channel(
    tiny_gpt2_dir, tmp_path, fake_discord
):
    async with (
        build_stack(
            tiny_gpt2_dir, tmp_path, fake_discord, max_batch_size=1, max_new_tokens_cap=240
        ) as stack,
        bot_client(stack) as bot,
    ):
        server = stack.server
        await synced(bot)
        # Someone else's long piece holds the only slot, so alice waits in the queue...
        hog = stack.generation.stream(
            GenerationRequest(prompt="x", sampling=SamplingParams(seed=1, max_new_tokens=240))
        )
        await hog.__anext__()
        handle = await server.slash(
            "generate", {"prompt": "Hello", "seed": 2, "max_tokens": 8}, user="alice"
        )
        await server.wait_for(lambda: any(r.status == 200 for r in handle.original_edits()))
        # ...for longer than the token's 15 minutes.
        server.expire_token(handle)
        async for _ in hog:
            pass
        await server.wait_for(lambda: bool(late_posts(server)), timeout=30)
        posts = late_posts(server)
        message = server.store.get(int(posts[0].response["id"]))
        assert message is not None
        stored = await stored_text(stack, message.content)
    alice = server.user("alice")
    assert len(posts) == 1
    request = posts[0]
    assert request.json["content"].startswith(f"<@{alice.id}>, your piece")
    assert request.json["allowed_mentions"] == NO_PINGS  # named, not pinged
    assert message.channel_id == server.channel.id and not message.payload["mentions"]
    assert stored in words(message.content)
    refused = [r for r in handle.responses() if r.status == 401]
    assert refused and all(r.response["code"] == 50027 for r in refused)


async def test_a_reply_older_than_fourteen_and_a_half_minutes_goes_straight_to_the_channel(stack):
    server = stack.server
    async with bot_client(stack) as bot:
        await synced(bot)
        server.interaction_age = 14.6 * 60  # as if it waited that long before this moment
        handle = await server.slash(
            "generate", {"prompt": "Hello", "seed": 4, "max_tokens": 8}, user="alice"
        )
        await server.wait_for(lambda: bool(late_posts(server)), timeout=30)
    # The token was never tried after the acknowledgement: no edit was made to fail.
    assert handle.original_edits() == []
    (post,) = late_posts(server)
    assert post.json["allowed_mentions"] == NO_PINGS
    assert post.json["content"].startswith(f"<@{server.user('alice').id}>, your piece")


def late_posts(server):
    """Pieces posted in a channel with the bot's token (never with an interaction's)."""
    return [
        r
        for r in server.requests_to(CHANNEL_POST)
        if r.status == 200 and "Written by AI" in (r.json or {}).get("content", "")
    ]


@pytest.mark.parametrize("how", ["closed", "op 7 reconnect"])
async def test_a_gateway_drop_mid_piece_resumes_losing_and_doubling_nothing(
    tiny_gpt2_dir, tmp_path, fake_discord, how
):
    async with (
        build_stack(tiny_gpt2_dir, tmp_path, fake_discord, max_new_tokens_cap=240) as stack,
        bot_client(stack) as bot,
    ):
        server = stack.server
        await synced(bot)
        streaming = await server.slash(
            "generate", {"prompt": "Once upon a time", "max_tokens": 240, "seed": 5}, user="bob"
        )
        await server.wait_for(lambda: any(r.status == 200 for r in streaming.original_edits()))
        server.gateway.resumes_open.clear()  # the bot stays away until the test lets it back
        if how == "closed":
            await server.drop_connection(4000)  # resumable, like a network blip
        else:
            await server.gateway.request_reconnect()
        await server.wait_for(lambda: not server.gateway.live_sessions())
        assert not has_final(streaming), "the piece finished before the drop"
        # Sent while the bot is away: the fake keeps it and replays it on RESUME.
        queued = await server.slash(
            "generate", {"prompt": "Hello", "max_tokens": 8, "seed": 6}, user="alice"
        )
        await server.wait_for(lambda: server.gateway.resume_count == 1)
        server.gateway.resumes_open.set()
        await finished(streaming, server, within=60)
        await finished(queued, server, within=60)
    assert server.gateway.resume_count == 1 and server.gateway.identify_count == 1
    for handle in (streaming, queued):
        callbacks = [r for r in handle.responses() if r.path.endswith("/callback")]
        assert len(callbacks) == 1 and callbacks[0].status == 200
        finals = [r for r in handle.original_edits() if "Written by AI" in r.json["content"]]
        assert len(finals) == 1 and finals[0].status == 200
        assert PIECE_ID.search(finals[0].json["content"]) is not None
    assert server.unhandled == []


def has_final(handle) -> bool:
    return any("Written by AI" in (r.json or {}).get("content", "") for r in handle.responses())


async def test_a_late_piece_where_the_bot_may_not_post_goes_to_the_users_dms(stack):
    server = stack.server
    muted = await server.add_channel("muted")
    await server.set_overwrite(muted, server.user("bot"), deny=SEND_MESSAGES)
    async with bot_client(stack) as bot:
        await synced(bot)
        await server.wait_for(lambda: bot.get_channel(muted.id) is not None)
        server.interaction_age = 14.6 * 60
        await server.slash(
            "generate", {"prompt": "Hello", "seed": 4, "max_tokens": 8}, user="alice", channel=muted
        )
        await server.wait_for(lambda: bool(late_posts(server)), timeout=30)
    refused = [r for r in server.requests_to(CHANNEL_POST) if r.status == 403]
    assert [r.path for r in refused] == [f"/channels/{muted.id}/messages"]
    (post,) = late_posts(server)
    assert post.path == f"/channels/{server.dm_channel(server.user('alice')).id}/messages"
    assert post.json["allowed_mentions"] == NO_PINGS


async def test_an_interaction_discord_dropped_gets_no_apology_and_no_traceback(stack, caplog):
    """Past Discord's 3 seconds the callback is refused (404, 10062): there is no one left to
    tell, so the bot writes one warning and sends nothing more for it."""
    caplog.set_level(logging.INFO)
    server = stack.server
    async with bot_client(stack) as bot:
        await synced(bot)
        server.interaction_deadline = 0.0  # every acknowledgement arrives too late
        handle = await server.slash("help", {}, user="alice")
        await server.wait_for(lambda: handle.expired, timeout=10)
        await server.wait_for(
            lambda: any("Discord had dropped it" in r.getMessage() for r in caplog.records),
            timeout=10,
        )
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert handle.followups() == []
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.ops.interactions"]
    assert any("outcome=expired" in line for line in lines), lines
