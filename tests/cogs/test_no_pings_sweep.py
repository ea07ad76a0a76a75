"""No pings, anywhere (issue 13): every path that sends or edits a message, with mentions in
everything the member controls, checked on the wire.

Each path puts ``@everyone``, ``@here``, ``<@id>``, ``<@!id>`` and ``<@&id>`` (of a real member
and a real role, so Discord would ping them) into prompts, titles, lines, entries, names and
the member's display name. The model's text passes through the same sends: ``/continue`` and
the Continue button carry the mentions on, so the model's output holds them too. Afterwards
every request that created or edited a message must either say ``allowed_mentions:
{"parse": []}`` (with no users, roles or replied user) or carry no mention at all, and every
stored message must ping nobody by the fake's reckoning of Discord's rules.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.cogs.conftest import Stack
from tests.cogs.test_games_e2e import ShiftedClock, button, embed_text, game_bot, latest_with, said
from tests.fakediscord import FakeDiscord, RecordedRequest
from tests.storage.factories import add_piece

NO_PINGS = {"parse": []}
LIVE_MENTION = re.compile(r"@everyone|@here|<@!?\d+>|<@&\d+>")
MESSAGE_PATHS = re.compile(
    r"/channels/\d+/messages(/\d+)?|/interactions/\d+/[^/]+/callback"
    r"|/webhooks/\d+/[^/]+(/messages/[^/]+)?"
)
REPO = Path(__file__).resolve().parents[2]


def hostile(server: FakeDiscord) -> str:
    """Every kind of mention, of people and a role that exist, so each one would ping."""
    bob = server.user("bob").id
    role = next(r for r in server.guild.roles if r.name == "Moderator").id
    return f"@everyone @here <@{bob}> <@!{bob}> <@&{role}>"


@dataclass
class Path_:
    stack: Stack
    clock: ShiftedClock

    @property
    def server(self) -> FakeDiscord:
        return self.stack.server

    @property
    def text(self) -> str:
        return hostile(self.server)


async def poem_and_its_buttons(path: Path_) -> None:
    server = path.server
    asked = await server.slash(
        "poem", {"topic": f"rain {path.text}", "form": "free", "seed": 3}, user="alice"
    )
    piece = await written(asked, server)
    # Each pressed by someone else: a member's slot may be released just after their piece
    # shows, and a press in that moment is refused as "one piece at a time".
    for action, who in (("regen", "bob"), ("more", "mod"), ("save", "alice")):
        clicked = await server.click(
            piece, next(c for c in piece.custom_ids() if f":{action}:" in c), user=who
        )
        if action == "save":
            await said(clicked, server)
        else:
            await written(clicked, server)


async def story_continue_and_menu(path: Path_) -> None:
    server = path.server
    story = await server.slash("story", {"premise": f"a door {path.text}", "seed": 2}, user="alice")
    await written(story, server)
    # The model is handed the mentions and carries them on: its output goes out the same way.
    # Each by someone else: a member's slot may be released just after their piece shows.
    carried = await server.slash(
        "continue", {"text": f"{path.text} and then", "seed": 4}, user="bob"
    )
    piece = await written(carried, server)
    # Posted raw, as the member wrote it: only allowed_mentions stands between it and a ping.
    assert f"@everyone @here <@{server.user('bob').id}>" in piece.content
    said_by_bob = await server.user_message(f"{path.text} the sea", user="bob")
    menu = await server.message_context("Continue with Inkwell", said_by_bob, user="mod")
    await written(menu, server)


async def errors_that_quote_the_member(path: Path_) -> None:
    server = path.server
    for name, options in (
        ("prompts use", {"name": path.text[:40]}),
        ("favorites show", {"id": 99999}),
        ("poem", {"topic": f"shit {path.text}"}),  # the filter hands the prompt back
        ("generate", {"prompt": f"{path.text} " * 60}),  # too long, after deferring
        ("sprint wc", {"words": 5}),  # no sprint here
    ):
        await said(await server.slash(name, options, user="alice"), server)


async def help_and_settings(path: Path_) -> None:
    server = path.server
    helped = await server.slash("help", {}, user="alice")
    await helped.wait_callback()
    for name, options in (
        ("settings blocked-words add", {"word": "@everyone"}),
        ("settings blocked-words list", {}),
        ("settings show", {}),
    ):
        await said(await server.slash(name, options, user="mod"), server)


async def ideas_and_buttons(path: Path_) -> None:
    server = path.server
    asked = await server.slash("idea", {"theme": "@everyone", "source": "curated"}, user="alice")
    await server.wait_for(
        lambda: (
            bool(asked.final_message() and asked.final_message().embeds)
            or asked.private_answer() is not None
        ),
        30,
    )
    shown = asked.final_message()
    assert shown is not None and shown.embeds, asked.private_answer()
    # The note quotes the theme as typed, and is neutralised by design (escape_mentions), on
    # top of the no-pings default.
    assert "@\u200beveryone" in shown.content and not LIVE_MENTION.search(shown.content)
    assert shown is not None
    saved = await server.click(shown, next(c for c in shown.custom_ids() if ":save:" in c))
    await said(saved, server)
    another = await server.click(shown, next(c for c in shown.custom_ids() if ":another:" in c))
    await server.wait_for(lambda: bool(another.final_message()), 30)
    listed = await server.slash("prompts list", {}, user="alice")
    await listed.wait_private_answer()


async def favourites_and_library(path: Path_) -> None:
    server, database = path.server, path.stack.database
    alice = server.user("alice").id
    for index in range(7):  # two pages
        piece = await add_piece(
            database,
            user_id=alice,
            user_name=path.text,
            guild_id=server.guild.id,
            channel_id=server.channel.id,
            prompt=f"{path.text} {index}",
            text=f"{path.text} line {index}",
        )
        favourite = (await database.favorites.add(alice, piece.id)).favorite
        await database.favorites.add(server.user("bob").id, piece.id)
    listing = await server.slash("favorites list", {}, user="alice")
    await listing.wait_private_answer()
    message = listing.final_message()
    assert message is not None
    turned = await server.click(message, message.custom_ids()[-1], user="alice")
    await turned.wait_callback()
    for name, options in (
        ("favorites show", {"id": favourite.id}),
        ("favorites export", {}),
        ("halloffame", {}),
    ):
        handle = await server.slash(name, options, user="alice")
        await handle.wait_private_answer()
    remixed = await server.slash("remix", {"id": piece.id, "temperature": 1.2}, user="alice")
    await written(remixed, server)
    removed = await server.slash("favorites remove", {"id": favourite.id}, user="alice")
    await said(removed, server)


async def saved_prompts(path: Path_) -> None:
    server = path.server
    name = "<@&1> @here"
    for command, options in (
        ("prompts save", {"name": name, "text": path.text, "form": "continue"}),
        ("prompts rename", {"old": name, "new": "@everyone"}),
        ("prompts delete", {"name": "nothing <@1>"}),
    ):
        await said(await server.slash(command, options, user="alice"), server)
    listed = await server.slash("prompts list", {}, user="alice")
    await listed.wait_private_answer()
    used = await server.slash("prompts use", {"name": "@everyone"}, user="alice")
    await written(used, server)


async def a_game_with_the_ai_to_the_anthology(path: Path_) -> None:
    server, channel = path.server, path.server.channel
    opened = await server.slash(
        "poemgame start", {"lines": 3, "ai": True, "title": path.text[:60]}, user="alice"
    )
    await said(opened, server)
    lobby = latest_with(server, channel, "inkwell:game:start:")
    await said(await server.click(lobby, button(lobby, "join"), user="bob"), server)
    await said(await server.click(lobby, button(lobby, "start"), user="alice"), server)
    status = await server.slash("poemgame status", {}, user="bob")
    await said(status, server)

    def done() -> bool:
        return any("The poem is finished" in (m.content or "") for m in channel_posts(server))

    # Whoever's turn it is writes (Inkwell takes its own turns); a turn not yours is refused.
    for _ in range(20):
        for who in ("alice", "bob"):
            if not done():
                added = await server.slash("poemgame add", {"line": f"{who} {path.text}"}, user=who)
                await said(added, server)
        if done():
            break
        await asyncio.sleep(0.5)
    assert done(), [m.content for m in channel_posts(server)]
    for name, options in (("anthology list", {}), ("anthology export", {})):
        handle = await server.slash(name, options, user="bob")
        await handle.wait_private_answer()
    (poem,) = await path.stack.database.games.anthology(server.guild.id)
    shown = await server.slash("anthology show", {"id": poem.record.id}, user="bob")
    await shown.wait_private_answer()


async def daily_post_entries_and_results(path: Path_) -> None:
    server, channel, clock = path.server, path.server.channel, path.clock
    setup = await server.slash(
        "daily setup",
        {
            "channel": channel,
            "time": minute_from_now(clock),
            "timezone": "UTC",
            "source": "curated",
        },
        user="mod",
    )
    assert "A prompt every day" in await said(setup, server)
    clock.offset += 120
    await server.wait_for(lambda: bool(daily_prompts(server)), 15)
    opened = await server.slash("daily submit", {}, user="alice")
    await server.wait_for(lambda: opened.modal is not None, 10)
    sent = await server.modal_submit(opened, {"entry": f"my entry {path.text}"})
    await said(sent, server)
    entry = next(m for m in channel_posts(server) if "Entry #" in embed_text(m))
    heart = next(c for c in entry.custom_ids() if c.startswith("inkwell:daily:heart:"))
    await said(await server.click(entry, heart, user="bob"), server)
    for name in ("daily leaderboard", "daily today", "daily archive", "daily show"):
        handle = await server.slash(name, {}, user="mod")
        await handle.wait_private_answer()


async def a_daily_notice_by_direct_message(path: Path_) -> None:
    """A schedule whose channel has gone pauses and tells who set it up, by DM; its name
    (and so the notice) carries the mentions."""
    server, clock = path.server, path.clock
    gone = await server.add_channel("gone-everyone")
    moved = await server.slash(
        "daily setup",
        {"channel": gone, "time": minute_from_now(clock), "timezone": "UTC"},
        user="mod",
    )
    assert "A prompt every day" in await said(moved, server)
    await server.delete_channel(gone)
    clock.offset += 120
    mod = server.user("mod")
    await server.wait_for(lambda: bool(server.store.in_channel(server.dm_channel(mod).id)), 15)


async def a_sprint_to_its_results(path: Path_) -> None:
    server, clock = path.server, path.clock
    started = await server.slash("sprint start", {"minutes": 1, "prompt": path.text}, user="alice")
    await said(started, server)
    await server.wait_for(lambda: bool(posts_containing(server, "started a 1-minute sprint")))
    await said(await server.slash("sprint join", {"starting_words": 10}, user="bob"), server)
    await said(await server.slash("sprint wrote", {"words": 40}, user="alice"), server)
    await said(await server.slash("sprint status", {}, user="bob"), server)
    clock.offset += 60
    await server.wait_for(lambda: bool(posts_containing(server, "Pens down")), 15)
    await said(await server.slash("sprint wc", {"words": 50}, user="bob"), server)
    clock.offset += 120
    await server.wait_for(lambda: bool(posts_containing(server, "results**")), 15)
    await said(await server.slash("sprint stats", {}, user="alice"), server)


async def cancellations_by_name(path: Path_) -> None:
    """A lobby cancelled by its button and a sprint called off: both name who did it (alice,
    whose display name carries mentions)."""
    server = path.server
    writing = next(c for c in server.guild.channels if c.name == "writing")
    opened = await server.slash("poemgame start", {"title": path.text[:60]}, user="alice")
    await said(opened, server)
    lobby = latest_with(server, server.channel, "inkwell:game:cancel:")
    await server.click(lobby, button(lobby, "cancel"), user="alice")
    await server.wait_for(lambda: bool(posts_containing(server, "was cancelled")), 15)
    started = await server.slash(
        "sprint start", {"minutes": 5, "delay": 1}, user="alice", channel=writing
    )
    await said(started, server)
    await said(await server.slash("sprint cancel", {}, user="alice", channel=writing), server)
    # The sprint's end names alice as her display name reads, mentions and all.
    await server.wait_for(lambda: bool(posts_containing(server, "Alice <@&")), 15)


async def privacy_export_and_erase(path: Path_) -> None:
    server, database = path.server, path.stack.database
    alice = server.user("alice").id
    await add_piece(database, user_id=alice, user_name=path.text, text=path.text)
    await database.prompts.save(alice, "x", path.text, "continue")
    exported = await server.slash("privacy export", {}, user="alice")
    await server.wait_for(lambda: bool(exported.followups()))
    asked = await server.slash("privacy delete", {}, user="alice")
    await asked.wait_callback()
    question = asked.final_message()
    assert question is not None
    confirm = next(c for c in question.custom_ids() if ":confirm:" in c)
    await (await server.click(question, confirm, user="alice")).wait_callback()
    await server.wait_for(lambda: question.components == [])


PATHS: dict[str, Callable[[Path_], Awaitable[None]]] = {
    "pieces: /poem with regenerate, continue and save": poem_and_its_buttons,
    "pieces: /story, /continue carried on by the model, the message menu": (
        story_continue_and_menu
    ),
    "errors that quote what the member typed": errors_that_quote_the_member,
    "help and the settings": help_and_settings,
    "ideas and their buttons": ideas_and_buttons,
    "favourites, hall of fame and remix": favourites_and_library,
    "saved prompts": saved_prompts,
    "a poem game with the AI, to the anthology": a_game_with_the_ai_to_the_anthology,
    "the prompt of the day: post, entries, hearts, results": (daily_post_entries_and_results),
    "the prompt of the day: a notice by direct message": a_daily_notice_by_direct_message,
    "a sprint to its results": a_sprint_to_its_results,
    "cancellations that name who did it": cancellations_by_name,
    "privacy export and erase": privacy_export_and_erase,
}


async def written(handle: Any, server: FakeDiscord) -> Any:
    """The finished piece of ``handle``'s reply; fails with what was said instead."""

    def messages() -> list[Any]:
        final = handle.final_message()
        return ([final] if final else []) + handle.followups()

    def piece() -> Any:
        return next((m for m in messages() if "Written by AI" in (m.content or "")), None)

    await server.wait_for(lambda: piece() is not None or handle.private_answer() is not None, 90)
    assert piece() is not None, handle.private_answer()
    return piece()


