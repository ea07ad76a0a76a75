"""Permissions and other people's ids, swept over the bot's own command tree (issue 13).

Discord hides an admin command from members who lack its permission, but a crafted client can
send the interaction anyway (the fake does just that). So every admin command is called here as
a plain member and must be refused on the wire, privately, with nothing changed in the
database. The commands come from ``bot.tree`` itself: a new command fails
``test_every_command_is_classified`` until it is put in one of the tables below, and a new
admin command needs a sample, so it is swept too and never skipped in silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from discord import app_commands

from cogs.client import InkwellBot
from tests.cogs.conftest import Stack
from tests.cogs.test_games_e2e import ShiftedClock, button, game_bot, latest_with, said
from tests.fakediscord import FakeDiscord, StoredMessage
from tests.storage.factories import add_piece

Options = Callable[[FakeDiscord], dict[str, Any]]
AnyCommand = app_commands.Command[Any, ..., Any] | app_commands.ContextMenu


def no_options(server: FakeDiscord) -> dict[str, Any]:
    return {}


def writing_channel(server: FakeDiscord) -> Any:
    return next(c for c in server.guild.channels if c.name == "writing")


# Manage Server commands, each with options that work for someone who has the permission (Mod's
# control call proves it), so a refusal can only come from the permission check.
ADMIN_SAMPLES: dict[str, Options] = {
    "settings show": no_options,
    "settings allow-channel": lambda server: {"channel": writing_channel(server)},
    "settings disallow-channel": lambda server: {"channel": server.channel},
    "settings all-channels": no_options,
    "settings defaults": lambda server: {"temperature": 1.5, "top_k": 7},
    "settings cooldown": lambda server: {"seconds": 600},
    "settings content": lambda server: {"rating": "strict"},
    "settings blocked-words add": lambda server: {"word": "gull"},
    "settings blocked-words remove": lambda server: {"word": "heron"},
    "settings blocked-words list": no_options,
    "settings voice": lambda server: {"adapter": "none"},
    "daily setup": lambda server: {
        "channel": writing_channel(server),
        "time": "06:30",
        "timezone": "Asia/Tokyo",
        "mode": "collect",
    },
    "daily pause": no_options,
    "daily resume": no_options,
    "daily remove": no_options,
    "daily show": no_options,
}
# Commands for the bot's owners (and /stats for Manage Server in its own server), with the
# refusal a plain member gets.
OWNER_COMMANDS = {
    "stats": "is for the bot's owner",
    "owner reload-model": "Only the bot's owner",
    "owner block": "Only the bot's owner",
    "owner unblock": "Only the bot's owner",
    "owner blocked": "Only the bot's owner",
}
# Options that would work for an owner: Bob blocked (and a block of him lifted).
OWNER_OPTIONS: dict[str, Options] = {
    "owner block": lambda server: {"kind": "user", "id": str(server.user("bob").id)},
    "owner unblock": lambda server: {"kind": "user", "id": str(server.user("bob").id)},
}
# Commands for whoever started the game or sprint, or a member who may Manage Messages.
HOST_COMMANDS = frozenset({"poemgame skip", "poemgame end", "sprint cancel"})
# Everyone may use these; each acts only on the caller's own data or on what they can see.
PUBLIC_COMMANDS = frozenset(
    {
        "poem",
        "story",
        "script",
        "continue",
        "generate",
        "help",
        "Continue with Inkwell",
        "favorites list",
        "favorites show",
        "favorites remove",
        "favorites export",
        "remix",
        "halloffame",
        "prompts save",
        "prompts list",
        "prompts use",
        "prompts delete",
        "prompts rename",
        "privacy export",
        "privacy delete",
        "privacy training",
        "voice card",
        "poemgame start",
        "poemgame add",
        "poemgame status",
        "poemgame leave",
        "anthology list",
        "anthology show",
        "anthology export",
        "check",
        "score",
        "idea",
        "sprint start",
        "sprint join",
        "sprint leave",
        "sprint wc",
        "sprint wrote",
        "sprint status",
        "sprint stats",
        "daily today",
        "daily submit",
        "daily archive",
        "daily leaderboard",
    }
)
# Options that name a stored thing, per command; each is swept with another member's thing.
ID_OPTIONS = {
    "favorites show": {"favorite_id"},
    "favorites remove": {"favorite_id"},
    "remix": {"piece_id"},
    "anthology show": {"poem_id"},
    "prompts use": {"name"},
    "prompts delete": {"name"},
    "prompts rename": {"old"},
}
ID_LIKE = ("id", "name", "old")
# Options that look like ids but name something the caller is making, not a stored thing.
# A voice is the server's, not a member's: test_voice_e2e asks for another server's voice.
# /owner block and unblock take the Discord id of any user or server: the owner's, not a member's.
NEW_NAMES = {
    "prompts save": {"name"},
    "voice card": {"name"},
    "owner block": {"id"},
    "owner unblock": {"id"},
}
# Words in a command's description or docstring that say it needs a permission or a role.
ADMIN_WORDS = ("manage server", "manage messages", "moderator", "host or", "owner")
# Every restart-proof button, by its custom id's prefix, with who may press it. Those bound to
# one member (or the host) are pressed by someone else below.
BUTTONS = {
    "inkwell:favs:": "the list's owner (test_buttons_bound_to_a_member_refuse_everyone_else)",
    "inkwell:erase:": "the member erasing (test_buttons_bound_to_a_member_refuse_everyone_else)",
    "inkwell:game:": "start/cancel: the host (test_host_commands_and_buttons_refuse_other_players);"
    " join/leave/write/vote: players, checked by the game's rules",
    "inkwell:regen:": "anyone who may see the piece (visible_piece, as /remix, swept below)",
    "inkwell:more:": "anyone who may see the piece (visible_piece, as /remix, swept below)",
    "inkwell:save:": "anyone who may see the piece, into their own favourites",
    "inkwell:idea:": "anyone in the channel: writes or saves for the one who presses",
    "inkwell:daily:": "anyone: submit their own entry, heart someone else's",
    "inkwell:sprint:": "anyone in the channel joins",
}
REFUSED_ADMIN = "You need the Manage Server permission"


def leaf_commands(bot: InkwellBot) -> dict[str, tuple[AnyCommand, tuple[app_commands.Group, ...]]]:
    """Every command a member can call, by its full name, with the groups above it."""
    found: dict[str, tuple[AnyCommand, tuple[app_commands.Group, ...]]] = {}

    def walk(items: list[Any], parents: tuple[app_commands.Group, ...]) -> None:
        for item in items:
            if isinstance(item, app_commands.Group):
                walk(item.commands, (*parents, item))
            else:
                found[item.qualified_name] = (item, parents)

    walk(bot.tree.get_commands(), ())
    return found


def looks_admin(command: AnyCommand, parents: tuple[app_commands.Group, ...]) -> bool:
    """Whether the command says, in any way the tree shows, that not everyone may use it."""
    if any(node.default_permissions is not None for node in (*parents, command)):
        return True
    if command.checks:
        return True
    if isinstance(command, app_commands.Command):
        words = f"{command.description} {command.callback.__doc__ or ''}".casefold()
        return any(word in words for word in ADMIN_WORDS)
    return False


def id_options(command: AnyCommand) -> set[str]:
    """The command's options that look like they name a stored thing."""
    if not isinstance(command, app_commands.Command):
        return set()
    names = {p.name for p in command.parameters}
    return {n for n in names if n in ID_LIKE or n.endswith("_id")}


