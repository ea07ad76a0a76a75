"""Poem games played end to end through the fake Discord: several members and the AI, every
mode, a restart mid-game, and a turn deadline that passes while the bot is down."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from bot.clock.dispatcher import Dispatcher
from cogs.client import InkwellBot
from tests.cogs.conftest import Stack, stack_settings
from tests.fakediscord import EPHEMERAL
from tests.fakediscord.client import run_client
from tests.fakediscord.messages import StoredMessage

ERROR_LOGGERS = ("discord", "cogs", "bot")


class ShiftedClock:
    """Real time plus an offset, so a test can let hours pass while the bot is down."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@contextlib.asynccontextmanager
async def game_bot(
    stack: Stack, clock: ShiftedClock, *, error_loggers: tuple[str, ...] = ERROR_LOGGERS
) -> AsyncIterator[InkwellBot]:
    """The bot with a fast-ticking clock on ``clock``; synced, so the fake knows the commands."""
    settings = stack_settings("tiny-model")  # the bot reads only its Discord settings
    dispatcher = Dispatcher(stack.database, clock, tick_seconds=0.05)
    bot = InkwellBot(
        settings=settings,
        flow=stack.flow,
        database=stack.database,
        clock=dispatcher,
        guild_ready_timeout=0.05,
    )
    try:
        async with run_client(bot, stack.server, error_loggers=error_loggers) as running:
            await running.tree.sync()
            yield running
            # As the launcher does: no new timers, then the client goes.
            dispatcher.stop_claiming()
    finally:
        await dispatcher.close()


def game_messages(server, channel) -> list[StoredMessage]:
    return [m for m in server.store.in_channel(channel.id) if not m.ephemeral]


def latest_with(server, channel, prefix: str) -> StoredMessage:
    found = [m for m in game_messages(server, channel) if any(prefix in c for c in m.custom_ids())]
    assert found, f"no message with a {prefix!r} button"
    return found[-1]


def turn_of(name: str):
    """A board that says it is ``name``'s turn."""
    return lambda message: f"**{name}**'s turn" in embed_text(message)


def button(message: StoredMessage, action: str) -> str:
    return next(c for c in message.custom_ids() if c.startswith(f"inkwell:game:{action}:"))


def private_text(handle) -> str:
    callback = handle.callback().json
    if callback["type"] == 4:
        assert callback["data"]["flags"] & EPHEMERAL
        return callback["data"]["content"]
    private = [m for m in handle.followups() if m.ephemeral]
    return private[-1].content if private else ""


async def said(handle, server, within: float = 30.0) -> str:
    await server.wait_for(
        lambda: bool(private_text(handle)) if handle.callback() else False, within
    )
    return private_text(handle)


async def write_line(server, channel, user: str, text: str) -> str:
    """Press Write my line on the current board and submit ``text`` in the modal."""
    board = latest_with(server, channel, "inkwell:game:write:")
    opened = await server.click(board, button(board, "write"), user=user)
    await server.wait_for(lambda: opened.modal is not None or bool(opened.callback()), 10)
    assert opened.modal is not None, private_text(opened)
    submitted = await server.modal_submit(opened, {"line": text})
    return await said(submitted, server)


async def wait_for_board(server, channel, predicate, within: float = 60.0) -> StoredMessage:
    def ready() -> bool:
        return any(predicate(m) for m in game_messages(server, channel))

    await server.wait_for(ready, within)
    return [m for m in game_messages(server, channel) if predicate(m)][-1]


def embed_text(message: StoredMessage) -> str:
    parts: list[str] = [message.content or ""]
    for embed in message.embeds:
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
        parts.append(embed.get("footer", {}).get("text", ""))
    return "\n".join(parts)


def finished_poem(message: StoredMessage) -> bool:
    return "The poem is finished" in (message.content or "")


