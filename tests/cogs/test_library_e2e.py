"""End to end: /favorites, /remix and /halloffame through real discord.py and the fake Discord."""

from __future__ import annotations

import asyncio
import json
import re

from tests.cogs.test_discord_e2e import bot_client, finished, synced
from tests.fakediscord import EPHEMERAL
from tests.storage.factories import add_piece

NO_PINGS = {"parse": []}


async def starred(stack, user: str, count: int, **piece) -> list[int]:
    """``count`` pieces (oldest first) starred by ``user``; returns the favourite ids."""
    server = stack.server
    ids = []
    for index in range(count):
        record = await add_piece(
            stack.database,
            user_id=server.user("bob").id,
            user_name="Bob",
            guild_id=server.guild.id,
            prompt=f"topic {index}",
            text=f"line of piece {index}\nsecond line",
            **piece,
        )
        added = await stack.database.favorites.add(server.user(user).id, record.id)
        ids.append(added.favorite.id)
    return ids


def reply(handle) -> dict:
    """What the user was shown: the callback's message, or, after a deferral, the followup."""
    callback = handle.callback().json
    if callback["type"] == 4:
        return callback["data"]
    if edits := handle.original_edits():  # the answer took the placeholder's place
        return {**edits[-1].json, "flags": callback["data"]["flags"]}
    followups = handle.followups()
    assert followups, f"deferred (type {callback['type']}) but nothing followed"
    return followups[-1].payload


def favourite_ids(description: str) -> list[int]:
    return [int(found) for found in re.findall(r"\*\*#(\d+)\*\*", description)]


async def test_favorites_list_pages_newest_first_and_only_for_its_owner(stack):
    server = stack.server
    ids = await starred(stack, "alice", 7)
    async with bot_client(stack) as bot:
        await synced(bot)
        listing = await server.slash("favorites list", {}, user="alice")
        await listing.wait_responses(2)  # "thinking…", then the list in its place
    message = listing.final_message()
    data = reply(listing)
    assert data["flags"] & EPHEMERAL and data["allowed_mentions"] == NO_PINGS
    assert favourite_ids(data["embeds"][0]["description"]) == ids[::-1][:5]
    assert "Page 1 of 2" in data["embeds"][0]["footer"]["text"]
    alice = server.user("alice").id
    prev_id, next_id = message.custom_ids()
    assert (prev_id, next_id) == (f"inkwell:favs:{alice}:0", f"inkwell:favs:{alice}:1")
    assert message.component(prev_id)["disabled"]

    async with bot_client(stack):  # restart: the buttons are rebuilt from their custom ids
        intruder = await server.click(message, next_id, user="bob")
        await intruder.wait_callback()
        turned = await server.click(message, next_id, user="alice")
        await turned.wait_callback()
    assert reply(intruder)["flags"] & EPHEMERAL
    assert "someone else's favourites" in reply(intruder)["content"]
    assert turned.callback().json["type"] == 7  # the list itself is edited
    page_two = message.embeds[0]
    assert favourite_ids(page_two["description"]) == ids[::-1][5:]
    assert "Page 2 of 2" in page_two["footer"]["text"]
    assert message.component(f"inkwell:favs:{alice}:2")["disabled"]  # no page 3
    assert not message.component(f"inkwell:favs:{alice}:0")["disabled"]


async def test_show_and_remove_are_private_to_the_owner(stack):
    server = stack.server
    (favourite,) = await starred(stack, "alice", 1, seed=4242, model="tiny-model")
    async with bot_client(stack) as bot:
        await synced(bot)
        shown = await server.slash("favorites show", {"id": favourite}, user="alice")
        peek = await server.slash("favorites show", {"id": favourite}, user="bob")
        steal = await server.slash("favorites remove", {"id": favourite}, user="bob")
        for handle in (shown, peek, steal):
            await handle.wait_callback()
        # A remove acknowledges first and answers after: wait for the answer itself.
        await steal.wait_private_answer()
        still_there = await stack.database.favorites.get(server.user("alice").id, favourite)
        removed = await server.slash("favorites remove", {"id": favourite}, user="alice")
        await removed.wait_private_answer()
        again = await server.slash("favorites show", {"id": favourite}, user="alice")
        await again.wait_callback()

    data = reply(shown)
    assert data["flags"] & EPHEMERAL and data["allowed_mentions"] == NO_PINGS
    embed = data["embeds"][0]
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert "line of piece 0" in embed["description"]
    assert fields["Model"] == "tiny-model" and fields["Seed"] == "4242"
    assert "temperature 0.8" in fields["Parameters"] and "top-p 0.95" in fields["Parameters"]
    assert fields["Prompt"] == "topic 0" and fields["Asked for by"] == "Bob"
    assert fields["Date"].startswith("<t:")
    for refused in (peek, steal, again):
        assert reply(refused)["flags"] & EPHEMERAL
        assert f"You have no favourite #{favourite}" in reply(refused)["content"]
    assert still_there is not None
    assert f"Removed favourite #{favourite}" in reply(removed)["content"]
    assert await stack.database.favorites.count(server.user("alice").id) == 0