def minute_from_now(clock: ShiftedClock, zone: str = "UTC") -> str:
    """HH:MM a minute from the clock's now in ``zone`` (a day's post is one per zone)."""
    moment = datetime.fromtimestamp(clock.now(), UTC) + timedelta(minutes=1)
    return moment.astimezone(ZoneInfo(zone)).strftime("%H:%M")


# Paths whose messages quote nothing a member wrote (the notice names a channel's id only):
# their sends are checked all the same, but no hostile text can be expected in them.
WITHOUT_MEMBER_TEXT = {"the prompt of the day: a notice by direct message"}


def channel_posts(server: FakeDiscord) -> list[Any]:
    return [m for m in server.store.messages.values() if not m.ephemeral and not m.deleted]


def posts_containing(server: FakeDiscord, text: str) -> list[Any]:
    return [m for m in channel_posts(server) if text in (m.content or "")]


def daily_prompts(server: FakeDiscord) -> list[Any]:
    return [m for m in channel_posts(server) if "Prompt of the day" in embed_text(m)]


def message_body(request: RecordedRequest) -> dict[str, Any] | None:
    """What the request asks Discord to show: a message's body, or None (a deferral, a
    modal, a deletion)."""
    if request.method not in ("POST", "PATCH") or not MESSAGE_PATHS.fullmatch(request.path):
        return None
    body = request.json if isinstance(request.json, dict) else None
    if body is not None and request.path.endswith("/callback"):
        body = body.get("data") if body.get("type") in (4, 7) else None
    return body


