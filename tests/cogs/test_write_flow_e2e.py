"""The write flow on Discord end to end: posts without an interaction, refusals that come
before the acknowledgement, erasure of copied words, and what the bot subscribes to."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import time
from collections.abc import AsyncIterator

import pytest

from bot.forms import Form, PieceSpec
from bot.generation.types import SamplingParams
from bot.writing.destination import DestinationGone
from bot.writing.drafts import Draft
from bot.writing.requester import Requester, RequesterKind
from cogs.destinations import ChannelPost
from tests.cogs.test_discord_e2e import bot_client, finished, synced
from tests.fakediscord import EPHEMERAL, SEND_MESSAGES

GUILDS_INTENT = 1


def schedule_requester(server, channel, owner: str = "mod") -> Requester:
    return Requester(
        RequesterKind.SCHEDULE,
        id=1,
        name="prompt of the day",
        guild_id=server.guild.id,
        channel_id=channel.id,
        owner_id=server.user(owner).id,
    )


def answered(handle) -> bool:
    """The interaction got its final answer: a finished piece, or a private followup."""
    final = handle.final_message()
    return bool(handle.followups()) or (final is not None and "Written by AI" in final.content)


def shown_to(handle) -> str:
    """The private answer to an interaction: its callback's, or after a deferral the last
    ephemeral followup's."""
    callback = handle.callback().json
    if callback["type"] == 4:
        assert callback["data"]["flags"] & EPHEMERAL
        return callback["data"]["content"]
    private = [m for m in handle.followups() if m.ephemeral]
    return private[-1].content if private else ""


def a_draft(text: str = "@everyone <@&1> the lighthouse at dawn") -> Draft:
    return Draft(PieceSpec(form=Form.GENERATE, text=text), SamplingParams(max_new_tokens=24))


async def test_the_bot_asks_discord_for_the_guilds_intent_only(stack):
    async with bot_client(stack):
        session = await stack.server.wait_for_session()
    assert session.intents == GUILDS_INTENT


async def test_a_piece_posted_to_a_channel_without_an_interaction(stack):
    server = stack.server
    async with bot_client(stack) as bot:
        channel = bot.get_channel(server.channel.id)
        post = ChannelPost(channel, interval=0.01)
        record = await stack.flow.write(schedule_requester(server, server.channel), post, a_draft())
        assert post.message is not None
    assert record is not None and record.user_id == server.user("mod").id
    message = server.store.get(post.message.id)
    assert message is not None and message.channel_id == server.channel.id
    assert "Written by AI" in message.content and f"piece #{record.id}" in message.content
    assert [i.split(":")[1] for i in message.custom_ids()] == ["regen", "more", "save"]
    assert not message.payload["mention_everyone"] and message.payload["mention_roles"] == []
    for request in server.requests_to(f"/channels/{server.channel.id}/messages"):
        if request.json is not None:
            assert request.json["allowed_mentions"] == {"parse": []}


async def test_posting_where_the_bot_may_not_or_into_a_deleted_channel_is_gone(stack):
    server = stack.server
    muted = await server.add_channel("muted")
    await server.set_overwrite(muted, server.user("bot"), deny=SEND_MESSAGES)
    doomed = await server.add_channel("doomed")
    async with bot_client(stack) as bot:
        await server.wait_for(lambda: bot.get_channel(doomed.id) is not None)
        muted_channel, doomed_channel = bot.get_channel(muted.id), bot.get_channel(doomed.id)
        await server.delete_channel(doomed)
        for channel, says in ((muted_channel, "not allowed"), (doomed_channel, "no longer")):
            with pytest.raises(DestinationGone, match=says):
                await stack.flow.write(
                    schedule_requester(server, channel),
                    ChannelPost(channel, interval=0.01),
                    a_draft(),
                )
    # Nothing half-written was left behind, and no piece was stored for a post never made.
    assert await stack.database.generations.count_for_user(server.user("mod").id) == 0


