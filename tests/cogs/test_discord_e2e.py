"""End to end: real discord.py + the Inkwell cogs against the fake Discord server."""

from __future__ import annotations

import io
import logging
import re

from tests.cogs.conftest import CORE_COMMANDS
from tests.fakediscord import EPHEMERAL, run_client

ERROR_LOGGERS = ("discord", "cogs", "bot")
NO_PINGS = {"parse": []}


def bot_client(stack):
    return run_client(stack.make_bot(), stack.server, error_loggers=ERROR_LOGGERS)


async def synced(bot) -> None:
    await bot.tree.sync()


def edits_and_followups(handle):
    return [r for r in handle.responses() if r.json and "content" in r.json]


async def finished(handle, server, within: float = 60.0):
    """Wait until the reply carries the finished piece (its attribution line)."""
    await server.wait_for(
        lambda: any("Written by AI" in (m.content or "") for m in _messages(handle)),
        timeout=within,
    )
    return _messages(handle)


def _messages(handle):
    final = handle.final_message()
    return ([final] if final else []) + handle.followups()


async def test_sync_registers_every_command(stack):
    async with bot_client(stack) as bot:
        await synced(bot)
    names = {command["name"] for command in stack.server.commands.list(None)}
    assert names >= CORE_COMMANDS
    poem = next(c for c in stack.server.commands.list(None) if c["name"] == "poem")
    form = next(o for o in poem["options"] if o["name"] == "form")
    assert [c["value"] for c in form["choices"]] == [
        "free",
        "haiku",
        "limerick",
        "sonnet",
        "quatrain",
    ]
    assert all(o["description"] for o in poem["options"])
    assert stack.server.unhandled == []


async def test_poem_defers_streams_and_finishes_with_attribution_and_buttons(stack):
    async with bot_client(stack) as bot:
        await synced(bot)
        handle = await stack.server.slash(
            "poem", {"topic": "autumn rain", "form": "haiku", "seed": 7}, user="alice"
        )
        messages = await finished(handle, stack.server)
    assert handle.callback().json["type"] == 5  # deferred: never "did not respond"
    assert handle.callback_delay < 3
    final = messages[-1]
    alice = stack.server.user("alice")
    assert final.content.startswith("**Haiku: autumn rain**")
    assert f"for <@{alice.id}>" in final.content and "seed 7" in final.content
    ids = final.custom_ids()
    assert [i.split(":")[1] for i in ids] == ["regen", "more", "save"]
    for request in edits_and_followups(handle):
        assert request.json.get("allowed_mentions") == NO_PINGS
    assert not final.payload["mentions"] and not final.payload["mention_everyone"]
    assert stack.server.unhandled == []


async def test_generation_streams_progress_edits_before_the_final(stack):
    async with bot_client(stack) as bot:
        await synced(bot)
        handle = await stack.server.slash(
            "generate", {"prompt": "Once upon a time", "max_tokens": 48, "seed": 3}, user="bob"
        )
        await finished(handle, stack.server)
    contents = [r.json.get("content", "") for r in handle.original_edits()]
    assert any(c.endswith("▌") for c in contents[:-1]), contents
    assert "Written by AI" in contents[-1]


async def test_mentions_in_prompts_notify_nobody(stack):
    async with bot_client(stack) as bot:
        await synced(bot)
        handle = await stack.server.slash(
            "continue", {"text": "@everyone @here <@123> <@&456> hello", "seed": 1}, user="alice"
        )
        await finished(handle, stack.server)
    for request in edits_and_followups(handle):
        assert request.json.get("allowed_mentions") == NO_PINGS
    for message in _messages(handle):
        assert not message.payload["mention_everyone"]
        assert message.payload["mentions"] == [] and message.payload["mention_roles"] == []


async def test_bad_input_gets_a_private_explanation(stack):
    async with bot_client(stack) as bot:
        await synced(bot)
        handle = await stack.server.slash("poem", {"topic": "   "}, user="alice")
        await handle.wait_callback()
    callback = handle.callback().json
    assert callback["type"] == 4 and callback["data"]["flags"] & EPHEMERAL
    assert "needs topic" in callback["data"]["content"]


