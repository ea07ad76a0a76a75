"""/check and /score end to end: real discord.py and the craft cog against the fake Discord,
with a tiny random model writing the suggestions and scoring the texts."""

from __future__ import annotations

from tests.cogs.test_discord_e2e import bot_client, synced
from tests.fakediscord import EPHEMERAL

BROKEN_HAIKU = (
    "Grey waves fold and break / salt wind combs the empty wide dunes / one gull, then no gull"
)
LIMERICK = (
    "There once was a cat from Peru / Who dreamed he was eating a shoe / He woke with a fright"
    " / In the middle of night / And found that his dream had come true"
)


def public_followups(handle):
    return [m for m in handle.followups() if not m.ephemeral]


async def test_check_is_registered_with_its_options(stack):
    async with bot_client(stack) as bot:
        await synced(bot)
    commands = {c["name"]: c for c in stack.server.commands.list(None)}
    assert {"check", "score"} <= set(commands)
    options = {o["name"]: o for o in commands["check"]["options"]}
    assert [c["value"] for c in options["form"]["choices"]] == [
        "haiku",
        "limerick",
        "quatrain",
        "sonnet",
        "free",
    ]
    assert all(o["description"] for o in options.values())


async def test_check_answers_privately_with_counts_problems_and_a_suggestion(stack):
    async with bot_client(stack) as bot:
        await synced(bot)
        handle = await stack.server.slash(
            "check", {"form": "haiku", "text": BROKEN_HAIKU}, user="alice"
        )
        answer = await handle.wait_private_answer(timeout=30)
    assert handle.callback().json["type"] == 5  # deferred before the model writes
    assert handle.callback().json["data"]["flags"] & EPHEMERAL
    text = answer["content"]
    assert text.startswith("**Haiku check: 5·8·5**")
    assert "Line 2 has 8 syllables; it needs 7." in text
    assert "Suggestion for line 2 (written by AI" in text
    suggestion = text.split("\n> ", 1)[1].split("\n")[0]
    assert suggestion.endswith("✓")  # the rewrite keeps the slot's 7 syllables
    assert public_followups(handle) == []
    assert stack.server.unhandled == []


async def test_check_can_be_shared_and_a_kept_form_needs_no_suggestion(stack):
    async with bot_client(stack) as bot:
        await synced(bot)
        handle = await stack.server.slash(
            "check", {"form": "limerick", "text": LIMERICK, "share": True}, user="alice"
        )
        await stack.server.wait_for(lambda: public_followups(handle), timeout=30)
    text = public_followups(handle)[0].content
    assert "**Limerick check: AABBA ✓**" in text and "It keeps the form. ✓" in text
    assert "Suggestion" not in text


async def test_check_without_text_opens_a_box_for_the_whole_poem(stack):
    async with bot_client(stack) as bot:
        await synced(bot)
        opened = await stack.server.slash("check", {"form": "haiku"}, user="alice")
        await stack.server.wait_for(lambda: opened.modal is not None)
        submitted = await stack.server.modal_submit(
            opened, {"poem": "Crimson leaves falling\nwhispers of the cooling wind\nthe old pond"}
        )
        answer = await submitted.wait_private_answer(timeout=30)
    assert "5·7·3" in answer["content"] and "Line 3 has 3 syllables" in answer["content"]


async def test_an_empty_poem_is_refused_privately(stack):
    async with bot_client(stack) as bot:
        await synced(bot)
        handle = await stack.server.slash("check", {"form": "haiku", "text": " / "}, user="bob")
        answer = await handle.wait_private_answer()
    assert "no poem to check" in answer["content"]


async def test_score_explains_the_perplexity_privately(stack):
    async with bot_client(stack) as bot:
        await synced(bot)
        handle = await stack.server.slash(
            "score", {"text": "The quiet poem waits beside the river."}, user="alice"
        )
        answer = await handle.wait_private_answer(timeout=30)
    text = answer["content"]
    assert text.startswith("**Score: ") and "Most surprising words:" in text
    assert stack.generation.info.name in text  # the model that scored it
    assert "tokens" in text