async def test_every_command_is_classified(stack: Stack) -> None:
    async with game_bot(stack, ShiftedClock()) as bot:
        commands = leaf_commands(bot)
        templates = button_templates(bot)  # read while loaded: unloading the cogs drops them
    known = set(ADMIN_SAMPLES) | HOST_COMMANDS | PUBLIC_COMMANDS | set(OWNER_COMMANDS)
    assert not set(ADMIN_SAMPLES) & PUBLIC_COMMANDS and not HOST_COMMANDS & PUBLIC_COMMANDS
    unclassified = sorted(set(commands) - known)
    assert not unclassified, (
        f"new commands {unclassified}: add each to ADMIN_SAMPLES (with options), HOST_COMMANDS "
        "or PUBLIC_COMMANDS in this file, so the permission sweep covers it"
    )
    assert not sorted(known - set(commands)), "commands in the tables that the bot lacks"
    unsampled = sorted(
        name
        for name, (command, parents) in commands.items()
        if looks_admin(command, parents)
        and name not in set(ADMIN_SAMPLES) | HOST_COMMANDS | set(OWNER_COMMANDS)
    )
    assert not unsampled, f"admin commands without a sample in ADMIN_SAMPLES: {unsampled}"
    by_id = {
        name: found
        for name, (command, _) in commands.items()
        if (found := id_options(command) - NEW_NAMES.get(name, set()))
    }
    assert by_id == ID_OPTIONS, "an option names a stored thing: sweep it with another's id"
    assert len(templates) >= len(BUTTONS), templates  # the view store was really read
    unknown = sorted(
        template
        for template in templates
        if not any(template.startswith(prefix) for prefix in BUTTONS)
    )
    assert not unknown, f"new buttons {unknown}: say in BUTTONS who may press them, and test it"


