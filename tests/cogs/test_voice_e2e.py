"""A community's voice through the fake Discord: /settings voice (Manage Server) chooses only
this server's voices whose files are there, and /voice card shows what a voice learned from,
its perplexities and its samples, filtered and without pings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.__main__ import main
from tests.cogs.test_discord_e2e import bot_client, finished, synced
from tests.fakediscord import EPHEMERAL
from tests.storage.test_games import finished_poem, line

OTHER_GUILD = 4242


@pytest.fixture(autouse=True)
def root_logger_kept() -> Iterator[None]:
    """`python -m bot train`, run in-process, configures logging: put the root logger back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


async def a_voice(stack, name: str, guild_id: int | None, *, files: bool = True) -> None:
    folder = Path(stack.make_bot().settings.voice.adapters_dir) / name
    if files:
        folder.mkdir(parents=True)
        (folder / "adapter_model.safetensors").write_bytes(b"weights")
    await stack.database.voices.record_adapter(
        name=name,
        guild_id=guild_id,
        base_model="tiny",
        author_ids=[1, 2, 3],
        pieces=40,
        card={
            "perplexity_before": 52.25,
            "perplexity_after": 21.5,
            "steps": 200,
            "samples_before": ["plain sea"],
            "samples_after": [
                "@everyone the harbour <@123456789012345678> sings of cheese **loud**"
            ],
        },
    )


async def test_choosing_a_voice_and_reading_its_card(stack):
    server = stack.server
    guild = server.guild.id
    await a_voice(stack, "harbour", guild)
    await a_voice(stack, "theirs", OTHER_GUILD)
    await a_voice(stack, "gone", guild, files=False)
    await stack.database.guild_settings.add_blocked_word(guild, "cheese", limit=10)
    async with bot_client(stack) as bot:
        await synced(bot)
        unset = await server.slash("voice card", {}, user="alice")
        member = await server.slash("settings voice", {"adapter": "harbour"}, user="alice")
        theirs = await server.slash("settings voice", {"adapter": "theirs"}, user="mod")
        gone = await server.slash("settings voice", {"adapter": "gone"}, user="mod")
        chosen = await server.slash("settings voice", {"adapter": "Harbour"}, user="mod")
        for handle in (unset, member, theirs, gone, chosen):
            await handle.wait_private_answer()
        assert stack.database.guild_settings.cached(guild).voice_adapter == "harbour"
        card = await server.slash("voice card", {}, user="bob")
        await card.wait_private_answer()  # "thinking…", then the card in its place
        peek = await server.slash("voice card", {"name": "theirs"}, user="bob")
        await peek.wait_private_answer()
        back = await server.slash("settings voice", {"adapter": "none"}, user="mod")
        await back.wait_private_answer()
    assert "base model" in unset.private_answer()["content"]
    assert "Manage Server" in member.private_answer()["content"]
    assert "no voice called 'theirs'" in theirs.private_answer()["content"]
    assert "files are missing" in gone.private_answer()["content"]
    assert "built from 3 authors" in chosen.private_answer()["content"]
    assert card.callback().json["data"]["flags"] & EPHEMERAL
    data = card.original_edits()[-1].json
    assert data["allowed_mentions"] == {"parse": []}
    (embed,) = data["embeds"]
    shown = str(embed)
    assert "Built from 3 authors" in embed["description"] and "40 pieces" in embed["description"]
    assert "52.2 before" in shown and "21.5" in shown
    assert (
        "cheese" not in shown and "@everyone" not in shown and "<@123456789012345678>" not in shown
    )
    after = embed["fields"][-1]["value"]
    assert after.startswith("@\u200beveryone") and "\\*\\*loud\\*\\*" in after
    assert "no voice called 'theirs'" in peek.private_answer()["content"]
    assert stack.database.guild_settings.cached(guild).voice_adapter is None


async def an_anthology(stack, guild: int, author: int) -> None:
    """Twelve finished game poems in the guild, by a member who allowed training."""
    await stack.database.voices.set_consent(author, True)
    for n in range(12):
        await finished_poem(
            stack.database,
            line(0, author, f"gulls over the harbour wall {n}", author_name="Alice"),
            line(1, None, "and the tide says nothing", by_ai=True),
            channel=1000 + n,
            guild=guild,
        )


async def test_a_servers_voice_writes_its_pieces_and_is_named_in_the_attribution(
    stack, tiny_gpt2_dir
):
    """A guild's anthology trains a voice through `python -m bot train`; chosen with
    /settings voice, it writes the guild's pieces, and the attribution names it."""
    server = stack.server
    guild = server.guild.id
    voices = Path(stack.make_bot().settings.voice.adapters_dir)
    await an_anthology(stack, guild, server.user("alice").id)
    # The operator trains it with the real CLI, on the same database file the bot uses.
    config = voices.parent / "train.toml"
    config.write_text(
        f'[model]\nname = "{tiny_gpt2_dir}"\ncache_dir = "{voices.parent / "cache"}"\n'
        f'[storage]\ndatabase = "{stack.database.path}"\n[voice]\nadapters_dir = "{voices}"\n'
    )
    argv = ["--config", str(config), "train", "--guild", str(guild), "--source", "anthology"]
    assert await asyncio.to_thread(main, [*argv, "--out", "harbour", "--max-steps", "6"]) == 0
    record = await stack.database.voices.adapter("harbour")
    assert record is not None and record.pieces == 12 and record.authors == 1
    poem = {"topic": "the harbour", "seed": 7}
    async with bot_client(stack) as bot:
        await synced(bot)
        base = await server.slash("poem", poem, user="alice")
        base_text = " ".join(m.content for m in await finished(base, server))
        chosen = await server.slash("settings voice", {"adapter": "harbour"}, user="mod")
        await chosen.wait_private_answer()
        voiced = await server.slash("poem", poem, user="bob")
        voiced_text = " ".join(m.content for m in await finished(voiced, server))
    assert "voice harbour" in voiced_text and "voice harbour" not in base_text
    body = voiced_text.split("-# ✍")[0]
    assert body != base_text.split("-# ✍")[0]  # the same seed, another voice
    bobs = await stack.database.generations.list_for_user(server.user("bob").id)
    assert [r.model.endswith("· voice harbour") for r in bobs] == [True]