async def test_favourite_ids_autocomplete_from_your_own_only_at_most_25(stack):
    server = stack.server
    mine = await starred(stack, "alice", 30)
    (bobs,) = await starred(stack, "bob", 1)
    async with bot_client(stack) as bot:
        await synced(bot)
        everything = await server.autocomplete("favorites show", {"id": ""}, "id", user="alice")
        narrowed = await server.autocomplete(
            "favorites remove", {"id": f"#{mine[3]}"}, "id", user="alice"
        )
        for handle in (everything, narrowed):
            await handle.wait_callback()
    values = [choice["value"] for choice in everything.choices]
    assert len(values) == 25 and bobs not in values
    assert values == mine[::-1][:25]
    assert everything.choices[0]["name"].startswith(f"#{mine[-1]} · Haiku: topic 29")
    narrowed_values = [choice["value"] for choice in narrowed.choices]
    assert narrowed_values[0] == mine[3] and set(narrowed_values) <= set(mine)


async def test_export_attaches_markdown_and_json_with_attribution(stack):
    server = stack.server
    ids = await starred(stack, "alice", 2, seed=99)
    async with bot_client(stack) as bot:
        await synced(bot)
        handle = await server.slash("favorites export", {}, user="alice")
        await server.wait_for(lambda: bool(handle.followups()))
        empty = await server.slash("favorites export", {}, user="bob")
        await server.wait_for(lambda: bool(empty.followups()))

    message = handle.followups()[-1]
    assert message.ephemeral and message.allowed_mentions == NO_PINGS
    names = [attachment["filename"] for attachment in message.attachments]
    assert len(names) == 2 and names[0].endswith(".md") and names[1].endswith(".json")
    assert re.fullmatch(r"inkwell-favorites-\d{8}-\d{6}\.md", names[0])
    files = {upload.filename: upload.data.decode() for upload in message.files}
    markdown, document = files[names[0]], json.loads(files[names[1]])
    assert "# Alice's Inkwell favourites" in markdown
    assert "line of piece 1\nsecond line" in markdown
    for expected in ("**Model:** tiny-model", "**Seed:** 99", "top-p 0.95", "**Prompt:** topic 0"):
        assert expected in markdown
    assert [item["favorite_id"] for item in document["favorites"]] == ids[::-1]
    piece = document["favorites"][0]["piece"]
    assert piece["seed"] == 99 and piece["model"] == "tiny-model"
    assert piece["prompt"] == "topic 1" and piece["parameters"]["top_k"] == 50
    assert piece["written_at"] and piece["requested_by"] == "Bob"
    assert "no favourites to export" in empty.followups()[-1].content
    assert not empty.followups()[-1].files


async def test_remix_keeps_the_seed_and_changes_the_parameters(stack):
    server = stack.server
    async with bot_client(stack) as bot:
        await synced(bot)
        original = await server.slash("poem", {"topic": "tides", "seed": 7}, user="alice")
        first = (await finished(original, server))[-1]
        piece_id = int(re.search(r"piece #(\d+)", first.content).group(1))
        remix = await server.slash(
            "remix", {"id": piece_id, "temperature": 1.3, "top_k": 20}, user="bob"
        )
        remixed = (await finished(remix, server))[-1]
        elsewhere = await add_piece(stack.database, guild_id=12345, user_id=1)
        refused = await server.slash("remix", {"id": elsewhere.id}, user="bob")
        missing = await server.slash("remix", {"id": 987654}, user="bob")
        for handle in (refused, missing):
            await handle.wait_callback()

    assert remix.callback().json["type"] == 5  # public, through the shared streaming path
    assert "seed 7 " in remixed.content and "temp 1.3" in remixed.content
    assert "top-k 20" in remixed.content and "Poem: tides" in remixed.content
    assert f"for <@{server.user('bob').id}>" in remixed.content
    new_id = int(re.search(r"piece #(\d+)", remixed.content).group(1))
    record = await stack.database.generations.get(new_id)
    assert record.parent_id == piece_id and record.seed == 7
    assert record.params["temperature"] == 1.3 and record.params["top_k"] == 20
    for handle in (refused, missing):
        assert reply(handle)["flags"] & EPHEMERAL
        assert "can't find piece" in reply(handle)["content"]