@contextlib.asynccontextmanager
async def a_write_stuck_behind_another_program(stack) -> AsyncIterator[None]:
    """Another program holds the write lock, and a write of the bot's own waits behind it
    (up to busy_timeout, 5 s) holding the shared connection, as happens in production. The
    other program waits its turn for the lock (the bot may be giving a writing slot back), in
    a thread of its own, as another program would: the bot's loop must go on meanwhile."""
    other = sqlite3.connect(stack.database.path, timeout=10, check_same_thread=False)
    try:
        await asyncio.to_thread(other.execute, "BEGIN IMMEDIATE")
        other.execute("INSERT INTO guild_allowed_channels VALUES (1, 2)")
        queued = asyncio.create_task(stack.database.prompts.save(1, "x", "y", "poem", {}))
        await asyncio.sleep(0.2)
        yield
        assert not queued.done(), "the bot's own write should still be waiting"
    finally:
        other.rollback()
        other.close()
    await queued
    await stack.database.prompts.delete(1, "x")


async def test_the_acknowledgement_never_waits_on_a_write_transaction(stack):
    server = stack.server
    async with bot_client(stack) as bot:
        await synced(bot)
        first = await server.slash("poem", {"topic": "tides"}, user="alice")
        piece = (await finished(first, server))[-1]
        piece_id = int(re.search(r"piece #(\d+)", piece.content).group(1))
        await stack.database.prompts.save(server.user("bob").id, "sea", "the sea", "poem", {})
        favourite = await stack.database.favorites.add(server.user("alice").id, piece_id)
        actions = {
            "/poem": lambda: server.slash("poem", {"topic": "locks"}, user="alice"),
            "Regenerate": lambda: server.click(piece, f"inkwell:regen:{piece_id}", user="bob"),
            "Continue": lambda: server.click(piece, f"inkwell:more:{piece_id}", user="alice"),
            "Save": lambda: server.click(piece, f"inkwell:save:{piece_id}", user="bob"),
            "/remix": lambda: server.slash("remix", {"id": piece_id}, user="bob"),
            "/prompts use": lambda: server.slash("prompts use", {"name": "sea"}, user="bob"),
            "menu": lambda: server.message_context("Continue with Inkwell", piece, user="bob"),
            "/halloffame": lambda: server.slash("halloffame", {}, user="bob"),
            # Commands that write acknowledge before writing.
            "/prompts save": lambda: server.slash(
                "prompts save", {"name": "x2", "text": "t", "form": "poem"}, user="bob"
            ),
            "/favorites remove": lambda: server.slash(
                "favorites remove", {"id": favourite.favorite.id}, user="alice"
            ),
            "/settings cooldown": lambda: server.slash(
                "settings cooldown", {"seconds": 0}, user="mod"
            ),
        }
        delays = {}
        for name, act in actions.items():
            async with a_write_stuck_behind_another_program(stack):
                handle = await act()
                await handle.wait_callback(timeout=3)
                delays[name] = (handle.callback().json["type"], handle.callback_delay)
            await server.wait_for(lambda handle=handle: answered(handle), timeout=20)
    assert all(kind == 5 and delay < 3 for kind, delay in delays.values()), delays


async def test_erasing_my_data_erases_my_message_from_pieces_that_continued_it(stack):
    server = stack.server
    alice = server.user("alice")
    async with bot_client(stack) as bot:
        await synced(bot)
        message = await server.user_message("my diary says the door was red", user="alice")
        handle = await server.message_context("Continue with Inkwell", message, user="bob")
        last = (await finished(handle, server))[-1]
    piece_id = int(re.search(r"piece #(\d+)", last.content).group(1))
    before = await stack.database.generations.get(piece_id)
    assert before.prompt_author_id == alice.id and "diary" in before.prompt
    counts = await stack.flow.erase_user(alice.id)
    after = await stack.database.generations.get(piece_id)
    assert counts.redacted_prompts == 1
    assert after.prompt == "" and after.prompt_redacted and after.text == before.text


