"""Content safety through the fake Discord: /settings content and blocked-words (Manage
Server, checked by the bot), prompts and typed text refused privately before any work, and
pieces whose listed words never reach the wire raw, not even in a streamed preview."""

from __future__ import annotations

import json
import re

from bot.safety import MASK
from bot.safety.words import tokens
from bot.writing.commands import writing_request
from tests.cogs.test_discord_e2e import bot_client, finished, synced
from tests.fakediscord import EPHEMERAL

PROMPT = "the lighthouse keeper"


def wire(server) -> str:
    """Everything the bot sent Discord since the last reset: JSON bodies and files."""
    parts = []
    for request in server.requests:
        if request.json is not None:
            parts.append(json.dumps(request.json, ensure_ascii=False))
        parts.extend(f.data.decode("utf-8", "replace") for f in request.files)
    return "\n".join(parts)


def says(text: str, word: str) -> bool:
    return re.search(rf"(?<![^\W_]){re.escape(word)}(?![^\W_])", text, re.IGNORECASE) is not None


def private(handle) -> dict:
    data = handle.callback().json["data"]
    assert data["flags"] & EPHEMERAL
    return data


async def test_content_rating_needs_manage_server_and_off_an_age_restricted_channel(stack):
    server = stack.server
    adult = await server.add_channel("after-dark", nsfw=True)
    async with bot_client(stack) as bot:
        await synced(bot)
        await server.wait_for(lambda: bot.get_channel(adult.id) is not None)
        member = await server.slash("settings content", {"rating": "strict"}, user="alice")
        await member.wait_callback()
        here = await server.slash("settings content", {"rating": "off"}, user="mod")
        await here.wait_callback()
        assert stack.database.guild_settings.cached(server.guild.id).content_rating == "standard"
        there = await server.slash("settings content", {"rating": "off"}, user="mod", channel=adult)
        await there.wait_private_answer()
        # Off applies in the age-restricted channel only; elsewhere it is standard.
        refused = await server.slash("poem", {"topic": "a shit harbour", "seed": 2}, user="bob")
        await refused.wait_callback()
        written = await server.slash(
            "poem", {"topic": "a shit harbour", "seed": 2}, user="bob", channel=adult
        )
        await finished(written, server)
    assert "Manage Server" in private(member)["content"]
    assert "age-restricted" in private(here)["content"]
    assert "off" in there.private_answer()["content"]
    assert stack.database.guild_settings.cached(server.guild.id).content_rating == "off"
    assert "a shit harbour" in private(refused)["content"]
    assert written.final_message().content.startswith("**Poem: a shit harbour**")


async def test_blocked_words_add_list_remove_for_admins_only(stack):
    server = stack.server
    guild = server.guild.id
    async with bot_client(stack) as bot:
        await synced(bot)
        member = await server.slash("settings blocked-words add", {"word": "moon"}, user="alice")
        await member.wait_callback()
        added = await server.slash(
            "settings blocked-words add", {"word": "  Night   TIDE "}, user="mod"
        )
        await added.wait_private_answer()
        again = await server.slash("settings blocked-words add", {"word": "night tide"}, user="mod")
        await again.wait_private_answer()
        junk = await server.slash("settings blocked-words add", {"word": "!!!"}, user="mod")
        await junk.wait_callback()
        listed = await server.slash("settings blocked-words list", {}, user="mod")
        await listed.wait_private_answer()
        for n in range(199):
            await stack.database.guild_settings.add_blocked_word(guild, f"word{n}", limit=200)
        full = await server.slash("settings blocked-words add", {"word": "gull"}, user="mod")
        await full.wait_private_answer()
        removed = await server.slash(
            "settings blocked-words remove", {"word": "night tide"}, user="mod"
        )
        await removed.wait_private_answer()
    assert "Manage Server" in private(member)["content"]
    assert "||night tide|| is now blocked" in added.private_answer()["content"]
    assert "already blocked" in again.private_answer()["content"]
    assert "letter or digit" in private(junk)["content"]
    assert "||night tide||" in listed.private_answer()["content"]
    assert "already blocks 200 words" in full.private_answer()["content"]
    assert "no longer blocked" in removed.private_answer()["content"]
    words = stack.database.guild_settings.cached(guild).blocked_words
    assert "night tide" not in words and "gull" not in words and len(words) == 199