async def test_prompt_too_long_after_deferring_is_still_private(stack):
    async with bot_client(stack) as bot:
        await synced(bot)
        handle = await stack.server.slash("generate", {"prompt": "word " * 200}, user="alice")
        await stack.server.wait_for(lambda: bool(handle.followups()))
    assert handle.callback().json["type"] == 5
    note = handle.followups()[-1]
    assert note.flags & EPHEMERAL and "tokens long" in note.content
    assert any(r.method == "DELETE" for r in handle.responses())  # public placeholder removed


async def test_double_submit_is_refused_kindly(stack):
    async with bot_client(stack) as bot:
        await synced(bot)
        first = await stack.server.slash(
            "story", {"premise": "a lost key", "seed": 1}, user="alice"
        )
        second = await stack.server.slash(
            "story", {"premise": "a lost key", "seed": 2}, user="alice"
        )
        await second.wait_callback()
        await finished(first, stack.server)
    reply = second.callback().json
    assert reply["data"]["flags"] & EPHEMERAL
    assert "still writing your previous piece" in reply["data"]["content"]


async def test_buttons_work_after_a_restart_and_stale_clicks_are_explained(stack):
    async with bot_client(stack) as bot:
        await synced(bot)
        handle = await stack.server.slash("poem", {"topic": "the sea", "seed": 5}, user="alice")
        final = (await finished(handle, stack.server))[-1]
    piece_id = int(re.search(r"piece #(\d+)", final.content).group(1))

    async with bot_client(stack):  # a brand-new client: nothing in memory survives
        save = await stack.server.click(final, f"inkwell:save:{piece_id}", user="bob")
        await stack.server.wait_for(lambda: bool(save.followups()))
        again = await stack.server.click(final, f"inkwell:save:{piece_id}", user="bob")
        await stack.server.wait_for(lambda: bool(again.followups()))
        regen = await stack.server.click(final, f"inkwell:regen:{piece_id}", user="bob")
        regenerated = (await finished(regen, stack.server))[-1]
        more = await stack.server.click(final, f"inkwell:more:{piece_id}", user="alice")
        continued = (await finished(more, stack.server))[-1]
        await stack.database.generations.get(piece_id)
        # The piece disappears (its author deleted their data); its old buttons still answer.
        await stack.database.users.delete_all(stack.server.user("alice").id)
        stale = await stack.server.click(final, f"inkwell:regen:{piece_id}", user="bob")
        await stale.wait_callback()

    assert save.callback().json["type"] == 5  # acknowledged before the write
    assert "Saved to your favourites as #" in save.followups()[-1].content
    assert "already in your favourites" in again.followups()[-1].content
    assert save.followups()[-1].ephemeral
    assert regen.callback().json["type"] == 5
    assert "Haiku" not in regenerated.content and "Poem: the sea" in regenerated.content
    assert "seed 5 " not in regenerated.content  # a new seed
    assert "Continuation" in continued.content
    stale_reply = stale.callback().json["data"]
    assert stale_reply["flags"] & EPHEMERAL and "can't find piece" in stale_reply["content"]
    favourites = await stack.database.favorites.list(stack.server.user("bob").id, 10, 0)
    assert len(favourites) == 0  # bob's star went with alice's deleted piece


async def test_continue_with_inkwell_message_menu(stack):
    async with bot_client(stack) as bot:
        await synced(bot)
        message = await stack.server.user_message("The door creaked open and", user="bob")
        handle = await stack.server.message_context("Continue with Inkwell", message, user="alice")
        final = (await finished(handle, stack.server))[-1]
    assert final.content.startswith("**Continuation: The door creaked open and**")


async def test_channel_allow_list_and_admin_permission(stack):
    server = stack.server
    writing = next(c for c in server.guild.channels if c.name == "writing")
    async with bot_client(stack) as bot:
        await synced(bot)
        denied = await server.slash("settings allow-channel", {"channel": writing}, user="alice")
        await denied.wait_callback()
        allowed = await server.slash("settings allow-channel", {"channel": writing}, user="mod")
        await allowed.wait_private_answer()
        elsewhere = await server.slash("poem", {"topic": "rain"}, user="alice")
        await elsewhere.wait_callback()
        there = await server.slash(
            "poem", {"topic": "rain", "seed": 1}, user="alice", channel=writing
        )
        await finished(there, server)
    assert "Manage Server" in denied.callback().json["data"]["content"]
    assert f"<#{writing.id}>" in allowed.private_answer()["content"]
    refusal = elsewhere.callback().json["data"]
    assert refusal["flags"] & EPHEMERAL and f"only write in <#{writing.id}>" in refusal["content"]


