"""/idea: a writing prompt in the channel, with Write it for me, Save prompt and Another.

The buttons are ``DynamicItem``s whose ``custom_id`` carries the idea's id, so they work on old
messages after a restart: everything else is looked up in storage on click. Picking is
``IdeaService``'s job (``bot.community.ideas_service``); this cog only renders.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal, Self

import discord
from discord import app_commands
from discord.ext import commands

from bot.community.ideas import idea_tags, piece_draft, piece_options, story_genre
from bot.community.ideas_catalogue import theme_choices
from bot.community.ideas_service import NEW_CYCLE, Idea, IdeaService
from bot.library.rules import prompt_options, saved_prompt_request
from bot.storage import IdeaRecord
from bot.writing.flow import WriteFlow
from cogs.destinations import requester_of
from cogs.errors import answering
from cogs.private import acknowledge, answer

if TYPE_CHECKING:
    from cogs.client import InkwellBot

NO_PINGS = discord.AllowedMentions.none()
COG_NAME = "Ideas"
IdeaGenreChoice = Literal[
    "any",
    "fantasy",
    "sci-fi",
    "mystery",
    "horror",
    "romance",
    "comedy",
    "fable",
    "adventure",
    "poetry",
    "literary",
]
SourceChoice = Literal["any", "curated", "ai"]
Theme = app_commands.Range[str, 1, 40]


def idea_message(idea: Idea) -> dict[str, Any]:
    """The public message for an idea: notes as text (a new cycle is the channel's news), the
    prompt in an embed, and its buttons."""
    notes = []
    if idea.new_cycle:
        notes.append(f"🔁 {NEW_CYCLE}")
    if idea.note:
        # The note may quote the theme as typed: shown as text, never as markdown or a ping.
        note = discord.utils.escape_mentions(discord.utils.escape_markdown(idea.note))
        notes.append(f"💬 {note}")
    embed = discord.Embed(
        title=f"💡 Idea #{idea.id}",
        # Shown as written: a generated idea must not turn into markdown.
        description=discord.utils.escape_markdown(idea.text),
        colour=discord.Colour.gold(),
    )
    record = idea.record
    embed.set_footer(text=idea_tags(record.source, record.genre, record.form, record.poem_form))
    return {
        "content": "\n".join(notes) or None,
        "embed": embed,
        "view": idea_view(idea.id),
        "allowed_mentions": NO_PINGS,
    }


class _IdeaButton:
    """A button bound to one stored idea (a mixin: each ``DynamicItem`` subclass declares
    its own template)."""

    label: str
    emoji: str
    custom_id_format: str
    style = discord.ButtonStyle.secondary

    def __init__(self, idea_id: int) -> None:
        self.idea_id = idea_id
        super().__init__(
            discord.ui.Button(  # type: ignore[call-arg]
                label=self.label,
                emoji=self.emoji,
                style=self.style,
                custom_id=self.custom_id_format.format(idea=idea_id),
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> Self:
        """Rebuild the button from a click on any message, however old."""
        return cls(int(match["idea"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Run the click, reporting failures like slash commands do."""
        async with answering(interaction):
            await self.clicked(interaction, interaction.client)  # type: ignore[arg-type]

    async def clicked(self, interaction: discord.Interaction, bot: InkwellBot) -> None:
        raise NotImplementedError


def _service(bot: InkwellBot) -> IdeaService:
    cog = bot.get_cog(COG_NAME)
    assert isinstance(cog, IdeasCog), "the ideas cog registers these buttons"
    return cog.service


class WriteIdeaButton(
    _IdeaButton,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"inkwell:idea:write:(?P<idea>[0-9]+)",
):
    """Write a piece from the idea, in the form it suits, through the write flow."""

    label, emoji, custom_id_format = "Write it for me", "✍️", "inkwell:idea:write:{idea}"
    style = discord.ButtonStyle.primary

    async def clicked(self, interaction: discord.Interaction, bot: InkwellBot) -> None:
        idea = await _service(bot).get(self.idea_id)
        draft = piece_draft(idea.text, idea.form, idea.poem_form, idea.genre)
        await bot.write_reply(interaction, draft)


class SaveIdeaButton(
    _IdeaButton,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"inkwell:idea:save:(?P<idea>[0-9]+)",
):
    """Keep the idea in the clicker's saved prompts, as ``idea-<id>``."""

    label, emoji, custom_id_format = "Save prompt", "📝", "inkwell:idea:save:{idea}"

    async def clicked(self, interaction: discord.Interaction, bot: InkwellBot) -> None:
        # Acknowledge first: saving is a write, which may wait on the database's lock.
        await acknowledge(interaction)
        idea = await _service(bot).get(self.idea_id)
        name = f"idea-{idea.id}"
        existing = await bot.database.prompts.get(interaction.user.id, name)
        if existing is not None and existing.text == idea.text:
            await answer(interaction, f"It's already in your saved prompts as “{name}”.")
            return
        form, options = saved_options(idea)
        saved_prompt_request(form, idea.text, options)  # refuse now what /prompts use would
        # NameTaken and LimitReached carry their own text (rename, or delete one to make room).
        await bot.database.prompts.save(interaction.user.id, name, idea.text, form, options)
        await answer(
            interaction,
            f"📝 Saved to your prompts as “{name}”. Write it any time with "
            f"`/prompts use name:{name}`.",
        )


def saved_options(idea: IdeaRecord) -> tuple[str, dict[str, str]]:
    """The saved prompt's form and options: the same piece "Write it for me" writes."""
    command, _ = piece_options(idea.text, idea.form, idea.poem_form, idea.genre)
    if command == "poem":
        return command, prompt_options(poem_form=idea.poem_form or "free")
    if command == "story":
        return command, prompt_options(genre=story_genre(idea.genre))
    return command, {}


class AnotherIdeaButton(
    _IdeaButton,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"inkwell:idea:another:(?P<idea>[0-9]+)",
):
    """A new idea for the same filter, by the same channel rules, as a new message."""

    label, emoji, custom_id_format = "Another", "🎲", "inkwell:idea:another:{idea}"

    async def clicked(self, interaction: discord.Interaction, bot: InkwellBot) -> None:
        requester = requester_of(interaction)
        bot.flow.check_channel(requester)
        await interaction.response.defer(thinking=True)
        idea = await _service(bot).another(
            self.idea_id,
            interaction.channel_id or 0,
            interaction.guild_id,
            interaction.user.id,
            requester=requester,
        )
        await interaction.edit_original_response(**idea_message(idea))


BUTTONS = (WriteIdeaButton, SaveIdeaButton, AnotherIdeaButton)


def idea_view(idea_id: int) -> discord.ui.View:
    """The row of buttons under an idea."""
    view = discord.ui.View(timeout=None)
    for button in BUTTONS:
        view.add_item(button(idea_id))
    return view


class IdeasCog(commands.Cog, name=COG_NAME):
    """Writing prompts on demand."""

    def __init__(self, bot: commands.Bot, flow: WriteFlow, service: IdeaService) -> None:
        self._bot = bot
        self._flow = flow
        self.service = service

    async def cog_load(self) -> None:
        """Register the restart-proof buttons."""
        self._bot.add_dynamic_items(*BUTTONS)

    async def cog_unload(self) -> None:
        """Remove the buttons again."""
        self._bot.remove_dynamic_items(*BUTTONS)

    @app_commands.command(name="idea", description="A writing prompt to start from")
    @app_commands.describe(
        genre="Only ideas of this genre",
        theme="Only ideas about this theme (start typing to see the themes)",
        source="Curated prompts that ship with Inkwell, one the AI writes, or either",
    )
    async def idea(
        self,
        interaction: discord.Interaction,
        genre: IdeaGenreChoice = "any",
        theme: Theme | None = None,
        source: SourceChoice = "any",
    ) -> None:
        """Show a writing prompt, with buttons to write it, save it, or get another."""
        requester = requester_of(interaction)
        self._flow.check_channel(requester)
        await interaction.response.defer(thinking=True)
        idea = await self.service.pick(
            interaction.channel_id or 0,
            interaction.guild_id,
            interaction.user.id,
            genre=genre,
            theme=theme,
            source=source,
            requester=requester,
        )
        await interaction.edit_original_response(**idea_message(idea))

    @idea.autocomplete("theme")
    async def theme_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """The themes containing what was typed (at most 25)."""
        return [app_commands.Choice(name=theme, value=theme) for theme in theme_choices(current)]


async def setup(bot: InkwellBot) -> None:
    """Extension entry point: /idea and its buttons."""
    await bot.add_cog(IdeasCog(bot, bot.flow, IdeaService(bot.database, bot.flow)))