def assert_nothing_pinged(server, channel) -> None:
    for request in server.requests_to("POST /channels/{channel_id}/messages") + server.requests_to(
        "PATCH /channels/{channel_id}/messages/{message_id}"
    ):
        if request.json is not None:
            assert request.json.get("allowed_mentions") == {"parse": []}, request.json
    for message in game_messages(server, channel):
        assert not message.payload["mention_everyone"]
        assert message.payload["mentions"] == [] and message.payload["mention_roles"] == []


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


async def test_round_robin_with_the_ai_from_lobby_to_anthology(stack, clock):
    server = stack.server
    channel = server.channel
    async with game_bot(stack, clock):
        start = await server.slash(
            "poemgame start",
            {"mode": "round-robin", "form": "free", "lines": 4, "turn_timeout": 600, "ai": True},
            user="alice",
        )
        assert "is open" in await said(start, server)
        lobby = latest_with(server, channel, "inkwell:game:join:")
        assert "Alice (host)" in embed_text(lobby) and "Inkwell (AI)" in embed_text(lobby)

        # Bob double-clicks Join: he is seated once, and told so.
        first = await server.click(lobby, button(lobby, "join"), user="bob")
        assert "You're in" in await said(first, server)
        second = await server.click(lobby, button(lobby, "join"), user="bob")
        assert "already in" in await said(second, server)
        not_host = await server.click(lobby, button(lobby, "start"), user="bob")
        assert "Only the host" in await said(not_host, server)
        started = await server.click(lobby, button(lobby, "start"), user="alice")
        assert "started" in await said(started, server)
        lobby_after = server.store.get(lobby.id)
        assert lobby_after is not None and lobby_after.custom_ids() == []

        # Alice writes; a mention in a line shows, but pings nobody.
        assert "in the poem" in await write_line(
            server, channel, "alice", f"the tide returns, <@{server.user('bob').id}> @everyone"
        )
        # The AI takes its turn through the clock and the write flow; then it is Bob's.
        board = await wait_for_board(server, channel, turn_of("Bob"))
        assert "3 of 4" not in embed_text(board) and "2 of 4 lines" in embed_text(board)
        wrong = await server.slash("poemgame add", {"line": "not my turn"}, user="alice")
        assert "Bob's turn" in await said(wrong, server)
        outsider = await server.slash("poemgame add", {"line": "hello"}, user="mod")
        assert "not in this game" in await said(outsider, server)
        too_long = await server.slash("poemgame add", {"line": "x" * 250}, user="bob")
        assert "at most 200" in await said(too_long, server)
        added = await server.slash("poemgame add", {"line": "and the harbour sleeps"}, user="bob")
        assert "in the poem" in await said(added, server)
        assert "in the poem" in await write_line(server, channel, "alice", "the lamps go out")

        poem_message = await wait_for_board(server, channel, finished_poem)
        text = embed_text(poem_message)
        assert "the tide returns" in text and "and the harbour sleeps" in text
        assert "Inkwell (AI)" in text and "Alice" in text and "Bob" in text
        save_id = next(c for c in poem_message.custom_ids() if c.startswith("inkwell:save:"))
        saved = await server.click(poem_message, save_id, user="bob")
        assert "Saved to your favourites" in await said(saved, server)

        listing = await server.slash("anthology list", user="bob")
        await server.wait_for(lambda: bool(listing.followups()), 10)
        listed = embed_text(listing.followups()[-1])
        poem_id = int(save_id.rsplit(":", 1)[1])
        assert f"#{poem_id}" in listed
        shown = await server.slash("anthology show", {"id": poem_id}, user="alice")
        await server.wait_for(lambda: shown.callback() is not None, 10)
        assert "the lamps go out" in shown.callback().json["data"]["embeds"][0]["description"]
        exported = await server.slash("anthology export", user="bob")
        await server.wait_for(lambda: bool(exported.followups()), 10)
        (upload,) = exported.followups()[-1].files
        assert upload.filename.endswith(".md")
        markdown = upload.data.decode()
        assert "the tide returns" in markdown and "Inkwell (AI)" in markdown
        assert_nothing_pinged(server, channel)

    # Bob erases his data: his line reads "(removed)" in the anthology; the poem stays.
    await stack.flow.erase_user(server.user("bob").id)
    entry = await stack.database.games.anthology_poem(poem_id)
    assert entry is not None
    assert [line.text for line in entry.lines][2] == "(removed)"
    assert "the tide returns" in entry.record.text and "harbour" not in entry.record.text