async def test_help_is_one_private_screen(stack):
    async with bot_client(stack) as bot:
        await synced(bot)
        handle = await stack.server.slash("help", {}, user="bob")
        await handle.wait_callback()
    data = handle.callback().json["data"]
    assert data["flags"] & EPHEMERAL
    description = data["embeds"][0]["description"]
    for command in (
        "/poem",
        "/story",
        "/script",
        "/continue",
        "/generate",
        "/favorites",
        "/prompts",
        "/remix",
        "/halloffame",
        "/privacy",
    ):
        assert command in description


async def test_token_never_appears_in_logs(stack):
    """At DEBUG discord.py logs the routes and gateway events that carry an interaction's
    token; with the redaction filter installed, what is written shows them without it."""
    from bot.log_redaction import install

    bot_token = "MTA4NzY1NDMyMTAxMjM0NTY3OA.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    redactor = install([bot_token])
    try:
        async with run_client(
            stack.make_bot(), stack.server, token=bot_token, error_loggers=ERROR_LOGGERS
        ) as bot:
            await synced(bot)
            handle = await stack.server.slash("poem", {"topic": "rain", "seed": 1}, user="alice")
            await finished(handle, stack.server)
    finally:
        redactor.uninstall()
        root.removeHandler(handler)
        root.setLevel(level)
    logs = written.getvalue()
    assert handle.token not in logs, "the interaction token was logged"
    assert bot_token not in logs, "the bot token was logged"
    # The routes that carry the token were logged (so logging was on), with it redacted.
    assert re.search(r"PATCH \S+/webhooks/\d+/\[redacted\]/messages/@original", logs), logs[-3000:]
    assert re.search(r"POST \S+/interactions/\d+/\[redacted\]/callback", logs)
    assert "INTERACTION_CREATE" in logs and "'token': '[redacted]'" in logs


async def test_waiting_users_see_their_place_and_a_full_queue_says_busy(
    tiny_gpt2_dir, tmp_path, fake_discord
):
    from bot.generation.types import GenerationRequest, SamplingParams
    from tests.cogs.conftest import build_stack

    async with (
        build_stack(
            tiny_gpt2_dir,
            tmp_path,
            fake_discord,
            max_batch_size=1,
            max_queue=1,
            max_new_tokens_cap=240,
        ) as stack,
        bot_client(stack) as bot,
    ):
        await synced(bot)
        # Someone else's long piece occupies the only batch slot.
        hog = stack.generation.stream(
            GenerationRequest(prompt="x", sampling=SamplingParams(seed=1, max_new_tokens=240))
        )
        await hog.__anext__()
        waiting = await stack.server.slash(
            "generate", {"prompt": "Hello", "seed": 2, "max_tokens": 8}, user="alice"
        )
        await stack.server.wait_for(
            lambda: any(
                "queue" in (r.json or {}).get("content", "")
                or "next" in (r.json or {}).get("content", "")
                for r in waiting.original_edits()
            )
        )
        busy = await stack.server.slash("generate", {"prompt": "Hi", "seed": 3}, user="bob")
        await stack.server.wait_for(lambda: bool(busy.followups()))
        async for _ in hog:
            pass
        await finished(waiting, stack.server)
    queued = [r.json["content"] for r in waiting.original_edits()]
    assert any("Waiting for the writer — you're next" in c for c in queued), queued
    note = busy.followups()[-1]
    assert note.flags & EPHEMERAL and "busy writing for others" in note.content


async def test_long_pieces_are_split_into_messages_within_discords_limit(tmp_path, fake_discord):
    from tests.cogs.conftest import build_stack
    from tests.tiny_models import build_tiny_gpt2

    model_dir = build_tiny_gpt2(tmp_path / "long-context", n_positions=1024)
    async with (
        build_stack(model_dir, tmp_path, fake_discord, max_new_tokens_cap=900) as stack,
        bot_client(stack) as bot,
    ):
        await synced(bot)
        # Seed 8: a long piece the content filter passes (the random model's seed 4 writes
        # listed words, so it would be rewritten with seed 5, which is short).
        handle = await stack.server.slash(
            "generate", {"prompt": "Chapter one", "seed": 8, "max_tokens": 900}, user="alice"
        )
        await finished(handle, stack.server, within=60)
    messages = _messages(handle)
    assert len(messages) >= 2
    assert all(len(m.content) <= 2000 for m in messages)
    assert messages[0].content.startswith("**Generation: Chapter one**")
    assert "Written by AI" in messages[-1].content and messages[-1].custom_ids()
    assert not messages[0].custom_ids()  # buttons only once, under the end of the piece


