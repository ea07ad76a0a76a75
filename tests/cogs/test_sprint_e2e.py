"""Writing sprints end to end through the fake Discord: several members, counts refused with
a reason, pens down and results posted once, an end that passes while the bot is down, and
cancelling."""

from __future__ import annotations

import logging

import pytest

from tests.cogs.test_games_e2e import (
    ShiftedClock,
    assert_nothing_pinged,
    game_bot,
    game_messages,
    said,
)


def posts_with(server, channel, text: str) -> list:
    return [m for m in game_messages(server, channel) if text in (m.content or "")]


async def wait_for_post(server, channel, text: str, within: float = 15.0):
    await server.wait_for(lambda: bool(posts_with(server, channel, text)), within)
    return posts_with(server, channel, text)[-1]


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


async def test_a_sprint_with_two_members_from_start_to_results(stack, clock, caplog):
    caplog.set_level(logging.INFO, logger="bot.ops.interactions")
    server = stack.server
    channel = server.channel
    async with game_bot(stack, clock):
        bob_id = server.user("bob").id
        start = await server.slash(
            "sprint start",
            {"minutes": 1, "prompt": f"a lighthouse for <@{bob_id}> @everyone **loud**"},
            user="alice",
        )
        assert "is set" in await said(start, server)
        announced = await wait_for_post(server, channel, "started a 1-minute sprint")
        assert "\\*\\*loud\\*\\*" in announced.content  # shown as written, not as markdown
        again = await server.slash("sprint start", {"minutes": 5}, user="bob")
        assert "already on" in await said(again, server)

        join_id = next(c for c in announced.custom_ids() if c.startswith("inkwell:sprint:join:"))
        clicked = await server.click(announced, join_id, user="bob")
        assert "You're in" in await said(clicked, server)
        twice = await server.click(announced, join_id, user="bob")
        assert "already in" in await said(twice, server)
        # Buttons outside cogs.buttons get their log line on success too, not only on failure.
        joins = [r.getMessage() for r in caplog.records if "inkwell:sprint:join" in r.getMessage()]
        assert len(joins) == 2 and all("outcome=ok" in line for line in joins), joins
        joined = await server.slash("sprint join", {"starting_words": 100}, user="bob")
        assert "Starting words set to 100" in await said(joined, server)
        too_fast = await server.slash("sprint wc", {"words": 5000}, user="bob")
        assert "words a minute" in await said(too_fast, server)
        assert "50 words" in await said(
            await server.slash("sprint wrote", {"words": 50}, user="bob"), server
        )
        assert "60 words" in await said(
            await server.slash("sprint wc", {"words": 60}, user="alice"), server
        )
        outsider = await server.slash("sprint wc", {"words": 10}, user="mod")
        assert "not in this sprint" in await said(outsider, server)
        status = await server.slash("sprint status", user="bob")
        assert "Alice, Bob" in await said(status, server)

        clock.offset += 60
        await wait_for_post(server, channel, "Pens down")
        late = await server.slash("sprint wc", {"words": 130}, user="bob")
        assert "30 words" in await said(late, server)  # counts are taken in the window
        clock.offset += 120
        results = await wait_for_post(server, channel, "results**")
        lines = results.content.splitlines()
        assert "Alice — 60 words" in lines[1] and "Bob — 30 words" in lines[2]
        assert "personal best" in lines[1]
        stats = await server.slash("sprint stats", user="alice")
        assert "1 sprint, 60 words" in await said(stats, server)
        closed = await server.slash("sprint wc", {"words": 200}, user="bob")
        assert "no sprint in this channel" in await said(closed, server)
    assert len(posts_with(server, channel, "results**")) == 1
    assert_nothing_pinged(server, channel)


async def test_the_end_passes_while_the_bot_is_down_and_results_come_once(stack, clock):
    server = stack.server
    channel = server.channel
    async with game_bot(stack, clock):
        await said(await server.slash("sprint start", {"minutes": 5}, user="alice"), server)
        announced = await wait_for_post(server, channel, "started a 5-minute sprint")
        await said(await server.slash("sprint wc", {"words": 100}, user="alice"), server)

    clock.offset += 3600  # down for an hour: the end passed long ago
    async with game_bot(stack, clock):
        await wait_for_post(server, channel, "Pens down")
        # The Join button from before the restart still answers: too late to join now.
        join_id = next(c for c in announced.custom_ids() if c.startswith("inkwell:sprint:join:"))
        late = await server.click(announced, join_id, user="bob")
        assert "This sprint is over" in await said(late, server)
        counted = await server.slash("sprint wc", {"words": 300}, user="alice")
        assert "300 words" in await said(counted, server)
        clock.offset += 121
        results = await wait_for_post(server, channel, "results**")
        assert "300 words in 5.0 min (60.0 wpm)" in results.content  # her 5 minutes, not 65

    async with game_bot(stack, clock):  # a later restart posts nothing again
        status = await server.slash("sprint status", user="alice")
        assert "no sprint" in await said(status, server)
    assert len(posts_with(server, channel, "results**")) == 1
    assert len(posts_with(server, channel, "Pens down")) == 1


async def test_cancel_by_the_starter_or_a_moderator_and_an_ai_prompt(stack, clock):
    server = stack.server
    channel = server.channel
    async with game_bot(stack, clock):
        start = await server.slash(
            "sprint start", {"minutes": 10, "delay": 5, "prompt": "ai"}, user="alice"
        )
        assert "is set" in await said(start, server, within=60)
        announced = await wait_for_post(server, channel, "set up a 10-minute sprint")
        assert "Prompt:" in announced.content
        refused = await server.slash("sprint cancel", user="bob")
        assert "Only whoever started" in await said(refused, server)
        cancelled = await server.slash("sprint cancel", user="owner")  # Manage Messages
        assert "cancelled" in await said(cancelled, server)
        await wait_for_post(server, channel, "was cancelled by")
        clock.offset += 3600
        fresh = await server.slash("sprint start", {"minutes": 1}, user="bob")
        assert "is set" in await said(fresh, server)
    assert not posts_with(server, channel, "has begun")


async def test_everyone_leaving_ends_it_at_once_and_a_stuck_sprint_can_be_cancelled(stack, clock):
    server = stack.server
    channel = server.channel
    async with game_bot(stack, clock):
        await said(await server.slash("sprint start", {"minutes": 30}, user="alice"), server)
        await said(await server.slash("sprint join", user="bob"), server)
        clock.offset += 300
        await said(await server.slash("sprint wc", {"words": 200}, user="alice"), server)
        await said(await server.slash("sprint leave", user="alice"), server)
        await said(await server.slash("sprint leave", user="bob"), server)
        results = await wait_for_post(server, channel, "results**")
        assert "ended early" in results.content and "200 words in 5.0 min" in results.content
        assert not posts_with(server, channel, "Pens down")

        # A sprint whose timers were lost (say, to a crash) still cancels at once.
        await said(await server.slash("sprint start", {"minutes": 5}, user="bob"), server)
        sprint = await stack.database.sprints.open_in_channel(channel.id)
        for kind in ("sprint.end", "sprint.sweep"):
            await stack.database.timers.cancel(
                kind, str(sprint.id) if kind == "sprint.end" else "all"
            )
        cancelled = await server.slash("sprint cancel", user="bob")
        assert "cancelled" in await said(cancelled, server)
        await wait_for_post(server, channel, "was cancelled by Bob")
    assert len(posts_with(server, channel, "results**")) == 1
