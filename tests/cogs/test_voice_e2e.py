"""A community's voice through the fake Discord: /settings voice (Manage Server) chooses only
this server's voices whose files are there, and /voice card shows what a voice learned from,
its perplexities and its samples, filtered and without pings."""

from __future__ import annotations

from pathlib import Path

from tests.cogs.test_discord_e2e import bot_client, synced
from tests.fakediscord import EPHEMERAL

OTHER_GUILD = 4242


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
        await card.wait_callback()
        peek = await server.slash("voice card", {"name": "theirs"}, user="bob")
        await peek.wait_private_answer()
        back = await server.slash("settings voice", {"adapter": "none"}, user="mod")
        await back.wait_private_answer()
    assert "base model" in unset.private_answer()["content"]
    assert "Manage Server" in member.private_answer()["content"]
    assert "no voice called 'theirs'" in theirs.private_answer()["content"]
    assert "files are missing" in gone.private_answer()["content"]
    assert "built from 3 authors" in chosen.private_answer()["content"]
    data = card.callback().json["data"]
    assert data["flags"] & EPHEMERAL and data["allowed_mentions"] == {"parse": []}
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