def outgoing_text(body: dict[str, Any]) -> str:
    parts = [str(body.get("content") or "")]
    for embed in body.get("embeds") or []:
        parts += [str(embed.get(k, "")) for k in ("title", "description")]
        parts += [f"{f.get('name')} {f.get('value')}" for f in embed.get("fields", [])]
        parts.append(str(embed.get("footer", {}).get("text", "")))
    return "\n".join(parts)


def pings_allowed(body: dict[str, Any]) -> str | None:
    """Why this body could ping someone, or None."""
    allowed = body.get("allowed_mentions")
    content = str(body.get("content") or "")
    if allowed is None:
        return f"no allowed_mentions with {content!r}" if LIVE_MENTION.search(content) else None
    if allowed.get("parse") or allowed.get("users") or allowed.get("roles"):
        return f"allowed_mentions {allowed} lets mentions ping"
    if allowed.get("replied_user"):
        return "allowed_mentions pings the replied-to author"
    return None


@pytest.mark.parametrize("name", list(PATHS))
async def test_nothing_pings_on_any_path(stack: Stack, name: str) -> None:
    server, clock = stack.server, ShiftedClock()
    # The member's own display name is text they control too.
    server.user("alice").global_name = f"Alice <@&{server.guild.roles[1].id}> @everyone"
    async with game_bot(stack, clock) as bot:
        assert bot.allowed_mentions is not None
        assert bot.allowed_mentions.to_dict() == NO_PINGS  # the default under every send
        await PATHS[name](Path_(stack, clock))
    bodies = [(r, body) for r in server.requests if (body := message_body(r)) is not None]
    assert bodies, "the path sent nothing"
    problems = [(r, why) for r, body in bodies if (why := pings_allowed(body))]
    assert not problems, problems
    # The member's mentions reached the wire (raw or neutralised), so the path was tested.
    sent = "\n".join(outgoing_text(body) for _, body in bodies)
    files = b"".join(f.data for r in server.requests for f in r.files).decode(errors="replace")
    if name not in WITHOUT_MEMBER_TEXT:
        assert "everyone" in sent + files, f"{name}: no hostile text went out"
    for message in server.store.messages.values():
        payload = message.payload
        if payload.get("author", {}).get("id") != str(server.world.bot.id):
            continue  # a member's own message pings as they wrote it
        assert not payload.get("mention_everyone"), payload
        assert payload.get("mentions", []) == [] and payload.get("mention_roles", []) == [], payload


