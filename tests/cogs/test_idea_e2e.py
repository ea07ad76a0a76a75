"""/idea end to end through the fake Discord: the prompt, its three buttons, no repeats until a
pool runs out, AI ideas that fall back, the saved-prompt limit, and buttons after a restart."""

from __future__ import annotations

from bot.community.ideas import idea_tags, is_one_or_two_sentences, piece_draft
from bot.community.ideas_service import AI_FALLBACK, NEW_CYCLE
from bot.storage import MAX_SAVED_PROMPTS
from tests.cogs.test_discord_e2e import bot_client, finished, synced

NO_PINGS = {"parse": []}


async def shown(handle, server):
    """The idea message a /idea or Another click ended with."""
    await server.wait_for(lambda: _idea_in(handle.final_message()), timeout=60)
    return handle.final_message()


def _idea_in(message) -> bool:
    return bool(message and message.embeds and message.embeds[0]["title"].startswith("💡 Idea #"))


def idea_id(message) -> int:
    return int(message.embeds[0]["title"].rsplit("#", 1)[1])


def button(message, action: str) -> str:
    return next(c for c in message.custom_ids() if c.startswith(f"inkwell:idea:{action}:"))


async def said(handle) -> str:
    data = await handle.wait_private_answer(timeout=10)
    return data.get("content") or ""


def assert_no_pings(handle) -> None:
    for request in handle.responses():
        body = (request.json or {}).get("data", request.json or {})
        if body.get("content") or body.get("embeds"):
            assert body.get("allowed_mentions") == NO_PINGS, body


async def test_idea_shows_a_prompt_and_each_button_works(stack):
    server = stack.server
    async with bot_client(stack) as bot:
        await synced(bot)
        asked = await server.slash("idea", {"genre": "horror", "theme": "fear"}, user="alice")
        message = await shown(asked, server)
        assert asked.callback().json["type"] == 5 and not message.ephemeral
        number = idea_id(message)
        stored = await stack.database.ideas.get(number)
        assert stored is not None and stored.genre == "horror" and stored.source == "curated"
        embed = message.embeds[0]
        assert embed["description"] == stored.text
        # The pool holds stories, scripts and poems (a sonnet, a haiku): the footer and the
        # piece's label follow whichever was drawn.
        assert embed["footer"]["text"] == idea_tags(
            "curated", "horror", stored.form, stored.poem_form
        )
        assert embed["footer"]["text"].startswith("Curated · horror · ")
        assert [c.split(":")[2] for c in message.custom_ids()] == ["write", "save", "another"]
        assert_no_pings(asked)

        # Write it for me: a piece from the prompt, through the write flow, for Bob.
        write = await server.click(message, button(message, "write"), user="bob")
        piece = (await finished(write, server))[-1]
        spec = piece_draft(stored.text, stored.form, stored.poem_form, stored.genre).spec
        label = spec.title().split(":", 1)[0]
        assert piece.content.startswith(f"**{label}: ")
        assert f"for <@{server.user('bob').id}>" in piece.content

        # Save prompt: into Bob's saved prompts, once.
        save = await server.click(message, button(message, "save"), user="bob")
        assert f"Saved to your prompts as “idea-{number}”" in await said(save)
        saved = await stack.database.prompts.get(server.user("bob").id, f"idea-{number}")
        assert saved is not None and saved.text == stored.text and saved.form == stored.form
        again = await server.click(message, button(message, "save"), user="bob")
        assert "already in your saved prompts" in await said(again)
        use = await server.slash("prompts use", {"name": f"idea-{number}"}, user="bob")
        assert (await finished(use, server))[-1].content.startswith(f"**{label}: ")

        # Another: a new message, the same filter, never the same prompt.
        other = await server.click(message, button(message, "another"), user="mod")
        next_message = await shown(other, server)
        following = await stack.database.ideas.get(idea_id(next_message))
        assert following is not None and following.pool == stored.pool
        assert following.curated_key != stored.curated_key and following.genre == "horror"
        assert following.user_id == server.user("mod").id
        assert_no_pings(other)
    assert server.unhandled == []


async def test_a_pool_runs_out_then_the_channel_is_told_it_starts_over(stack):
    server = stack.server
    async with bot_client(stack) as bot:
        await synced(bot)
        keys = []
        contents = []
        for _ in range(3):  # "autumn" has two curated prompts
            handle = await server.slash("idea", {"theme": "autumn"}, user="alice")
            message = await shown(handle, server)
            keys.append((await stack.database.ideas.get(idea_id(message))).curated_key)
            contents.append(message.content or "")
    assert keys[0] != keys[1] and keys[2] != keys[1]
    assert contents[:2] == ["", ""] and NEW_CYCLE in contents[2]