def button_templates(bot: InkwellBot) -> list[str]:
    """The custom-id patterns of every registered DynamicItem (discord.py keeps them in the
    connection's view store; no public accessor lists them)."""
    patterns = bot._connection._view_store._dynamic_items
    return [pattern.pattern for pattern in patterns]


def database_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, read by a connection of its own (WAL: what is committed)."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            table: sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
            for table in tables
        }


async def snapshot(stack: Stack) -> dict[str, list[tuple[Any, ...]]]:
    return await asyncio.to_thread(database_rows, stack.database.path)


def public_messages(server: FakeDiscord) -> list[StoredMessage]:
    return [m for m in server.store.messages.values() if not m.ephemeral]


async def settled(stack: Stack) -> dict[str, list[tuple[Any, ...]]]:
    """The database once the last call's background work (a daily post, a timer) is done:
    the same rows twice, a quarter of a second apart."""
    rows = await snapshot(stack)
    for _ in range(40):
        await asyncio.sleep(0.25)
        if (again := await snapshot(stack)) == rows:
            return rows
        rows = again
    raise AssertionError("the database never settled")


@contextlib.asynccontextmanager
async def unchanged(stack: Stack, what: str) -> AsyncIterator[None]:
    """The block must change nothing stored and post nothing anyone else sees."""
    before, posted = await settled(stack), len(public_messages(stack.server))
    yield
    after = await settled(stack)  # work the call set off in the background counts too
    changed = {t: (before.get(t), after.get(t)) for t in after if before.get(t) != after[t]}
    assert not changed, f"{what} changed the database: {changed}"
    assert len(public_messages(stack.server)) == posted, f"{what} posted in a channel"


async def seed_admin_state(stack: Stack) -> None:
    """Settings and a schedule for the refusals to leave alone, made the real way."""
    server = stack.server
    for name, options in (
        ("settings allow-channel", {"channel": server.channel}),
        ("settings blocked-words add", {"word": "heron"}),
        (
            "daily setup",
            {"channel": server.channel, "time": "09:00", "timezone": "Europe/Berlin"},
        ),
    ):
        handle = await server.slash(name, options, user="owner")
        assert REFUSED_ADMIN not in await said(handle, server)


