"""The prompt of the day on Discord: the post, the entries with their ❤ buttons, the modal.

The ✍ and ❤ buttons are ``DynamicItem``s naming the prompt or the entry, and the entry modal
is handled from its ``custom_id`` (``on_entry_submitted``), so all of it works after a restart.
Entries are shown as written (``piece_body``: no markdown, no invites) and nothing pings.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeVar

import discord

from bot.community.daily import DailyService
from bot.errors import InkwellError
from bot.storage import NotFound
from bot.storage.daily import MAX_ENTRY_CHARS, DailyEntry, DailyPrompt, DailySchedule
from bot.writing.destination import DestinationGone
from cogs.errors import answering
from cogs.modals import submitted_value
from cogs.notices import tell_user
from cogs.private import acknowledge, answer
from cogs.render import piece_body
from cogs.safety import check_typed

if TYPE_CHECKING:
    from cogs.client import InkwellBot

NO_PINGS = discord.AllowedMentions.none()
COG_NAME = "Prompt of the day"
COLOUR = discord.Colour.from_rgb(208, 135, 112)
ENTRY_INPUT_ID = "entry"
ENTRY_MODAL = re.compile(r"inkwell:daily:entry:(?P<prompt>[0-9]+)")
PROMPT_FOOTER = "Daily prompt #{id}"
HISTORY_LOOKBACK = 200
ENTRY_EMBED_CHARS = 3900  # of an embed's 4096, after escaping
T = TypeVar("T")


class _HasService(Protocol):
    service: DailyService


def service_of(client: discord.Client) -> DailyService:
    """The running daily service (its cog owns it)."""
    cog: _HasService | None = getattr(client, "get_cog", lambda _: None)(COG_NAME)
    if cog is None:
        raise InkwellError("The prompt of the day is switched off right now.")
    return cog.service


def prompt_embed(prompt: DailyPrompt) -> discord.Embed:
    """The prompt as posted."""
    embed = discord.Embed(
        title=f"🌅 Prompt of the day · {prompt.local_date}",
        description=piece_body(prompt.text),
        colour=COLOUR,
    )
    how = (
        "Entries are shown as they come"
        if prompt.mode == "post"
        else "Entries stay hidden until the next prompt"
    )
    embed.set_footer(
        text=f"{PROMPT_FOOTER.format(id=prompt.id)} · /daily submit or ✍ to answer · {how}"
    )
    return embed


def entry_embed(entry: DailyEntry, prompt: DailyPrompt) -> discord.Embed:
    """An entry as posted."""
    embed = discord.Embed(
        title=f"✍ {discord.utils.escape_markdown(entry.user_name)}",
        description=piece_body(entry.text),
        colour=COLOUR,
    )
    embed.set_footer(
        text=f"Entry #{entry.id} · for daily prompt #{prompt.id} ({prompt.local_date})"
    )
    return embed


class SubmitButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"inkwell:daily:submit:(?P<prompt>[0-9]+)",
):
    """✍ under the prompt: opens the entry modal."""

    def __init__(self, prompt_id: int) -> None:
        self.prompt_id = prompt_id
        super().__init__(
            discord.ui.Button(
                label="Submit an entry",
                emoji="✍️",
                style=discord.ButtonStyle.primary,
                custom_id=f"inkwell:daily:submit:{prompt_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> Self:
        """Rebuild the button from a click, however old."""
        return cls(int(match["prompt"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Open the modal (for today's prompt: an old one's button says so)."""
        async with answering(interaction):
            assert interaction.guild_id is not None
            today = await service_of(interaction.client).today(interaction.guild_id)
            if today.id != self.prompt_id:
                raise InkwellError(
                    "That prompt's day is over. Answer today's with /daily submit or its ✍ button."
                )
            await open_entry_modal(interaction, today)


class HeartButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"inkwell:daily:heart:(?P<entry>[0-9]+)",
):
    """❤ under an entry: give a heart, or take it back."""

    def __init__(self, entry_id: int, hearts: int = 0) -> None:
        self.entry_id = entry_id
        super().__init__(
            discord.ui.Button(
                label=str(hearts),
                emoji="❤️",
                style=discord.ButtonStyle.secondary,
                custom_id=f"inkwell:daily:heart:{entry_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> Self:
        """Rebuild the button from a click, however old."""
        return cls(int(match["entry"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Toggle the clicker's heart, then show the new count on the button."""
        async with answering(interaction):
            await acknowledge(interaction)
            hearted, count = await service_of(interaction.client).heart(
                self.entry_id, interaction.user.id
            )
            if interaction.message is not None:
                view = discord.ui.View(timeout=None)
                view.add_item(HeartButton(self.entry_id, count))
                # The heart is stored either way; a failed edit shows on the next click.
                with contextlib.suppress(discord.HTTPException):
                    await interaction.message.edit(view=view)
            await answer(
                interaction,
                "❤️ You hearted this entry." if hearted else "You took your heart back.",
            )


DAILY_ITEMS = (SubmitButton, HeartButton)


class EntryModal(discord.ui.Modal):
    """The entry's one long text field (handled by ``on_entry_submitted``)."""

    def __init__(self, prompt: DailyPrompt) -> None:
        super().__init__(
            title=f"Your entry for {prompt.local_date}",
            custom_id=f"inkwell:daily:entry:{prompt.id}",
        )
        self.add_item(
            discord.ui.TextInput(
                label="Your entry",
                custom_id=ENTRY_INPUT_ID,
                style=discord.TextStyle.paragraph,
                placeholder=prompt.text[:100],
                min_length=1,
                max_length=MAX_ENTRY_CHARS,
            )
        )


async def open_entry_modal(interaction: discord.Interaction, prompt: DailyPrompt) -> None:
    """Answer with the entry modal; it is forgotten at once (handled from its custom_id)."""
    modal = EntryModal(prompt)
    await interaction.response.send_modal(modal)
    modal.stop()


async def on_entry_submitted(interaction: discord.Interaction, bot: InkwellBot) -> bool:
    """Handle a submitted entry modal; False if the interaction was something else."""
    if interaction.type is not discord.InteractionType.modal_submit:
        return False
    match = ENTRY_MODAL.fullmatch(str((interaction.data or {}).get("custom_id", "")))
    if match is None:
        return False
    async with answering(interaction):
        check_typed(bot.flow, interaction, _value(interaction.data or {}), "entry")
        await acknowledge(interaction)
        assert interaction.guild_id is not None
        service = service_of(bot)
        try:
            today = await service.today(interaction.guild_id)
        except NotFound as gone:  # removed, or not posted yet, while they wrote
            raise InkwellError(
                f"{gone.user_message} Your text is below, so nothing is lost.\n\n"
                + _quoted(_value(interaction.data or {}))
            ) from gone
        if today.id != int(match["prompt"]):
            raise InkwellError(
                "That prompt's day ended while you wrote. Your text is below, so nothing is "
                "lost: send it for today's prompt with /daily submit.\n\n"
                + _quoted(_value(interaction.data or {}))
            )
        submitted = await service.submit(
            interaction.guild_id,
            interaction.user.id,
            interaction.user.display_name,
            _value(interaction.data or {}),
        )
        await answer(
            interaction,
            "✅ Your entry is posted."
            if submitted.shown
            else "✅ Your entry is in. It will be revealed with the next prompt.",
        )
    return True


class DiscordDailyBoard:
    """Posts the prompt of the day and its entries in their channel."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def post_prompt(self, schedule: DailySchedule, prompt: DailyPrompt) -> int:
        """Post the prompt with its ✍ button."""
        channel = self._client.get_partial_messageable(prompt.channel_id, guild_id=prompt.guild_id)
        view = discord.ui.View(timeout=None)
        view.add_item(SubmitButton(prompt.id))
        message = await _call(
            channel.send(embed=prompt_embed(prompt), view=view, allowed_mentions=NO_PINGS)
        )
        return message.id

    async def find_prompt(self, channel_id: int, prompt_id: int) -> int | None:
        """The bot's message showing ``prompt_id`` among the channel's recent messages."""
        channel = self._client.get_partial_messageable(channel_id)
        marker = PROMPT_FOOTER.format(id=prompt_id) + " "
        # An error here is raised, not read as "not posted": guessing wrong posts twice.
        async for message in _call_iter(channel.history(limit=HISTORY_LOOKBACK)):
            if self._client.user is not None and message.author.id != self._client.user.id:
                continue
            for embed in message.embeds:
                if embed.footer.text and embed.footer.text.startswith(marker):
                    return message.id
        return None

    async def post_entry(
        self,
        prompt: DailyPrompt,
        entry: DailyEntry,
        *,
        revealed: bool,
        channel_id: int | None = None,
    ) -> int:
        """Post an entry with its ❤ button (a long one as a preview plus the whole text as a
        file, since escaping can take it past what an embed holds)."""
        channel = self._client.get_partial_messageable(
            channel_id or prompt.channel_id, guild_id=prompt.guild_id
        )
        view = discord.ui.View(timeout=None)
        view.add_item(HeartButton(entry.id))
        embed = entry_embed(entry, prompt)
        files: list[discord.File] = []
        if len(embed.description or "") > ENTRY_EMBED_CHARS:
            embed.description = (embed.description or "")[:ENTRY_EMBED_CHARS] + "…"
            data = entry.text.encode()
            files.append(discord.File(io.BytesIO(data), filename=f"entry-{entry.id}.txt"))
        content = (
            f"🎉 Revealed: an entry for the prompt of {prompt.local_date}" if revealed else None
        )
        message = await _call(
            channel.send(content, embed=embed, view=view, files=files, allowed_mentions=NO_PINGS)
        )
        return message.id

    async def tell(self, user_id: int, text: str) -> None:
        """A direct message, best effort."""
        await tell_user(self._client, user_id, text)


def _value(data: dict[str, Any]) -> str:
    return submitted_value(data, ENTRY_INPUT_ID)


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}" for line in text[:1500].splitlines())


async def _call_iter(items: AsyncIterator[discord.Message]) -> AsyncIterator[discord.Message]:
    try:
        async for item in items:
            yield item
    except discord.Forbidden as error:
        raise DestinationGone(
            "I may not read that channel's history, so I can't check what I posted there "
            f"({error.text or 'no permission'})."
        ) from error
    except discord.NotFound as error:
        raise DestinationGone("That channel no longer exists.") from error


async def _call(request: Awaitable[T]) -> T:
    try:
        return await request
    except discord.Forbidden as error:
        raise DestinationGone(
            f"I'm not allowed to post in that channel any more ({error.text or 'no permission'})."
        ) from error
    except discord.NotFound as error:
        raise DestinationGone("That channel no longer exists.") from error
