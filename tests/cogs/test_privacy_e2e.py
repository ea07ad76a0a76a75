"""End to end: /privacy export and /privacy delete with its Confirm/Cancel question."""

from __future__ import annotations

import json
import sys

from tests.cogs.test_discord_e2e import bot_client, synced
from tests.fakediscord import EPHEMERAL
from tests.storage.factories import add_piece

NO_PINGS = {"parse": []}


async def alice_with_data(stack) -> dict[str, int]:
    """Alice: two pieces (one starred by bob), one favourite, one saved prompt."""
    server = stack.server
    alice, bob = server.user("alice").id, server.user("bob").id
    first = await add_piece(stack.database, user_id=alice, user_name="Alice", text="sea song")
    await add_piece(stack.database, user_id=alice, user_name="Alice")
    bobs_piece = await add_piece(stack.database, user_id=bob, user_name="Bob")
    await stack.database.favorites.add(alice, bobs_piece.id)
    await stack.database.favorites.add(bob, first.id)
    await stack.database.prompts.save(alice, "Sea", "the sea", "poem")
    return {"alice": alice, "bob": bob, "first": first.id}


def buttons(message) -> tuple[str, str]:
    confirm, cancel = message.custom_ids()
    assert confirm.startswith("inkwell:erase:confirm:")
    assert cancel.startswith("inkwell:erase:cancel:")
    return confirm, cancel


async def test_export_sends_all_of_your_data_privately(stack):
    ids = await alice_with_data(stack)
    async with bot_client(stack) as bot:
        await synced(bot)
        handle = await stack.server.slash("privacy export", {}, user="alice")
        await stack.server.wait_for(lambda: bool(handle.followups()))
    message = handle.followups()[-1]
    assert message.ephemeral and message.allowed_mentions == NO_PINGS
    assert "2 pieces, 1 favourite and 1 saved prompt" in message.content
    (upload,) = message.files
    assert upload.filename.startswith("inkwell-data-") and upload.filename.endswith(".json")
    data = json.loads(upload.data)
    assert data["user_id"] == ids["alice"]
    assert {piece["text"] for piece in data["generations"]} >= {"sea song"}
    assert all(piece["user_id"] == ids["alice"] for piece in data["generations"])
    assert [prompt["name"] for prompt in data["saved_prompts"]] == ["Sea"]
    assert len(data["favorites"]) == 1


async def test_delete_asks_first_and_cancel_keeps_everything(stack):
    ids = await alice_with_data(stack)
    async with bot_client(stack) as bot:
        await synced(bot)
        question = await stack.server.slash("privacy delete", {}, user="alice")
        await question.wait_callback()
        message = question.final_message()
        confirm, cancel = buttons(message)
        intruder = await stack.server.click(message, cancel, user="bob")
        await intruder.wait_callback()
        cancelled = await stack.server.click(message, cancel, user="alice")
        await cancelled.wait_callback()
    data = question.callback().json["data"]
    assert data["flags"] & EPHEMERAL and data["allowed_mentions"] == NO_PINGS
    assert "2 pieces" in data["content"] and "can't be undone" in data["content"]
    assert str(ids["alice"]) in confirm
    assert intruder.callback().json["data"]["flags"] & EPHEMERAL
    assert "Only the person who asked" in intruder.callback().json["data"]["content"]
    assert cancelled.callback().json["type"] == 7
    assert message.content == "Nothing was deleted." and message.components == []
    assert await stack.database.generations.count_for_user(ids["alice"]) == 2


async def test_confirm_deletes_everything_and_stale_clicks_are_explained(stack):
    ids = await alice_with_data(stack)
    server = stack.server
    async with bot_client(stack) as bot:
        await synced(bot)
        first = await server.slash("privacy delete", {}, user="alice")
        second = await server.slash("privacy delete", {}, user="alice")
        await first.wait_callback()
        await second.wait_callback()
        first_message, second_message = first.final_message(), second.final_message()
    async with bot_client(stack):  # a restart between asking and answering
        intruder = await server.click(first_message, buttons(first_message)[0], user="bob")
        await intruder.wait_callback()
        confirmed = await server.click(first_message, buttons(first_message)[0], user="alice")
        await confirmed.wait_callback()
        await server.wait_for(lambda: first_message.components == [])
        stale = await server.click(second_message, buttons(second_message)[0], user="alice")
        await stale.wait_private_answer()
        nothing = await server.slash("privacy delete", {}, user="alice")
        await nothing.wait_callback()

    assert "Only the person who asked" in intruder.callback().json["data"]["content"]
    assert confirmed.callback().json["type"] == 6  # acknowledged before erasing
    report = first_message.content
    assert "2 pieces" in report and "1 favourite" in report and "1 saved prompt" in report
    assert "1 star others gave your pieces" in report
    assert first_message.components == []
    assert "already been deleted" in stale.private_answer()["content"]
    assert "nothing stored about you" in nothing.callback().json["data"]["content"]
    export = await stack.database.users.export(ids["alice"])
    assert export["generations"] == export["favorites"] == export["saved_prompts"] == []
    assert await stack.database.favorites.count(ids["bob"]) == 0  # bob's star went too
    assert await stack.database.generations.count_for_user(ids["bob"]) == 1


async def test_an_expired_confirmation_deletes_nothing(stack, monkeypatch):
    ids = await alice_with_data(stack)
    async with bot_client(stack) as bot:
        await synced(bot)
        question = await stack.server.slash("privacy delete", {}, user="alice")
        await question.wait_callback()
        message = question.final_message()
        # The extension as the bot loaded it (load_extension makes its own module object).
        monkeypatch.setattr(sys.modules["cogs.privacy"], "CONFIRM_SECONDS", -1)
        late = await stack.server.click(message, buttons(message)[0], user="alice")
        await late.wait_callback()
    data = late.callback().json["data"]
    assert data["flags"] & EPHEMERAL and "expired" in data["content"]
    assert await stack.database.generations.count_for_user(ids["alice"]) == 2


async def test_only_members_who_allowed_training_reach_a_voice_corpus(stack):
    """/privacy training through Discord decides whose starred pieces a voice may learn from:
    Bob never chose (the default is deny), the moderator allowed and then withdrew."""
    server = stack.server
    guild = server.guild.id
    authors = {name: server.user(name).id for name in ("alice", "bob", "mod")}
    for name, user_id in authors.items():
        piece = await add_piece(
            stack.database, user_id=user_id, user_name=name, guild_id=guild, text=f"{name}'s poem"
        )
        await stack.database.favorites.add(authors["alice"], piece.id)
    async with bot_client(stack) as bot:
        await synced(bot)
        unset = await server.slash("privacy training", {}, user="bob")
        allowed = await server.slash("privacy training", {"choice": "allow"}, user="alice")
        await server.slash("privacy training", {"choice": "allow"}, user="mod")
        withdrawn = await server.slash("privacy training", {"choice": "deny"}, user="mod")
        for handle in (unset, allowed, withdrawn):
            await handle.wait_responses(1)
    assert "teaches no voice (the default)" in unset.callback().json["data"]["content"]
    reply = allowed.callback().json["data"]
    assert reply["flags"] & EPHEMERAL and reply["allowed_mentions"] == NO_PINGS
    assert "may now learn" in reply["content"]
    assert "will teach no voice" in withdrawn.callback().json["data"]["content"]
    corpus = await stack.database.voices.corpus(guild, ["favorites"])
    assert [text.text for text in corpus.texts] == ["alice's poem"]
    assert corpus.authors == {authors["alice"]} and corpus.left_out == 2