async def test_continue_menu_on_an_inkwell_piece_continues_the_piece_itself(stack):
    async with bot_client(stack) as bot:
        await synced(bot)
        first = await stack.server.slash("poem", {"topic": "tides", "seed": 9}, user="alice")
        piece_message = (await finished(first, stack.server))[0]
        menu = await stack.server.message_context(
            "Continue with Inkwell", piece_message, user="bob"
        )
        await finished(menu, stack.server)
    original = await stack.database.generations.get(1)
    continuation = await stack.database.generations.get(2)
    assert continuation.form == "continue"
    assert "Written by AI" not in continuation.prompt and "**" not in continuation.prompt
    assert continuation.prompt.strip() == original.text.strip()[-600:].strip()


async def test_a_failure_after_the_piece_is_shown_never_deletes_it(tmp_path, fake_discord):
    from tests.cogs.conftest import build_stack
    from tests.tiny_models import build_tiny_gpt2

    model_dir = build_tiny_gpt2(tmp_path / "long-context", n_positions=1024)
    async with build_stack(model_dir, tmp_path, fake_discord, max_new_tokens_cap=900) as stack:
        fake_discord.faults.append("POST /webhooks/{app_id}/{token}")  # the 2nd chunk fails
        async with run_client(
            stack.make_bot(), fake_discord, fail_on_error_logs=False, error_loggers=ERROR_LOGGERS
        ) as bot:
            await synced(bot)
            # Seed 8: long, and passed by the content filter (seed 4 would be rewritten short).
            handle = await fake_discord.slash(
                "generate", {"prompt": "Chapter one", "seed": 8, "max_tokens": 900}, user="alice"
            )
            await fake_discord.wait_for(lambda: bool(handle.followups()), timeout=60)
    assert not any(r.method == "DELETE" for r in handle.responses())
    assert handle.final_message().content.startswith("**Generation: Chapter one**")
    apology = handle.followups()[-1]
    assert apology.flags & EPHEMERAL and "Sorry" in apology.content
    assert fake_discord.client_errors  # the failure was logged for the operators


async def test_mentions_the_model_writes_ping_nobody_on_the_wire(tmp_path, fake_discord):
    """The model itself writes every kind of ping (and the prompt holds them too): every
    message body the bot sends or edits forbids all pings, and Discord pinged nobody."""
    from tests.cogs.conftest import build_stack
    from tests.generation.scripted_model import build_scripted_gpt2

    pings = ("@everyone", "@here", "<@123>", "<@!123>", "<@&456>")
    writer = build_scripted_gpt2(tmp_path / "pinger", " ".join(pings) + "\n")
    async with (
        build_stack(writer, tmp_path, fake_discord) as stack,
        bot_client(stack) as bot,
    ):
        await synced(bot)
        handle = await fake_discord.slash(
            "generate", {"prompt": "Say " + " ".join(pings), "seed": 1}, user="alice"
        )
        messages = await finished(handle, fake_discord)
    written = "\n".join(m.content for m in messages).split("\n", 1)[1]  # below the title
    assert all(ping in written for ping in pings), written
    bodies = [body for r in fake_discord.requests if (body := _message_body(r)) is not None]
    assert len(bodies) >= 2  # the streamed edits and the final piece, at least
    for body in bodies:
        allowed = body.get("allowed_mentions")
        assert allowed is not None, body
        assert allowed.get("parse") == [], allowed
        assert not allowed.get("users") and not allowed.get("roles"), allowed
        assert not allowed.get("replied_user"), allowed
    for message in messages:
        assert not message.payload["mention_everyone"]
        assert message.payload["mentions"] == [] and message.payload["mention_roles"] == []


def _message_body(request):
    """The message a request sends or edits (an interaction callback carries it in ``data``),
    or None for requests that write no message text."""
    if request.method not in {"POST", "PATCH"} or not isinstance(request.json, dict):
        return None
    body = request.json.get("data") if request.path.endswith("/callback") else request.json
    return body if isinstance(body, dict) and "content" in body else None
