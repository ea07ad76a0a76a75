"""The prompt of the day end to end through the fake Discord: set-up rights, posts at local
time across midnight in two zones, a restart between scheduling and posting, a crash right
after a post, entries and hearts, and a channel that is gone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.cogs.test_games_e2e import (
    ShiftedClock,
    embed_text,
    game_bot,
    game_messages,
    said,
)
from tests.fakediscord import EPHEMERAL


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


def prompts_in(server, channel) -> list:
    return [m for m in game_messages(server, channel) if "Prompt of the day" in embed_text(m)]


def seconds_until(zone: str, hhmm: str, clock: ShiftedClock) -> float:
    """Seconds from the clock's now to the next HH:MM in ``zone``."""
    now = datetime.fromtimestamp(clock.now(), UTC).astimezone(ZoneInfo(zone))
    hour, minute = map(int, hhmm.split(":"))
    target = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= now:
        target += timedelta(days=1)
    return (target - now).total_seconds()


def local_date(zone: str, clock: ShiftedClock) -> str:
    return datetime.fromtimestamp(clock.now(), UTC).astimezone(ZoneInfo(zone)).date().isoformat()


def local_hhmm(zone: str, clock: ShiftedClock, minutes_ahead: int) -> str:
    moment = datetime.fromtimestamp(clock.now(), UTC) + timedelta(minutes=minutes_ahead)
    return moment.astimezone(ZoneInfo(zone)).strftime("%H:%M")


async def set_up(server, channel, zone: str, hhmm: str, mode: str = "post", user: str = "mod"):
    handle = await server.slash(
        "daily setup",
        {"channel": channel, "time": hhmm, "timezone": zone, "source": "curated", "mode": mode},
        user=user,
    )
    return await said(handle, server)


async def test_only_moderators_set_it_up_and_it_posts_at_local_time_across_midnight(stack, clock):
    server = stack.server
    channel = server.channel
    async with game_bot(stack, clock):
        refused = await set_up(server, channel, "Europe/Berlin", "09:00", user="alice")
        assert "Manage Server" in refused
        # Just before midnight in Auckland: the prompt is due at 00:05 there.
        clock.offset += seconds_until("Pacific/Auckland", "23:58", clock)
        assert "A prompt every day at 00:05" in await set_up(
            server, channel, "Pacific/Auckland", "00:05"
        )
        assert prompts_in(server, channel) == []
        clock.offset += 8 * 60  # crosses midnight there
        days = {"nz": local_date("Pacific/Auckland", clock)}
        await server.wait_for(lambda: len(prompts_in(server, channel)) == 1, 10)
        # Now Los Angeles, just before its own midnight.
        clock.offset += seconds_until("America/Los_Angeles", "23:58", clock)
        await set_up(server, channel, "America/Los_Angeles", "00:05")
        clock.offset += 8 * 60
        days["la"] = local_date("America/Los_Angeles", clock)
        await server.wait_for(lambda: len(prompts_in(server, channel)) == 2, 10)
    # Each was posted for the new local day in its own zone.
    posted = {p.timezone: p.local_date for p in await stack.database.daily.archive(server.guild.id)}
    assert posted == {"Pacific/Auckland": days["nz"], "America/Los_Angeles": days["la"]}


async def test_a_restart_between_scheduling_and_posting_posts_once(stack, clock):
    server = stack.server
    channel = server.channel
    async with game_bot(stack, clock):
        await set_up(server, channel, "Europe/Berlin", local_hhmm("Europe/Berlin", clock, 10))
    clock.offset += 20 * 60  # the post time passes while the bot is down
    async with game_bot(stack, clock):
        await server.wait_for(lambda: len(prompts_in(server, channel)) == 1, 10)
        await asyncio.sleep(0.3)  # a second post would have come by now
    assert len(prompts_in(server, channel)) == 1