async def test_owner_commands_refuse_a_plain_member_and_change_nothing(stack: Stack) -> None:
    server = stack.server
    async with game_bot(stack, ShiftedClock()):
        for name, refusal in OWNER_COMMANDS.items():
            async with unchanged(stack, f"/{name} by a plain member"):
                options = OWNER_OPTIONS.get(name, no_options)(server)
                refused = await server.slash(name, options, user="alice")
                text = await said(refused, server)
            assert refusal in text, (name, text)


async def test_admin_commands_refuse_a_plain_member_and_change_nothing(stack: Stack) -> None:
    server = stack.server
    async with game_bot(stack, ShiftedClock()):
        await seed_admin_state(stack)
        swept = []
        for name, options in ADMIN_SAMPLES.items():
            # Alice has no permission; Mod has Manage Server through a role, which counts too.
            async with unchanged(stack, f"/{name} by a plain member"):
                refused = await server.slash(name, options(server), user="alice")
                text = await said(refused, server)
            assert REFUSED_ADMIN in text, (name, text)
            # Mod's call with the same options works: the refusal was the permission.
            control = await server.slash(name, options(server), user="mod")
            assert "permission" not in (await said(control, server)).casefold(), name
            swept.append(name)
    assert swept == list(ADMIN_SAMPLES)
    settings = await stack.database.guild_settings.get(server.guild.id)
    # Mod's control calls did land: proof the samples were real requests.
    assert settings.content_rating == "strict" and "gull" in settings.blocked_words


async def test_buttons_bound_to_a_member_refuse_everyone_else(stack: Stack) -> None:
    server = stack.server
    alice = server.user("alice").id
    for index in range(6):  # two pages
        piece = await add_piece(stack.database, user_id=alice, text=f"line {index}")
        await stack.database.favorites.add(alice, piece.id)
    async with game_bot(stack, ShiftedClock()):
        listing = await server.slash("favorites list", {}, user="alice")
        await listing.wait_private_answer()
        erase = await server.slash("privacy delete", {}, user="alice")
        await erase.wait_private_answer()
        # Both are private to alice; a crafted client could still send the custom ids.
        for message in (listing.final_message(), erase.final_message()):
            assert message is not None
            for custom_id in message.custom_ids():
                if message.component(custom_id).get("disabled"):
                    continue
                async with unchanged(stack, f"{custom_id} pressed by bob"):
                    pressed = await server.click(message, custom_id, user="bob")
                    text = await said(pressed, server)
                assert "someone else's" in text or "Only the person who asked" in text, text
    assert await stack.database.favorites.count(alice) == 6


def lobby(server: FakeDiscord) -> StoredMessage:
    return latest_with(server, server.channel, "inkwell:game:start:")


async def test_host_commands_and_buttons_refuse_other_players(stack: Stack) -> None:
    server = stack.server
    writing = writing_channel(server)
    async with game_bot(stack, ShiftedClock()):
        opened = await server.slash(
            "poemgame start", {"lines": 6, "title": "T", "ai": False}, user="bob"
        )
        assert "is open" in await said(opened, server)
        joined = await server.click(lobby(server), button(lobby(server), "join"), user="alice")
        await said(joined, server)
        for action in ("start", "cancel"):
            async with unchanged(stack, f"the lobby's {action} button pressed by a player"):
                pressed = await server.click(
                    lobby(server), button(lobby(server), action), user="alice"
                )
                assert "Only the host" in await said(pressed, server), action
        started = await server.click(lobby(server), button(lobby(server), "start"), user="bob")
        await said(started, server)
        sprint = await server.slash("sprint start", {"minutes": 30}, user="bob", channel=writing)
        await said(sprint, server)
        for name in sorted(HOST_COMMANDS):
            where = writing if name.startswith("sprint") else server.channel
            # Mod may Manage Server, not Manage Messages: that is not enough either.
            for who in ("alice", "mod"):
                async with unchanged(stack, f"/{name} by {who}"):
                    refused = await server.slash(name, {}, user=who, channel=where)
                    text = await said(refused, server)
                assert "only" in text.casefold() or "host" in text.casefold(), (name, who, text)
        ended = await server.slash("poemgame end", {}, user="bob")
        assert "is over" in await said(ended, server)
        cancelled = await server.slash("sprint cancel", {}, user="bob", channel=writing)
        assert "cancelled" in await said(cancelled, server)