async def test_a_prompt_with_a_listed_word_is_refused_before_anything_is_queued(stack):
    server = stack.server
    await stack.database.guild_settings.add_blocked_word(server.guild.id, "kraken", limit=10)
    async with bot_client(stack) as bot:
        await synced(bot)
        poem = await server.slash("poem", {"topic": "the sh1t tide"}, user="alice")
        await poem.wait_callback()
        story = await server.slash("continue", {"text": "The KRAKEN rose"}, user="alice")
        await story.wait_callback()
    for handle, text in ((poem, "the sh1t tide"), (story, "The KRAKEN rose")):
        answer = private(handle)  # answered at once and privately: never deferred
        assert text in answer["content"] and "Nothing was queued" in answer["content"]
    assert await stack.database.generations.count_for_user(server.user("alice").id) == 0


async def test_typed_game_lines_and_sprint_prompts_are_checked_first(stack):
    server = stack.server
    async with bot_client(stack) as bot:
        await synced(bot)
        line = await server.slash("poemgame add", {"line": "the fucking gulls"}, user="bob")
        await line.wait_callback()
        sprint = await server.slash(
            "sprint start", {"minutes": 5, "prompt": "write about a bitch"}, user="bob"
        )
        await sprint.wait_callback()
    assert "the fucking gulls" in private(line)["content"]  # before "no game here"
    assert "write about a bitch" in private(sprint)["content"]
    assert await stack.database.sprints.open_in_channel(server.channel.id) is None


async def test_a_filtered_piece_is_rewritten_with_the_next_seed_then_masked_never_raw(stack):
    """The guild blocks a word of what seed 3 writes and one of what seed 4 writes: seed 3's
    piece is caught, seed 4 writes it again and is caught too, so it is posted masked."""
    server = stack.server
    options = {"prompt": PROMPT, "seed": 3, "max_tokens": 40}
    first_words, second_words = [], []
    for seed, found in ((3, first_words), (4, second_words)):
        spec, sampling = writing_request("generate", {**options, "seed": seed})
        piece = await stack.flow.writing.write(spec, sampling)
        prompt_words = {t.word for t in tokens(PROMPT)}
        found.extend(
            t.word
            for t in tokens(piece.text)
            if t.word.isalpha() and len(t.word) >= 4 and t.word not in prompt_words
        )
    assert first_words and second_words, "the tiny model wrote no words to block"
    blocked = {first_words[0], second_words[0]}
    for word in blocked:
        await stack.database.guild_settings.add_blocked_word(server.guild.id, word, limit=10)
    async with bot_client(stack) as bot:
        await synced(bot)
        server.reset_records()
        handle = await server.slash("generate", options, user="alice")
        final = (await finished(handle, server))[-1]
        sent = wire(server)
    assert "seed 4" in final.content  # written again, with the next seed
    assert MASK in final.content
    for word in blocked:
        assert not says(sent, word), f"{word!r} reached Discord"
    record = await stack.database.generations.get(
        int(re.findall(r"piece #(\d+)", final.content)[0])
    )
    assert record is not None and MASK in record.text and record.seed == 4


async def test_words_of_the_package_list_the_model_writes_are_masked_on_the_wire(
    tmp_path, fake_discord
):
    """A real model that writes listed words whatever the seed: both tries are caught, so
    the piece is posted masked, and no preview or final message carries a raw word."""
    from tests.cogs.conftest import build_stack
    from tests.generation.scripted_model import build_scripted_gpt2

    writer = build_scripted_gpt2(tmp_path / "swearer", "the sea is shit and the fuck gulls\n")
    async with (
        build_stack(writer, tmp_path, fake_discord) as stack,
        bot_client(stack) as bot,
    ):
        await synced(bot)
        fake_discord.reset_records()
        handle = await fake_discord.slash(
            "generate", {"prompt": "Say something", "seed": 1}, user="alice"
        )
        final = (await finished(handle, fake_discord))[-1]
        sent = wire(fake_discord)
    assert "seed 2" in final.content and MASK in final.content
    assert "sea" in sent  # the model's own words did reach the wire, only those masked
    for word in ("shit", "fuck"):
        assert not says(sent, word), f"{word!r} reached Discord"
