"""End to end: /prompts save|list|use|rename|delete and their autocomplete."""

from __future__ import annotations

from bot.storage import MAX_SAVED_PROMPTS
from tests.cogs.test_discord_e2e import bot_client, finished, synced

NO_PINGS = {"parse": []}


def private_text(handle) -> str:
    """The private answer's text; every message body sent for it pings nobody."""
    data = handle.private_answer()
    assert data is not None, handle.responses()
    for request in handle.responses():
        body = (request.json or {}).get("data", request.json or {})
        if body.get("content") or body.get("embeds"):
            assert body.get("allowed_mentions") == NO_PINGS, body
    return data.get("content") or data["embeds"][0]["description"]


async def answered(server, *calls):
    handles = []
    for name, options, user in calls:
        handle = await server.slash(name, options, user=user)
        await handle.wait_private_answer()  # in order: each sees the one before
        handles.append(handle)
    return handles


async def test_save_list_rename_delete_are_private_and_per_user(stack):
    server = stack.server
    async with bot_client(stack) as bot:
        await synced(bot)
        save, clash, listing, rename, bobs_list, bobs_delete, delete, gone = await answered(
            server,
            (
                "prompts save",
                {"name": "Rain", "text": "autumn rain", "form": "poem", "poem_form": "haiku"},
                "alice",
            ),
            ("prompts save", {"name": "rain", "text": "x", "form": "story"}, "alice"),
            ("prompts list", {}, "alice"),
            ("prompts rename", {"old": "rain", "new": "Drizzle"}, "alice"),
            ("prompts list", {}, "bob"),
            ("prompts delete", {"name": "Drizzle"}, "bob"),
            ("prompts delete", {"name": "drizzle"}, "alice"),
            ("prompts list", {}, "alice"),
        )
    assert "Saved “Rain” (poem (haiku))" in private_text(save)
    assert "already have a saved prompt called “Rain”" in private_text(clash)
    assert "**Rain** — poem (haiku): autumn rain" in private_text(listing)
    assert "Renamed “rain” to “Drizzle”" in private_text(rename)
    assert "no saved prompts" in private_text(bobs_list)
    assert "don't have a saved prompt called “Drizzle”" in private_text(bobs_delete)
    assert "Deleted your saved prompt" in private_text(delete)
    assert "no saved prompts" in private_text(gone)


async def test_saving_checks_the_prompt_like_its_command_and_the_limit(stack):
    server = stack.server
    alice = server.user("alice").id
    for index in range(MAX_SAVED_PROMPTS):
        await stack.database.prompts.save(alice, f"p{index}", "text", "continue")
    async with bot_client(stack) as bot:
        await synced(bot)
        too_long, wrong_option, full = await answered(
            server,
            ("prompts save", {"name": "long", "text": "word " * 80, "form": "poem"}, "bob"),
            (
                "prompts save",
                {"name": "odd", "text": "a key", "form": "poem", "genre": "horror"},
                "bob",
            ),
            ("prompts save", {"name": "one more", "text": "a key", "form": "story"}, "alice"),
        )
    assert "keep it under 300" in private_text(too_long)
    assert "poem prompt can't have a genre" in private_text(wrong_option)
    assert f"limit of {MAX_SAVED_PROMPTS} saved prompts" in private_text(full)
    assert await stack.database.prompts.count(server.user("bob").id) == 0


async def test_use_writes_through_the_right_form_publicly(stack):
    server = stack.server
    bob = server.user("bob").id
    await stack.database.prompts.save(
        server.user("alice").id, "Tides", "the turning tide", "poem", {"poem_form": "haiku"}
    )
    await stack.database.prompts.save(bob, "Keys", "a lost key", "story", {"genre": "mystery"})
    async with bot_client(stack) as bot:
        await synced(bot)
        poem = await server.slash("prompts use", {"name": "tides"}, user="alice")
        poem_final = (await finished(poem, server))[-1]
        story = await server.slash("prompts use", {"name": "Keys"}, user="bob")
        story_final = (await finished(story, server))[-1]
        (borrowed,) = await answered(server, ("prompts use", {"name": "Keys"}, "alice"))
    assert poem.callback().json["type"] == 5 and not poem_final.ephemeral
    assert poem_final.content.startswith("**Haiku: the turning tide**")
    assert story_final.content.startswith("**Story (mystery): a lost key**")
    assert f"for <@{bob}>" in story_final.content
    assert "don't have a saved prompt called “Keys”" in private_text(borrowed)


async def test_names_autocomplete_from_your_own_prompts_at_most_25(stack):
    server = stack.server
    alice, bob = server.user("alice").id, server.user("bob").id
    for index in range(30):
        await stack.database.prompts.save(alice, f"idea {index:02}", "text", "continue")
    await stack.database.prompts.save(bob, "idea of bob", "text", "continue")
    async with bot_client(stack) as bot:
        await synced(bot)
        handles = [
            await server.autocomplete("prompts use", {"name": ""}, "name", user="alice"),
            await server.autocomplete("prompts delete", {"name": "IDEA 1"}, "name", user="alice"),
            await server.autocomplete(
                "prompts rename", {"old": "idea", "new": "x"}, "old", user="bob"
            ),
        ]
        for handle in handles:
            await handle.wait_callback()
    everything, narrowed, bobs = ([c["value"] for c in h.choices] for h in handles)
    assert len(everything) == 25 and "idea of bob" not in everything
    assert everything == [f"idea {index:02}" for index in range(25)]
    assert narrowed == [f"idea {index}" for index in range(10, 20)]
    assert bobs == ["idea of bob"]