async def test_every_id_of_another_member_is_not_found_and_stays_theirs(stack: Stack) -> None:
    server = stack.server
    alice, bob = server.user("alice").id, server.user("bob").id
    hidden = await server.add_private_channel("alice-only", allow=["alice"])
    secret = "the lighthouse keeper's secret"
    piece = await add_piece(
        stack.database,
        user_id=alice,
        user_name="Alice",
        guild_id=server.guild.id,
        channel_id=hidden.id,
        text=secret,
        prompt=secret,
    )
    favourite = (await stack.database.favorites.add(alice, piece.id)).favorite
    await stack.database.prompts.save(alice, "Lighthouse", secret, "continue")
    bobs_piece = await add_piece(stack.database, user_id=bob, user_name="Bob", text="bob's own")
    bobs_favourite = (await stack.database.favorites.add(bob, bobs_piece.id)).favorite
    probes: list[tuple[str, dict[str, Any]]] = [
        ("favorites show", {"id": favourite.id}),
        ("favorites remove", {"id": favourite.id}),
        ("remix", {"id": piece.id}),
        ("prompts use", {"name": "Lighthouse"}),
        ("prompts delete", {"name": "Lighthouse"}),
        ("prompts rename", {"old": "Lighthouse", "new": "Mine now"}),
    ]
    swept = {name for name, _ in probes} | {"anthology show"}
    assert swept == set(ID_OPTIONS)
    async with game_bot(stack, ShiftedClock()):
        poem_id = await private_anthology_poem(stack, hidden)
        probes.append(("anthology show", {"id": poem_id}))
        for name, options in probes:
            async with unchanged(stack, f"/{name} with alice's id by bob"):
                handle = await server.slash(name, options, user="bob")
                text = await said(handle, server)
            assert "can't find" in text or "no favourite" in text or "don't have" in text, (
                name,
                text,
            )
            assert secret not in text and "Alice" not in text, (name, text)
            for request in handle.responses():
                assert secret not in repr(request.json), (name, request.json)
        # Bob's own still answer, so the refusals above are about whose the id is.
        own = await server.slash("favorites show", {"id": bobs_favourite.id}, user="bob")
        shown = await own.wait_private_answer()  # an embed, no text
        assert "bob's own" in shown["embeds"][0]["description"]
    assert await stack.database.favorites.get(alice, favourite.id) is not None
    assert await stack.database.prompts.get(alice, "Lighthouse") is not None


async def private_anthology_poem(stack: Stack, channel: Any) -> int:
    """A finished three-line poem written by alice and the owner in ``channel``."""
    server = stack.server
    opened = await server.slash(
        "poemgame start",
        {"lines": 3, "title": "Keeper", "ai": False},
        user="alice",
        channel=channel,
    )
    assert "is open" in await said(opened, server)
    board = latest_with(server, channel, "inkwell:game:start:")
    await said(await server.click(board, button(board, "join"), user="owner"), server)
    await said(await server.click(board, button(board, "start"), user="alice"), server)
    for who, line in (("alice", "a lamp"), ("owner", "a wave"), ("alice", "a keeper")):
        added = await server.slash("poemgame add", {"line": line}, user=who, channel=channel)
        assert "is in the poem" in await said(added, server), who

    async def finished() -> list[Any]:
        return await stack.database.games.anthology(server.guild.id)

    for _ in range(200):
        if poems := await finished():
            return int(poems[0].record.id)
        await asyncio.sleep(0.05)
    raise AssertionError("the private game's poem never reached the anthology")
