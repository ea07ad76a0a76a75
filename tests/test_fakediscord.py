"""End-to-end smoke tests: the real, unmodified discord.py client against tests.fakediscord."""

from __future__ import annotations

import asyncio
import io
import re
from typing import Literal

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fakediscord import (
    EPHEMERAL,
    LOADING,
    MANAGE_GUILD,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    FakeDiscord,
    run_client,
)
from tests.fakediscord.fixtures import fake_discord  # noqa: F401  (pytest fixture)

MENTIONS_NONE = discord.AllowedMentions.none()


class DynamicCounter(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"counter:(?P<count>[0-9]+):user:(?P<id>[0-9]+)",
):
    """discord.py's examples/views/dynamic_counter.py: all state lives in the custom_id."""

    def __init__(self, user_id: int, count: int = 0) -> None:
        self.user_id, self.count = user_id, count
        super().__init__(
            discord.ui.Button(
                label=f"Total: {count}",
                style=discord.ButtonStyle.blurple,
                custom_id=f"counter:{count}:user:{user_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> DynamicCounter:
        return cls(int(match["id"]), int(match["count"]))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.user_id

    async def callback(self, interaction: discord.Interaction) -> None:
        self.count += 1
        self.item.label = f"Total: {self.count}"
        self.custom_id = f"counter:{self.count}:user:{self.user_id}"
        await interaction.response.edit_message(view=self.view)


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    text = discord.ui.TextInput(label="Your feedback", custom_id="feedback_text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


class Bot(commands.Bot):
    def __init__(self, guild_id: int) -> None:
        # guild_ready_timeout: READY fires 50 ms after the last GUILD_CREATE instead of 2 s.
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            guild_ready_timeout=0.05,
        )
        self.guild_id = guild_id
        add_commands(self.tree, guild_id)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(DynamicCounter)


def add_commands(tree: app_commands.CommandTree, guild_id: int) -> None:
    @tree.command(description="Draft then finish a piece")
    async def write(interaction: discord.Interaction, prompt: str) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(
            content=f"Drafting for {interaction.user.mention} @everyone",
            allowed_mentions=MENTIONS_NONE,
        )
        await interaction.edit_original_response(
            content=f"Done: {prompt} {interaction.user.mention}",
            allowed_mentions=discord.AllowedMentions(users=[interaction.user], everyone=False),
        )

    @tree.command(description="A poem")
    @app_commands.choices(
        mood=[
            app_commands.Choice(name="Dark", value="dark"),
            app_commands.Choice(name="Light", value="light"),
        ]
    )
    async def poem(
        interaction: discord.Interaction,
        length: app_commands.Range[int, 4, 40],
        form: Literal["haiku", "sonnet"],
        mood: app_commands.Choice[str],
    ) -> None:
        await interaction.response.send_message(f"{form}:{length}:{mood.value}")

    @tree.command(description="A counter button")
    async def counter(interaction: discord.Interaction) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(DynamicCounter(interaction.user.id))
        await interaction.response.send_message("Count with me", view=view)

    @tree.context_menu(name="Continue story")
    async def continue_story(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.send_message(f"Continuing: {message.content}", ephemeral=True)

    @tree.command(description="Pick a genre")
    async def genre(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(name)

    @genre.autocomplete("name")
    async def genre_complete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        genres = ["fantasy", "farce", "horror"]
        return [app_commands.Choice(name=g, value=g) for g in genres if g.startswith(current)]

    @tree.command(description="Public reply plus a secret followup")
    async def secret(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("public")
        await interaction.followup.send("psst", ephemeral=True)

    @tree.command(description="Think, then answer with a followup")
    async def think(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("thought", ephemeral=True)

    @tree.command(description="Export as a file")
    async def export(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Here it is")
        file = discord.File(io.BytesIO(b"Once upon a time"), filename="story.txt")
        await interaction.followup.send("attached", file=file)

    @tree.command(description="Server settings")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def config(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("configured", ephemeral=True)

    @config.error
    async def config_error(
        interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await interaction.response.send_message(f"denied: {type(error).__name__}", ephemeral=True)

    @tree.command(description="Too slow to answer")
    async def slow(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.3)
        await interaction.response.send_message("late")

    @tree.command(description="Tell us")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FeedbackModal())

    favorites = app_commands.Group(name="favorites", description="Your favorites")

    @favorites.command(name="list", description="List favorites")
    async def favorites_list(interaction: discord.Interaction, page: int = 1) -> None:
        await interaction.response.send_message(f"favorites page {page}")

    tree.add_command(favorites)

    @tree.command(description="Guild only", guild=discord.Object(guild_id))
    async def local(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"local to {interaction.guild_id}")


def new_bot(server: FakeDiscord) -> Bot:
    return Bot(server.guild.id)


# ---- tests --------------------------------------------------------------------------------


async def test_defer_then_two_edits(fake_discord: FakeDiscord) -> None:  # noqa: F811
    server = fake_discord
    async with run_client(new_bot(server), server):
        h = await server.slash("write", {"prompt": "a sea shanty"}, user="alice")
        cb = await h.wait_callback()
        await h.wait_responses(3)
    alice = server.user("alice")
    assert cb.json["type"] == 5 and h.callback_delay is not None and h.callback_delay < 3
    edits = h.original_edits()
    assert [e.json["content"] for e in edits] == [
        f"Drafting for {alice.mention} @everyone",
        f"Done: a sea shanty {alice.mention}",
    ]
    assert edits[0].json["allowed_mentions"] == MENTIONS_NONE.to_dict()
    assert edits[1].json["allowed_mentions"]["users"] == [alice.id]
    first, final = edits[0].response, h.final_message()
    assert first["mentions"] == [] and first["mention_everyone"] is False  # nothing pinged
    assert final is not None and final.content.startswith("Done") and not final.flags & LOADING
    assert [u["id"] for u in final.payload["mentions"]] == [str(alice.id)]
    assert server.unhandled == []


async def test_sync_and_typed_options(fake_discord: FakeDiscord) -> None:  # noqa: F811
    server = fake_discord
    bot = new_bot(server)
    async with run_client(bot, server):
        synced = await bot.tree.sync()
        await bot.tree.sync(guild=discord.Object(server.guild.id))
        (put,) = server.requests_to("PUT /applications/{app_id}/commands")
        assert server.requests_to("PUT /applications/{app_id}/guilds/{guild_id}/commands")
        assert {c.name for c in synced} == {c["name"] for c in put.json}
        poem = next(c for c in put.json if c["name"] == "poem")
        length = next(o for o in poem["options"] if o["name"] == "length")
        assert (length["type"], length["min_value"], length["max_value"]) == (4, 4, 40)
        # The schema drives option types: "12" goes out as integer 12.
        h = await server.slash("poem", {"length": "12", "form": "sonnet", "mood": "dark"})
        await h.wait_callback()
        group = await server.slash("favorites list", {"page": 2})
        local = await server.slash("local")
        await server.wait_for(lambda: group.callback() is not None and local.callback() is not None)
    assert h.payload["data"]["options"][0] == {"name": "length", "type": 4, "value": 12}
    assert (m := h.final_message()) is not None and m.content == "sonnet:12:dark"
    assert (g := group.final_message()) is not None and g.content == "favorites page 2"
    assert local.payload["data"]["guild_id"] == str(server.guild.id)
    assert (
        loc := local.final_message()
    ) is not None and loc.content == f"local to {server.guild.id}"
    assert server.unhandled == []


async def test_dynamic_button_survives_restart(fake_discord: FakeDiscord) -> None:  # noqa: F811
    server = fake_discord
    async with run_client(new_bot(server), server):
        h = await server.slash("counter", user="alice")
        await h.wait_callback()
    message = h.final_message()
    assert message is not None
    alice_id = server.user("alice").id
    async with run_client(new_bot(server), server):  # a brand-new process, same Discord
        click = await server.click(message, f"counter:0:user:{alice_id}", user="alice")
        cb = await click.wait_callback()
        again = await server.click(message, f"counter:1:user:{alice_id}", user="alice")
        await again.wait_callback()
    assert cb.json["type"] == 7
    assert message.custom_ids() == [f"counter:2:user:{alice_id}"]
    assert message.components[0]["components"][0]["label"] == "Total: 2"
    assert server.gateway.identify_count == 2 and server.unhandled == []


async def test_message_context_menu(fake_discord: FakeDiscord) -> None:  # noqa: F811
    server = fake_discord
    async with run_client(new_bot(server), server):
        target = await server.user_message("Once upon a time", user="bob")
        h = await server.message_context("Continue story", target, user="alice")
        await h.wait_callback()
    assert h.payload["data"]["type"] == 3
    assert (m := h.final_message()) is not None
    assert m.content == "Continuing: Once upon a time" and m.flags == EPHEMERAL
    assert server.unhandled == []


async def test_autocomplete(fake_discord: FakeDiscord) -> None:  # noqa: F811
    server = fake_discord
    async with run_client(new_bot(server), server):
        h = await server.autocomplete("genre", {"name": "fa"}, focused="name")
        cb = await h.wait_callback()
    assert cb.json["type"] == 8
    assert h.choices == [
        {"name": "fantasy", "value": "fantasy"},
        {"name": "farce", "value": "farce"},
    ]
    assert server.unhandled == []


async def test_ephemeral_followup(fake_discord: FakeDiscord) -> None:  # noqa: F811
    server = fake_discord
    async with run_client(new_bot(server), server):
        h = await server.slash("secret")
        await h.wait_responses(2)
        think = await server.slash("think")
        await think.wait_responses(2)
    (followup,) = h.followups()
    request = h.responses()[1]
    assert request.query["wait"] == "1" and request.json["flags"] == EPHEMERAL
    assert followup.content == "psst" and followup.ephemeral
    assert (orig := h.final_message()) is not None and not orig.ephemeral
    # Discord quirk: the first followup after a thinking defer *replaces* the placeholder and
    # keeps the defer's visibility, so ephemeral=True on that followup is ignored.
    (thought,) = think.followups()
    assert thought.id == think.original_message_id and not thought.ephemeral
    assert server.unhandled == []


async def test_file_followup_is_multipart(fake_discord: FakeDiscord) -> None:  # noqa: F811
    server = fake_discord
    async with run_client(new_bot(server), server):
        h = await server.slash("export")
        await h.wait_responses(2)
    request = h.responses()[1]
    assert request.multipart and request.json["content"] == "attached"
    (upload,) = request.files
    assert (upload.field_name, upload.filename, upload.data) == (
        "files[0]",
        "story.txt",
        b"Once upon a time",
    )
    (followup,) = h.followups()
    (attachment,) = followup.attachments
    assert attachment["filename"] == "story.txt" and attachment["size"] == 16
    assert server.unhandled == []


async def test_manage_guild_check(fake_discord: FakeDiscord) -> None:  # noqa: F811
    server = fake_discord
    async with run_client(new_bot(server), server):
        allowed = await server.slash("config", user="mod")
        denied = await server.slash("config", user="alice")
        await server.wait_for(
            lambda: allowed.callback() is not None and denied.callback() is not None
        )
    assert (a := allowed.final_message()) is not None and a.content == "configured"
    assert (d := denied.final_message()) is not None and d.content == "denied: MissingPermissions"
    assert server.unhandled == []


async def test_modal_round_trip(fake_discord: FakeDiscord) -> None:  # noqa: F811
    server = fake_discord
    async with run_client(new_bot(server), server):
        opener = await server.slash("feedback")
        assert (await opener.wait_callback()).json["type"] == 9
        submit = await server.modal_submit(opener, {"feedback_text": "lovely"})
        await submit.wait_callback()
    assert (m := submit.final_message()) is not None and m.content == "thanks: lovely"
    assert server.unhandled == []


async def test_resume_replays_missed_events(fake_discord: FakeDiscord) -> None:  # noqa: F811
    server = fake_discord
    bot = new_bot(server)
    resumed: list[bool] = []

    async def on_resumed() -> None:
        resumed.append(True)

    bot.add_listener(on_resumed)
    async with run_client(bot, server):
        await server.drop_connection()
        # Dispatched while the bot is disconnected: must be replayed on RESUME.
        h = await server.slash("poem", {"length": 5, "form": "haiku", "mood": "light"})
        await h.wait_callback(timeout=10)
        await server.wait_for(lambda: resumed == [True])
    assert server.gateway.resume_count == 1 and server.gateway.identify_count == 1
    assert (m := h.final_message()) is not None and m.content == "haiku:5:light"
    assert server.unhandled == []


async def test_late_callback_is_unknown_interaction(fake_discord: FakeDiscord) -> None:  # noqa: F811
    server = fake_discord
    server.interaction_deadline = 0.2  # Discord's 3 s, scaled down to keep the test fast
    newcomer = await server.add_user("carol", permissions=MANAGE_GUILD)
    async with run_client(new_bot(server), server, fail_on_error_logs=False):
        h = await server.slash("slow", user=newcomer)
        await h.wait_responses(1)
        allowed = await server.slash("config", user="carol")
        await allowed.wait_callback()
    assert h.expired and h.responses()[0].status == 404 and h.final_message() is None
    assert h.responses()[0].response["code"] == 10062  # Unknown interaction
    assert any("NotFound" in repr(r.exc_info) for r in server.client_errors)
    assert (m := allowed.final_message()) is not None and m.content == "configured"


# ---- channel permissions, threads, forbidden and deleted channels ---------------------------


def members_client() -> discord.Client:
    """A plain client that caches members, to ask it ``permissions_for`` about anyone."""
    intents = discord.Intents.default()
    intents.members = True
    return discord.Client(intents=intents, guild_ready_timeout=0.05)


def client_permissions(
    client: discord.Client, server: FakeDiscord, channel_id: int, name: str
) -> discord.Permissions:
    guild = client.get_guild(server.guild.id)
    assert guild is not None
    channel = guild.get_channel_or_thread(channel_id)
    member = guild.get_member(server.user(name).id)
    assert channel is not None and member is not None
    return channel.permissions_for(member)


async def test_overwrites_and_threads_reach_the_client(fake_discord: FakeDiscord) -> None:  # noqa: F811
    server = fake_discord
    poets = await server.add_role("Poets")
    await server.give_role("bob", poets)
    private = await server.add_private_channel("poets-corner", allow=[poets, "alice"])
    drafts = await server.add_thread(private, "drafts", owner="bob")
    hidden = await server.add_private_channel("bot-free", allow=["alice"], bot=False)
    unseen = await server.add_thread(hidden, "not for bots")
    client = members_client()
    async with run_client(client, server):
        guild = client.get_guild(server.guild.id)
        assert guild is not None
        everyone = ("owner", "mod", "alice", "bob", "bot")
        for channel in (private, drafts, hidden, server.channel):
            for name in everyone:
                # The client's maths on GUILD_CREATE data agrees with the fake's, bit for bit.
                assert client_permissions(client, server, channel.id, name) == (
                    server.permissions_in(channel, name)
                ), (channel.name, name)
        view = {n: client_permissions(client, server, private.id, n).view_channel for n in everyone}
        assert view == {"owner": True, "mod": False, "alice": True, "bob": True, "bot": True}
        thread = guild.get_thread(drafts.id)
        assert thread is not None and thread.parent_id == private.id and thread.me is not None
        assert guild.get_thread(unseen.id) is None  # Discord lists threads the bot can view
        for name in everyone:
            in_thread = client_permissions(client, server, drafts.id, name).view_channel
            assert in_thread == view[name]

        # At runtime: Bob loses the role, then @everyone may view after all.
        await server.take_role("bob", poets)
        await server.wait_for(
            lambda: not client_permissions(client, server, private.id, "bob").view_channel
        )
        assert not client_permissions(client, server, drafts.id, "bob").view_channel
        await server.set_overwrite(private, server.everyone, allow=VIEW_CHANNEL)
        await server.wait_for(
            lambda: client_permissions(client, server, drafts.id, "mod").view_channel
        )
        assert client_permissions(client, server, drafts.id, "bob").view_channel

        # A thread made at runtime, then archived: gone from the cache, still fetchable.
        notes = await server.add_thread(server.channel, "notes", private=True)
        await server.wait_for(lambda: guild.get_thread(notes.id) is not None)
        assert guild.get_thread(notes.id).type is discord.ChannelType.private_thread  # type: ignore[union-attr]
        await server.archive_thread(notes)
        await server.wait_for(lambda: guild.get_thread(notes.id) is None)
        fetched = await guild.fetch_channel(notes.id)
        assert isinstance(fetched, discord.Thread) and fetched.archived
        assert fetched.parent_id == server.channel.id
    assert server.unhandled == []


async def test_interactions_carry_channel_permissions(fake_discord: FakeDiscord) -> None:  # noqa: F811
    server = fake_discord
    poets = await server.add_role("Poets")
    await server.give_role("bob", poets)
    private = await server.add_private_channel("poets-corner", allow=[poets])
    drafts = await server.add_thread(private, "drafts")
    seen: list[discord.Interaction] = []
    bot = new_bot(server)

    @bot.tree.command(description="Can I see the poets' corner?")
    async def corner(interaction: discord.Interaction) -> None:
        seen.append(interaction)
        assert interaction.guild is not None and isinstance(interaction.user, discord.Member)
        target = interaction.guild.get_channel(private.id)
        assert target is not None
        visible = target.permissions_for(interaction.user).view_channel
        again = discord.ui.Button[discord.ui.View](label="again", custom_id="again")
        again.callback = corner.callback  # type: ignore[assignment]
        view = discord.ui.View()
        view.add_item(again)
        await interaction.response.send_message(f"corner visible: {visible}", view=view)

    async with run_client(bot, server):
        in_private = await server.slash("corner", user="bob", channel=private)
        in_thread = await server.slash("corner", user="bob", channel=drafts)
        outside = await server.slash("corner", user="alice")
        await server.wait_for(lambda: len(seen) == 3)
        await in_thread.wait_callback()
        message = in_thread.final_message()
        assert message is not None and message.channel_id == drafts.id
        click = await server.click(message, "again", user="bob")
        await click.wait_callback()
        for handle in (in_private, outside):
            await handle.wait_callback()
    by_private, by_thread, by_alice, by_click = seen
    assert by_click.channel == by_thread.channel and by_click.permissions == by_thread.permissions
    assert by_private.permissions == server.permissions_in(private, "bob")
    assert by_private.permissions.view_channel and by_private.permissions.send_messages
    assert by_private.app_permissions == server.permissions_in(private, "bot")
    assert by_private.channel is not None and by_private.channel.id == private.id
    assert isinstance(by_thread.channel, discord.Thread)
    assert by_thread.channel.parent_id == private.id
    assert by_thread.permissions == server.permissions_in(drafts, "bob")
    assert by_thread.permissions.send_messages_in_threads
    # What the client computes from its cache matches what Discord sent.
    assert isinstance(by_thread.user, discord.Member)
    assert by_thread.channel.permissions_for(by_thread.user) == by_thread.permissions
    assert by_alice.permissions.view_channel  # in #general
    assert [m.content for m in (in_private.final_message(), outside.final_message())] == [  # type: ignore[union-attr]
        "corner visible: True",
        "corner visible: False",
    ]
    channel_payload = click.payload["channel"]
    assert click.payload["channel_id"] == str(drafts.id) and channel_payload["type"] == 11
    assert channel_payload["parent_id"] == str(private.id)
    overwrites = in_private.payload["channel"]["permission_overwrites"]
    assert {"id": str(server.guild.id), "type": 0, "allow": "0", "deny": str(VIEW_CHANNEL)} in (
        overwrites
    )
    # Alice cannot see the corner, so Discord would never send her command from there.
    with pytest.raises(ValueError, match="cannot view"):
        await server.slash("corner", user="alice", channel=private)
    assert server.unhandled == []


async def test_forbidden_and_deleted_channels(fake_discord: FakeDiscord) -> None:  # noqa: F811
    server = fake_discord
    staff = await server.add_private_channel("staff", allow=["mod"], bot=False)
    announcements = await server.add_channel("announcements")
    await server.set_overwrite(announcements, server.everyone, deny=SEND_MESSAGES)
    questions = await server.add_thread(announcements, "questions")
    old = await server.add_channel("old")
    old_thread = await server.add_thread(old, "old thread")
    bot = new_bot(server)
    async with run_client(bot, server):
        hidden = bot.get_channel(staff.id)
        readonly = bot.get_channel(announcements.id)
        gone = bot.get_channel(old.id)
        assert isinstance(hidden, discord.TextChannel) and isinstance(readonly, discord.TextChannel)
        assert isinstance(gone, discord.TextChannel)
        with pytest.raises(discord.Forbidden) as no_access:
            await hidden.send("psst")
        with pytest.raises(discord.Forbidden) as no_send:
            await readonly.send("hello")
        with pytest.raises(discord.Forbidden):
            await bot.fetch_channel(staff.id)
        # Send Messages in Threads, not Send Messages, is what a thread needs.
        thread = bot.get_channel(questions.id)
        assert isinstance(thread, discord.Thread)
        await thread.send("ask away")
        await server.delete_channel(old)
        await server.wait_for(lambda: bot.get_channel(old.id) is None)
        assert bot.get_channel(old_thread.id) is None  # its threads went with it
        with pytest.raises(discord.NotFound) as deleted:
            await gone.send("anyone?")
        with pytest.raises(discord.NotFound):
            await bot.get_partial_messageable(old_thread.id).send("anyone?")
    assert (no_access.value.status, no_access.value.code) == (403, 50001)
    assert no_access.value.text == "Missing Access"
    assert (no_send.value.code, no_send.value.text) == (50013, "Missing Permissions")
    assert (deleted.value.status, deleted.value.code) == (404, 10003)
    assert deleted.value.text == "Unknown Channel"
    assert [m.content for m in server.store.in_channel(questions.id)] == ["ask away"]
    assert server.store.in_channel(staff.id) == []