async def test_exquisite_corpse_hides_the_lines_until_the_reveal(stack, clock):
    server = stack.server
    channel = server.channel
    async with game_bot(stack, clock):
        start = await server.slash(
            "poemgame start", {"mode": "corpse", "lines": 3, "ai": False}, user="alice"
        )
        await said(start, server)
        lobby = latest_with(server, channel, "inkwell:game:join:")
        await said(await server.click(lobby, button(lobby, "join"), user="bob"), server)
        await said(await server.click(lobby, button(lobby, "start"), user="alice"), server)

        secret_lines = ["violet ink on the sill", "a moth reads the letter", "and forgets"]
        views: list[StoredMessage] = []
        for number, (user, line) in enumerate(
            zip(("alice", "bob", "alice"), secret_lines, strict=True), start=1
        ):
            board = latest_with(server, channel, "inkwell:game:write:")
            opened = await server.click(board, button(board, "write"), user=user)
            await server.wait_for(lambda o=opened: o.callback() is not None, 10)
            view = opened.callback().json["data"]
            assert view["flags"] & EPHEMERAL
            if number > 1:
                previous = secret_lines[number - 2]
                assert previous in view["content"]  # only the line before...
                assert all(
                    other not in view["content"] for other in secret_lines if other != previous
                )
            ephemeral = opened.final_message()
            assert ephemeral is not None
            views.append(ephemeral)
            compose = await server.click(ephemeral, button(ephemeral, "compose"), user=user)
            await server.wait_for(lambda c=compose: c.modal is not None, 10)
            submitted = await server.modal_submit(compose, {"line": line})
            assert "Nobody else sees it" in await said(submitted, server)
            if line != secret_lines[-1]:
                # The channel sees who has written, never what.
                await wait_for_board(
                    server,
                    channel,
                    lambda m, n=number: f"{n} of 3 lines" in embed_text(m),
                )
                for message in game_messages(server, channel):
                    assert all(s not in embed_text(message) for s in secret_lines)

        reveal = await wait_for_board(server, channel, finished_poem)
        assert all(line in embed_text(reveal) for line in secret_lines)
        # A private view kept from an earlier turn: the game is over, and it says so.
        late = await server.click(views[0], button(views[0], "compose"), user="alice")
        assert "over" in await said(late, server)


async def test_vote_rounds_with_ai_candidates_and_a_tie_broken_by_a_shown_seed(stack, clock):
    server = stack.server
    channel = server.channel
    async with game_bot(stack, clock):
        start = await server.slash(
            "poemgame start",
            {"mode": "vote", "lines": 3, "ai": True, "turn_timeout": 60, "title": "Harbour"},
            user="alice",
        )
        await said(start, server)
        lobby = latest_with(server, channel, "inkwell:game:join:")
        await said(await server.click(lobby, button(lobby, "join"), user="bob"), server)
        await said(await server.click(lobby, button(lobby, "start"), user="alice"), server)
        board = await wait_for_board(
            server, channel, lambda m: any(":vote:" in c for c in m.custom_ids())
        )
        proposed = await server.slash("poemgame add", {"line": "bob's own line"}, user="bob")
        assert "up for the vote" in await said(proposed, server)
        board = await wait_for_board(
            server,
            channel,
            lambda m: "bob's own line" in embed_text(m) and ":vote:" in "".join(m.custom_ids()),
        )
        votes = [c for c in board.custom_ids() if ":vote:" in c]
        own = votes[-1]
        refused = await server.click(board, own, user="bob")
        assert "own line" in await said(refused, server)
        cast = await server.click(board, own, user="alice")
        assert "You voted for line" in await said(cast, server)
        again = await server.click(board, own, user="alice")
        assert "already" in await said(again, server)
        # The host closes the round now: one vote, so Bob's line wins.
        await said(await server.slash("poemgame skip", user="alice"), server)
        await wait_for_board(server, channel, lambda m: "won with 1 vote" in embed_text(m))
        # Round two: nobody votes, which is a tie broken at random with the seed shown.
        await wait_for_board(
            server,
            channel,
            lambda m: "Round 2" in embed_text(m) and ":vote:" in "".join(m.custom_ids()),
        )
        await said(await server.slash("poemgame skip", user="alice"), server)
        tie = await wait_for_board(server, channel, lambda m: "seed" in embed_text(m))
        assert "nobody voted, broken at random with seed" in embed_text(tie)
        ended = await server.slash("poemgame end", user="bob")
        assert "Only the host" in await said(ended, server)
        await said(await server.slash("poemgame end", user="alice"), server)
        poem = await wait_for_board(server, channel, finished_poem)
        assert "Harbour" in embed_text(poem) and "bob's own line" in embed_text(poem)
        assert_nothing_pinged(server, channel)