async def test_a_button_pointing_at_a_piece_you_cannot_see_is_refused(stack):
    server = stack.server
    staff = await server.add_private_channel("staff", allow=["alice"])
    async with bot_client(stack) as bot:
        await synced(bot)
        secret = await server.slash("poem", {"topic": "secret"}, user="alice", channel=staff)
        secret_id = int(re.search(r"piece #(\d+)", (await finished(secret, server))[-1].content)[1])
        public = await server.slash("poem", {"topic": "open"}, user="bob")
        message = (await finished(public, server))[-1]
        # A doctored client: bob's own public message, its buttons aimed at alice's piece.
        for row in message.payload["components"]:
            for button in row["components"]:
                button["custom_id"] = re.sub(r"\d+$", str(secret_id), button["custom_id"])
        clicks = [
            await server.click(message, custom_id, user="bob") for custom_id in message.custom_ids()
        ]
        for click in clicks:
            await click.wait_callback()
            await server.wait_for(lambda click=click: bool(shown_to(click)))
    for click in clicks:
        assert "can't find piece" in shown_to(click)
    assert await stack.database.favorites.count(server.user("bob").id) == 0


async def test_regenerating_someone_elses_piece_records_whose_prompt_it_is(stack):
    server = stack.server
    alice = server.user("alice")
    async with bot_client(stack) as bot:
        await synced(bot)
        original = await server.slash("poem", {"topic": "my grandmother's garden"}, user="alice")
        message = (await finished(original, server))[-1]
        regen = next(i for i in message.custom_ids() if ":regen:" in i)
        again = await server.click(message, regen, user="bob")
        last = (await finished(again, server))[-1]
    piece_id = int(re.search(r"piece #(\d+)", last.content).group(1))
    bobs = await stack.database.generations.get(piece_id)
    assert bobs.user_id == server.user("bob").id and bobs.prompt_author_id == alice.id
    await stack.flow.erase_user(alice.id)
    erased = await stack.database.generations.get(piece_id)
    assert erased.prompt == "" and erased.prompt_redacted and erased.parent_id is None


async def test_every_extension_reloads_and_keeps_its_commands(stack):
    async with bot_client(stack) as bot:
        before = sorted(command.qualified_name for command in bot.tree.walk_commands())
        for extension in list(bot.extensions):
            await bot.reload_extension(extension)
        after = sorted(command.qualified_name for command in bot.tree.walk_commands())
        assert after == before and "remix" in after
        handle = await stack.server.slash("poem", {"topic": "after a reload"}, user="alice")
        await finished(handle, stack.server)


async def test_a_post_whose_placeholder_was_deleted_carries_on_in_a_new_message(stack):
    server = stack.server

    class DeletedAtOnce(ChannelPost):
        """A moderator deletes the placeholder the moment it appears."""

        placeholder_id = 0

        async def accept(self) -> None:
            await super().accept()
            assert self.message is not None
            self.placeholder_id = self.message.id
            server.store.messages[self.message.id].deleted = True

    async with bot_client(stack) as bot:
        post = DeletedAtOnce(bot.get_channel(server.channel.id), interval=0.01)
        record = await stack.flow.write(
            schedule_requester(server, server.channel), post, a_draft("A long night")
        )
    assert record is not None and post.message is not None
    assert post.placeholder_id and post.message.id != post.placeholder_id
    final = server.store.get(post.message.id)
    assert final is not None and f"piece #{record.id}" in final.content


async def test_a_timer_whose_channel_is_gone_is_dropped_and_its_owner_told(stack):
    from bot.clock.dispatcher import Dispatcher, TimerKind
    from cogs.notices import OWNER_KEY, owner_told

    server = stack.server
    doomed = await server.add_channel("daily-prompts")
    mod = server.user("mod")
    async with bot_client(stack) as bot:
        await server.wait_for(lambda: bot.get_channel(doomed.id) is not None)
        channel = bot.get_channel(doomed.id)

        async def post(timer):
            await stack.flow.write(
                schedule_requester(server, channel),
                ChannelPost(channel, interval=0.01),
                a_draft(),
            )

        clock = Dispatcher(stack.database)
        clock.register(TimerKind("daily", post, on_gone=owner_told(bot, "Your prompt of the day")))
        await clock.schedule("daily", str(doomed.id), time.time() - 1, {OWNER_KEY: mod.id})
        await server.delete_channel(doomed)
        assert await clock.run_due() == 1
        await server.wait_for(lambda: bool(server.store.in_channel(server.dm_channel(mod).id)))
    notice = server.store.in_channel(server.dm_channel(mod).id)[-1]
    assert "prompt of the day is paused" in notice.content
    assert "no longer exists" in notice.content
    assert await stack.database.timers.get("daily", str(doomed.id)) is None