async def test_hall_of_fame_ranks_by_stars_without_pinging(stack):
    server = stack.server
    guild, channel = server.guild.id, server.channel.id
    pieces = [
        await add_piece(
            stack.database,
            guild_id=guild,
            channel_id=channel,
            prompt=topic,
            user_name="<@&1> @everyone",
        )
        for topic in ("one star", "three stars", "two stars", "no stars")
    ]
    await add_piece(stack.database, guild_id=55, prompt="other server")
    # Much starred, but from a channel bob cannot see (it no longer exists): never shown.
    hidden = await add_piece(stack.database, guild_id=guild, channel_id=901, prompt="hidden one")
    for fan in range(5):
        await stack.database.favorites.add(2000 + fan, hidden.id)
    for piece, fans in zip(pieces, (1, 3, 2, 0), strict=True):
        for fan in range(fans):
            await stack.database.favorites.add(1000 + fan, piece.id)
    other = await stack.database.generations.list_for_user(111, 1, 0)
    await stack.database.favorites.add(1, other[0].id)
    async with bot_client(stack) as bot:
        await synced(bot)
        handle = await server.slash("halloffame", {}, user="bob")
        await handle.wait_private_answer()  # it defers, then answers: wait for the answer
    data = reply(handle)
    # Only its viewer sees it: what it lists depends on which channels they can see.
    assert data["flags"] & EPHEMERAL
    sent = [r.json for r in handle.responses() if r.json and "embeds" in r.json]
    assert sent and all(body["allowed_mentions"] == NO_PINGS for body in sent)
    description = data["embeds"][0]["description"]
    order = [description.index(topic) for topic in ("three stars", "two stars", "one star")]
    assert order == sorted(order)
    assert "⭐ 3" in description and "no stars" not in description
    assert "other server" not in description and "hidden one" not in description
    assert not handle.final_message().payload["mention_everyone"]


async def test_library_commands_sync_with_descriptions_everywhere(stack):
    async with bot_client(stack) as bot:
        await synced(bot)
    commands = {c["name"]: c for c in stack.server.commands.list(None)}
    assert {"favorites", "prompts", "privacy", "remix", "halloffame"} <= set(commands)
    groups = {
        "favorites": {"list", "show", "remove", "export"},
        "prompts": {"save", "list", "use", "delete", "rename"},
        "privacy": {"export", "delete", "training"},
    }
    for group, subcommands in groups.items():
        assert {sub["name"] for sub in commands[group]["options"]} == subcommands
    leaves = [sub for group in groups for sub in commands[group]["options"]]
    leaves += [commands["remix"], commands["halloffame"]]
    for command in leaves:
        assert command["description"] and command["description"] != "…"
        for option in command.get("options", []):
            assert option["description"] and option["description"] != "…", option
    remix_options = [option["name"] for option in commands["remix"]["options"]]
    assert remix_options == ["id", "temperature", "top_p", "top_k", "max_tokens"]


async def test_pieces_from_a_private_channel_or_its_thread_stay_with_those_who_see_it(stack):
    server = stack.server
    staff = await server.add_private_channel("staff-room", allow=["alice"])
    thread = await server.add_thread(staff, "drafts", owner="alice")
    async with bot_client(stack) as bot:
        await synced(bot)
        ids = []
        for topic, where in (("secret plans", staff), ("thread secrets", thread)):
            # One piece at a time per member: the previous piece's slot is released just
            # after its last edit, so a request that comes in that moment is retried.
            for _ in range(20):
                handle = await server.slash("poem", {"topic": topic}, user="alice", channel=where)
                await server.wait_for(lambda h=handle: bool(h.callback()), 30)
                if "still writing" not in str(handle.callback().json):
                    break
                await asyncio.sleep(0.1)
            last = (await finished(handle, server))[-1]
            ids.append(int(re.search(r"piece #(\d+)", last.content).group(1)))
        for piece_id in ids:
            await stack.database.favorites.add(5000 + piece_id, piece_id)  # famous pieces
        bob_remixes = [await server.slash("remix", {"id": i}, user="bob") for i in ids]
        bob_fame = await server.slash("halloffame", {}, user="bob")
        alice_fame = await server.slash("halloffame", {}, user="alice")
        alice_remix = await server.slash("remix", {"id": ids[1]}, user="alice", channel=staff)
        for handle in bob_remixes:
            await handle.wait_callback()
        for handle in (bob_fame, alice_fame):  # they defer, then answer
            await handle.wait_private_answer()
        await finished(alice_remix, server)
    for handle in bob_remixes:  # the same answer as for a piece that never existed
        assert reply(handle)["flags"] & EPHEMERAL
        assert "can't find piece" in reply(handle)["content"]
    bob_sees = reply(bob_fame)["embeds"][0]["description"]
    assert "secret plans" not in bob_sees and "thread secrets" not in bob_sees
    alice_sees = reply(alice_fame)["embeds"][0]["description"]
    assert "secret plans" in alice_sees and "thread secrets" in alice_sees


async def test_a_private_thread_is_seen_by_its_members_only(stack):
    server = stack.server
    thread = await server.add_thread(
        server.channel, "just us", private=True, owner="alice", members=["mod"]
    )
    async with bot_client(stack) as bot:
        await synced(bot)
        handle = await server.slash("poem", {"topic": "whispers"}, user="alice", channel=thread)
        last = (await finished(handle, server))[-1]
        piece_id = int(re.search(r"piece #(\d+)", last.content).group(1))
        # Bob sees the channel but is not in the private thread; Mod was added to it.
        bob = await server.slash("remix", {"id": piece_id}, user="bob")
        mod = await server.slash("remix", {"id": piece_id}, user="mod")
        await bob.wait_callback()
        await finished(mod, server)
    assert "can't find piece" in reply(bob)["content"]
    assert server.requests_to("GET /channels/{channel_id}/thread-members/{user_id}")