async def test_a_game_goes_on_after_a_restart_and_a_deadline_passed_while_down(stack, clock):
    server = stack.server
    channel = server.channel
    async with game_bot(stack, clock):
        start = await server.slash(
            "poemgame start", {"lines": 4, "ai": True, "turn_timeout": 300}, user="alice"
        )
        await said(start, server)
        lobby = latest_with(server, channel, "inkwell:game:join:")
        await said(await server.click(lobby, button(lobby, "join"), user="bob"), server)
        await said(await server.click(lobby, button(lobby, "start"), user="alice"), server)
        await write_line(server, channel, "alice", "first light on the river")
        board_before = await wait_for_board(server, channel, turn_of("Bob"))

    # A new process: the board posted before the restart still takes Bob's line.
    async with game_bot(stack, clock):
        opened = await server.click(board_before, button(board_before, "write"), user="bob")
        await server.wait_for(lambda: opened.modal is not None, 10)
        submitted = await server.modal_submit(opened, {"line": "the ferry hums"})
        assert "in the poem" in await said(submitted, server)
        await wait_for_board(
            server,
            channel,
            turn_of("Alice"),
        )

    # Alice's turn runs out while the bot is down: on start the deadline fires once, the AI
    # fills her line, and she is told (without a ping).
    clock.offset += 3600
    async with game_bot(stack, clock):
        notice = await wait_for_board(server, channel, lambda m: "ran out of time" in m.content)
        assert f"<@{server.user('alice').id}>" in notice.content
        await wait_for_board(server, channel, finished_poem, within=60)
    notices = [m for m in game_messages(server, channel) if "ran out of time" in (m.content or "")]
    assert len(notices) == 1
    games = await stack.database.games.anthology(server.guild.id, limit=5)
    assert len(games) == 1
    texts = [line.text for line in games[0].lines]
    # Alice, the AI, Bob (after the restart), and the AI filling Alice's timed-out turn.
    assert texts[0] == "first light on the river" and texts[2] == "the ferry hums"
    assert [line.by_ai for line in games[0].lines] == [False, True, False, True]
    assert_nothing_pinged(server, channel)


async def test_one_game_per_channel_and_threads_have_their_own(stack, clock):
    server = stack.server
    async with game_bot(stack, clock):
        await said(await server.slash("poemgame start", user="alice"), server)
        second = await server.slash("poemgame start", user="bob")
        assert "already" in await said(second, server)
        thread = await server.add_thread(server.channel, "poems")
        in_thread = await server.slash("poemgame start", user="bob", channel=thread)
        assert "is open" in await said(in_thread, server)
        status = await server.slash("poemgame status", user="bob", channel=thread)
        assert "Waiting in the lobby" in await said(status, server)
        writing = next(c for c in server.guild.channels if c.name == "writing")
        nothing = await server.slash("poemgame status", user="bob", channel=writing)
        assert "no poem game in this channel" in await said(nothing, server)