async def test_a_crash_right_after_a_post_does_not_post_twice(stack, clock, monkeypatch):
    server = stack.server
    channel = server.channel
    real = stack.database.daily.set_prompt_message
    calls = 0

    async def dies_after_posting(prompt_id, message_id):
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("killed right after the post went out")
        await real(prompt_id, message_id)

    monkeypatch.setattr(stack.database.daily, "set_prompt_message", dies_after_posting)
    # The clock logs the "crash" as the failure it is; nothing else may fail.
    async with game_bot(stack, clock, error_loggers=("discord", "cogs")):
        await set_up(server, channel, "Europe/Berlin", local_hhmm("Europe/Berlin", clock, 1))
        clock.offset += 120
        await server.wait_for(lambda: len(prompts_in(server, channel)) == 1, 10)
    clock.offset += 200  # the dead attempt's lease runs out; a new process fires it again
    async with game_bot(stack, clock):
        for _ in range(200):
            prompt = await stack.database.daily.latest_prompt(server.guild.id)
            if prompt is not None and prompt.message_id is not None:
                break
            await asyncio.sleep(0.05)
    assert calls == 2 and len(prompts_in(server, channel)) == 1
    assert prompt is not None and prompt.message_id == prompts_in(server, channel)[0].id


async def test_entries_and_hearts_in_post_mode(stack, clock):
    server = stack.server
    channel = server.channel
    async with game_bot(stack, clock):
        await set_up(server, channel, "UTC", local_hhmm("UTC", clock, 1))
        clock.offset += 120
        await server.wait_for(lambda: len(prompts_in(server, channel)) == 1, 10)
        opened = await server.slash("daily submit", user="alice")
        await server.wait_for(lambda: opened.modal is not None, 10)
        sent = await server.modal_submit(opened, {"entry": "@everyone my *little* poem"})
        assert "posted" in await said(sent, server)
        entry = next(m for m in game_messages(server, channel) if "Entry #" in embed_text(m))
        assert "\\*little\\*" in entry.embeds[0]["description"]  # shown as written
        assert not entry.payload["mention_everyone"]
        heart = next(c for c in entry.custom_ids() if c.startswith("inkwell:daily:heart:"))
        own = await server.click(entry, heart, user="alice")
        assert "own entry" in await said(own, server)
        given = await server.click(entry, heart, user="bob")
        assert "You hearted" in await said(given, server)
        again = await server.slash("daily submit", user="alice")
        await server.wait_for(lambda: again.modal is not None, 10)
        second = await server.modal_submit(again, {"entry": "another"})
        assert "already sent an entry" in await said(second, server)
        board = await server.slash("daily leaderboard", {"period": "week"}, user="bob")
        shown = await board.wait_private_answer(10)  # after "thinking…", in its place
        assert "Alice · ❤️ 1" in shown["embeds"][0]["description"]
        taken = await server.click(entry, heart, user="bob")
        assert "took your heart back" in await said(taken, server)


async def test_a_deleted_channel_pauses_and_tells_whoever_set_it_up(stack, clock):
    server = stack.server
    channel = await server.add_channel("daily-prompts")
    async with game_bot(stack, clock):
        await set_up(server, channel, "UTC", local_hhmm("UTC", clock, 1))
        await server.delete_channel(channel)
        clock.offset += 120
        mod = server.user("mod")
        await server.wait_for(lambda: bool(server.store.in_channel(server.dm_channel(mod).id)), 10)
        shown = await server.slash("daily show", user="mod")
        assert "paused" in await said(shown, server)
    dm = server.store.in_channel(server.dm_channel(mod).id)[-1]
    assert "prompt of the day is paused" in dm.content


async def test_an_entry_with_a_listed_word_is_refused_and_given_back_whole(stack, clock):
    """Too long to quote in a message (up to 4,000 characters), so it comes back as a file."""
    server = stack.server
    channel = server.channel
    text = "the tide went out and " * 90 + "then the shit hit the harbour"
    async with game_bot(stack, clock):
        await set_up(server, channel, "UTC", local_hhmm("UTC", clock, 1))
        clock.offset += 120
        await server.wait_for(lambda: len(prompts_in(server, channel)) == 1, 10)
        opened = await server.slash("daily submit", user="alice")
        await server.wait_for(lambda: opened.modal is not None, 10)
        sent = await server.modal_submit(opened, {"entry": text})
        assert "“shit”" in await said(sent, server)
    callback = sent.callback()
    assert callback.json["type"] == 4 and callback.json["data"]["flags"] & EPHEMERAL
    assert [f.data.decode() for f in callback.files] == [text]
    assert not any("Entry #" in embed_text(m) for m in game_messages(server, channel))