# Every explicit allowed_mentions= in the bot must be the no-pings value, and no code may
# build an AllowedMentions that lets anything through.
ALLOWED_ARG = re.compile(r"""["']?allowed_mentions["']?\s*[=:]\s*([\w.]+(?:\(\))?)""")
NO_PINGS_VALUES = {"NO_PINGS", "discord.AllowedMentions.none()"}


def test_no_code_overrides_the_no_pings_default() -> None:
    sources = sorted([*REPO.glob("bot/**/*.py"), *REPO.glob("cogs/**/*.py")])
    overrides: list[str] = []
    seen = 0
    for source in sources:
        text = source.read_text()
        for match in ALLOWED_ARG.finditer(text):
            seen += 1
            if match.group(1) not in NO_PINGS_VALUES:
                overrides.append(f"{source.relative_to(REPO)}: {match.group(0)}")
        for built in re.finditer(r"AllowedMentions\((?!\))[^)]*\)|AllowedMentions\.all\(\)", text):
            overrides.append(f"{source.relative_to(REPO)}: {built.group(0)}")
        for defined in re.finditer(r"^NO_PINGS\s*=\s*(.+)$", text, re.MULTILINE):
            if defined.group(1).strip() != "discord.AllowedMentions.none()":
                overrides.append(f"{source.relative_to(REPO)}: NO_PINGS = {defined.group(1)}")
    assert seen > 20, "the scan found no allowed_mentions at all: the pattern is wrong"
    assert not overrides, overrides
