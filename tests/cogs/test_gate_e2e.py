"""The door, through the fake Discord: the owner's blocklist (from /owner and from the
database, as ``python -m bot block`` writes it) and the per-minute command limits. A refused
interaction is answered once, privately, and reaches no handler: nothing is written."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from bench.load_outcomes import REFUSAL_MARK
from bot.config import LimitsSettings
from bot.safety import admission
from tests.cogs.conftest import Stack, build_stack
from tests.cogs.test_discord_e2e import bot_client, finished, synced
from tests.fakediscord import EPHEMERAL, FakeDiscord
from tests.fakediscord.fixtures import fake_discord  # noqa: F401  (pytest fixture)


@pytest.fixture
async def limited(tiny_gpt2_dir, tmp_path, fake_discord) -> AsyncIterator[Stack]:  # noqa: F811
    limits = LimitsSettings(commands_per_minute_user=3, commands_per_minute_guild=5)
    async with build_stack(tiny_gpt2_dir, tmp_path, fake_discord, limits) as built:
        yield built


async def private_text(server: FakeDiscord, name: str, options=None, user: str = "alice") -> str:
    handle = await server.slash(name, options or {}, user=user)
    answer = await handle.wait_private_answer(timeout=15)
    assert answer["flags"] & EPHEMERAL
    callback = handle.callback().json
    if callback["type"] == 4:
        assert callback["data"]["allowed_mentions"] == {"parse": []}
    embeds = " ".join(
        e.get("title", "") + e.get("description", "") for e in answer.get("embeds") or []
    )
    return (answer.get("content") or "") + embeds


async def test_a_blocked_member_is_refused_everywhere_and_an_unblock_lets_them_back(
    stack: Stack,
) -> None:
    server = stack.server
    alice = server.user("alice").id
    async with bot_client(stack) as bot:
        await synced(bot)
        poem = await server.slash("poem", {"topic": "tide", "seed": 1}, user="bob")
        (piece,) = [m for m in await finished(poem, server) if m.custom_ids()]
        opened = await server.slash("check", {"form": "haiku"}, user="alice")
        await server.wait_for(lambda: opened.modal is not None)

        said = await private_text(
            server, "owner block", {"kind": "user", "id": str(alice), "reason": "spam"}, "owner"
        )
        assert f"Blocked user `{alice}`" in said
        assert [b.target_id for b in await stack.database.blocklist.all()] == [alice]

        pieces_before = await stack.database.generations.count_for_user(alice)
        refused = await private_text(server, "poem", {"topic": "rain"})
        assert "switched it off for your account" in refused
        save = next(c for c in piece.custom_ids() if c.startswith("inkwell:save:"))
        click = await server.click(piece, save, user="alice")
        clicked = await click.wait_private_answer()
        assert "switched it off" in clicked["content"]
        form = await server.modal_submit(opened, {"poem": "one\ntwo\nthree"})
        assert "switched it off" in (await form.wait_private_answer())["content"]
        typed = await server.autocomplete("favorites show", {"id": ""}, "id", user="alice")
        await typed.wait_callback()
        assert typed.choices == []
        for handle in (click, form, typed):
            assert len(handle.responses()) == 1  # answered once, by the door
        assert await stack.database.generations.count_for_user(alice) == pieces_before
        assert await stack.database.favorites.count(alice) == 0

        assert "switched it off" not in await private_text(server, "help", user="bob")
        listed = await private_text(server, "owner blocked", user="owner")
        assert f"user `{alice}`" in listed and "spam" in listed

        assert "Unblocked" in await private_text(
            server, "owner unblock", {"kind": "user", "id": f"<@{alice}>"}, "owner"
        )
        again = await server.slash("poem", {"topic": "rain", "seed": 2}, user="alice")
        await finished(again, server)
    assert server.unhandled == []


async def test_a_block_written_by_another_process_takes_effect_within_seconds(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admission, "BLOCKLIST_REFRESH_SECONDS", 0.0)
    server = stack.server
    guild = server.guild.id
    async with bot_client(stack) as bot:
        await synced(bot)
        await private_text(server, "help")
        await stack.database.blocklist.block("guild", guild)  # as `python -m bot block` does
        await private_text(server, "help")  # this one starts the read
        await server.wait_for(lambda: bot.gate.admission.blocked.refusal(1, guild) is not None)
        assert "switched it off in this server" in await private_text(server, "help", user="mod")
        # The owner is never refused, even in a blocked server, and may lift it here.
        assert "Inkwell" in await private_text(server, "help", user="owner")
        await private_text(server, "owner unblock", {"kind": "guild", "id": str(guild)}, "owner")
        assert "switched it off" not in await private_text(server, "help")
    assert server.unhandled == []


async def test_the_owner_cannot_block_an_owner_or_a_non_id(stack: Stack) -> None:
    server = stack.server
    async with bot_client(stack) as bot:
        await synced(bot)
        owner = str(server.user("owner").id)
        assert "never blocked" in await private_text(
            server, "owner block", {"kind": "user", "id": owner}, "owner"
        )
        assert "isn't a Discord id" in await private_text(
            server, "owner block", {"kind": "user", "id": "@everyone"}, "owner"
        )
    assert await stack.database.blocklist.all() == []


async def test_commands_per_minute_are_limited_per_member_and_per_server(
    limited: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    server = limited.server
    caplog.set_level(logging.INFO, logger="bot.ops.interactions")
    async with bot_client(limited) as bot:
        await synced(bot)
        for _ in range(10):  # typing in an option box is not counted
            typed = await server.autocomplete("favorites show", {"id": ""}, "id", user="alice")
            await typed.wait_callback()
        opened = await server.slash("check", {"form": "haiku"}, user="alice")  # her 1st
        await server.wait_for(lambda: opened.modal is not None)
        for _ in range(2):
            assert "fast" not in await private_text(server, "help")
        refused = await private_text(server, "help")
        assert refused.startswith(REFUSAL_MARK)  # as every refusal, so the load test sees it
        assert "You're going a little fast" in refused and "Try again in" in refused
        # The form she opened is not lost to the limit: her text still arrives.
        form = await server.modal_submit(
            opened, {"poem": "an old silent pond\na frog jumps into the pond\nsplash"}
        )
        assert "Haiku check" in (await form.wait_private_answer(timeout=30))["content"]
        assert "fast" not in await private_text(server, "help", user="bob")  # the 4th here
        assert "fast" not in await private_text(server, "help", user="mod")  # the 5th
        busy = await private_text(server, "help", user="bob")
        assert "This server is sending me a lot" in busy
        for _ in range(5):  # the owner is never limited
            assert "lot" not in await private_text(server, "help", user="owner")
    lines = [r.getMessage() for r in caplog.records if "outcome=limited" in r.getMessage()]
    assert len(lines) == 2 and all(line.startswith("command help") for line in lines)
    assert server.unhandled == []