async def test_ai_ideas_are_checked_and_fall_back_to_curated_with_a_note(stack):
    server = stack.server
    async with bot_client(stack) as bot:
        await synced(bot)
        handle = await server.slash("idea", {"genre": "fable", "source": "ai"}, user="alice")
        message = await shown(handle, server)
    stored = await stack.database.ideas.get(idea_id(message))
    assert stored is not None and stored.requested == "ai"
    if stored.source == "ai":  # a tiny random model rarely writes a sentence, but it may
        assert is_one_or_two_sentences(stored.text)
        assert message.embeds[0]["footer"]["text"].startswith("✍ Written by AI")
    else:
        assert AI_FALLBACK in message.content and stored.genre == "fable"


async def test_an_ai_idea_that_passes_the_check_is_shown_as_written_by_ai(tmp_path, fake_discord):
    from tests.cogs.conftest import build_stack
    from tests.generation.scripted_model import build_scripted_gpt2

    script = "\nPrompt: A violin that only plays at funerals goes missing.\n"
    writer = build_scripted_gpt2(tmp_path / "ideas", script)
    async with (
        build_stack(writer, tmp_path, fake_discord, max_prompt_tokens=200) as stack,
        bot_client(stack) as bot,
    ):
        await synced(bot)
        handle = await fake_discord.slash("idea", {"genre": "mystery", "source": "ai"})
        message = await shown(handle, fake_discord)
        stored = await stack.database.ideas.get(idea_id(message))
        write = await fake_discord.click(message, button(message, "write"), user="bob")
        piece = (await finished(write, fake_discord))[-1]
        # The idea itself was not filed as anyone's piece; the story written from it was.
        pieces = stack.database.generations
        assert await pieces.count_for_user(fake_discord.user("alice").id) == 0
        assert [r.form for r in await pieces.list_for_user(fake_discord.user("bob").id)] == [
            "story"
        ]
    assert stored is not None and stored.source == "ai" and stored.curated_key is None
    assert stored.text == "A violin that only plays at funerals goes missing."
    assert message.embeds[0]["description"] == stored.text
    assert message.embeds[0]["footer"]["text"] == "✍ Written by AI · mystery · story"
    assert piece.content.startswith("**Story (mystery): A violin that only plays")


async def test_save_prompt_explains_a_full_list_and_a_taken_name(stack):
    server = stack.server
    bob, mod_user = server.user("bob").id, server.user("mod").id
    for index in range(MAX_SAVED_PROMPTS):
        await stack.database.prompts.save(bob, f"p{index}", "text", "continue")
    async with bot_client(stack) as bot:
        await synced(bot)
        message = await shown(await server.slash("idea", {}, user="alice"), server)
        number = idea_id(message)
        await stack.database.prompts.save(mod_user, f"IDEA-{number}", "my own words", "continue")
        full = await server.click(message, button(message, "save"), user="bob")
        assert f"limit of {MAX_SAVED_PROMPTS} saved prompts" in await said(full)
        taken = await server.click(message, button(message, "save"), user="mod")
        assert f"already have a saved prompt called “IDEA-{number}”" in await said(taken)
    assert await stack.database.prompts.count(bob) == MAX_SAVED_PROMPTS


async def test_the_buttons_work_after_a_restart(stack):
    server = stack.server
    async with bot_client(stack) as bot:
        await synced(bot)
        message = await shown(await server.slash("idea", {"genre": "poetry"}, user="alice"), server)
    number = idea_id(message)
    # A new process: the message posted before the restart still answers every button.
    async with bot_client(stack):
        save = await server.click(message, button(message, "save"), user="alice")
        assert f"“idea-{number}”" in await said(save)
        other = await server.click(message, button(message, "another"), user="alice")
        following = await stack.database.ideas.get(idea_id(await shown(other, server)))
        assert following is not None and following.genre == "poetry" and following.id > number
        write = await server.click(message, button(message, "write"), user="alice")
        piece = (await finished(write, server))[-1]
    assert piece.content.startswith("**") and "Written by AI" in piece.content
    assert server.unhandled == []


async def test_theme_autocompletes_from_the_theme_list(stack):
    server = stack.server
    async with bot_client(stack) as bot:
        await synced(bot)
        handle = await server.autocomplete("idea", {"theme": "wi"}, "theme", user="alice")
        await handle.wait_callback()
    names = [choice["name"] for choice in handle.callback().json["data"]["choices"]]
    assert names == ["winter", "wisdom"]
    command = next(c for c in server.commands.list(None) if c["name"] == "idea")
    genre = next(o for o in command["options"] if o["name"] == "genre")
    assert "poetry" in [c["value"] for c in genre["choices"]]


async def test_a_theme_nothing_fits_is_widened_and_quoted_without_pings(stack):
    server = stack.server
    async with bot_client(stack) as bot:
        await synced(bot)
        handle = await server.slash(
            "idea", {"theme": "@everyone *loud*", "source": "curated"}, user="alice"
        )
        message = await shown(handle, server)
    assert "I have no curated ideas about" in message.content
    assert "@everyone" not in message.content and "\\*loud\\*" in message.content
    assert not message.payload["mention_everyone"]
    assert_no_pings(handle)
