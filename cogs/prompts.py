"""/prompts save|list|use|delete|rename: named prompts each user keeps for themselves.

Everything is private (ephemeral, looked up by the asking user's id) except the piece that
``/prompts use`` writes, which goes through the write flow like any command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.forms.spec import shorten
from bot.library.rules import prompt_options, saved_prompt_request
from bot.storage import MAX_NAME_CHARS, Database, NotFound, SavedPrompt
from bot.writing.commands import MAX_TEXT_CHARS
from bot.writing.drafts import Draft
from bot.writing.flow import WriteFlow
from cogs.destinations import write_reply
from cogs.private import acknowledge, answer, answer_with

if TYPE_CHECKING:
    from cogs.client import InkwellBot

NO_PINGS = discord.AllowedMentions.none()
LIST_LIMIT = 3900  # characters of an embed description, leaving room for "…and N more"
FormChoice = Literal["poem", "story", "script", "continue", "generate"]
PoemFormChoice = Literal["free", "haiku", "limerick", "sonnet", "quatrain"]
GenreChoice = Literal[
    "any", "fantasy", "sci-fi", "mystery", "horror", "romance", "comedy", "fable", "adventure"
]
Name = app_commands.Range[str, 1, MAX_NAME_CHARS]


def describe_prompt(prompt: SavedPrompt) -> str:
    """``poem (haiku)`` — the form and its options, for lists and confirmations."""
    extras = ", ".join(str(value) for value in prompt.options.values())
    return f"{prompt.form} ({extras})" if extras else prompt.form


def prompts_list_text(prompts: list[SavedPrompt]) -> str:
    """One line per saved prompt, cut short (with a count) to fit one embed."""
    if not prompts:
        return "You have no saved prompts yet. Save one with `/prompts save`."
    lines: list[str] = []
    used = 0
    for index, prompt in enumerate(prompts):
        line = (
            f"• **{discord.utils.escape_markdown(prompt.name)}** — {describe_prompt(prompt)}: "
            f"{discord.utils.escape_markdown(shorten(prompt.text, 60))}"
        )
        if used + len(line) + 1 > LIST_LIMIT:
            lines.append(f"…and {len(prompts) - index} more (type a name in `/prompts use`).")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


class PromptsCog(commands.GroupCog, name="prompts", description="Your saved prompts"):
    """Saved prompts: private to each user."""

    def __init__(self, flow: WriteFlow, database: Database, interval: float) -> None:
        super().__init__()
        self._flow = flow
        self._database = database
        self._interval = interval

    @app_commands.command(name="save", description="Save a prompt under a name to reuse later")
    @app_commands.describe(
        name="A short name to find it by",
        text="The topic, premise or text, as you'd give it to the command",
        form="Which command it is for",
        poem_form="For poems: the poem's form",
        genre="For stories: the genre",
        characters="For scripts: character names, separated by commas",
        replace="Overwrite your saved prompt with the same name",
    )
    async def save(
        self,
        interaction: discord.Interaction,
        name: Name,
        text: app_commands.Range[str, 1, MAX_TEXT_CHARS],
        form: FormChoice,
        poem_form: PoemFormChoice | None = None,
        genre: GenreChoice | None = None,
        characters: app_commands.Range[str, 1, 200] | None = None,
        replace: bool = False,
    ) -> None:
        """Save a prompt, checked like the command it is for."""
        options = prompt_options(poem_form=poem_form, genre=genre, characters=characters)
        saved_prompt_request(form, text, options)  # refuse now what /prompts use would refuse
        await acknowledge(interaction)
        prompt = await self._database.prompts.save(
            interaction.user.id, name, text, form, options, replace=replace
        )
        await self._reply(
            interaction,
            f"Saved “{discord.utils.escape_markdown(prompt.name)}” "
            f"({describe_prompt(prompt)}). Write it with `/prompts use`.",
        )

    @app_commands.command(name="list", description="Your saved prompts")
    async def list_prompts(self, interaction: discord.Interaction) -> None:
        """List your saved prompts."""
        await acknowledge(interaction)  # its reads can outlast 3 s on a busy loop
        prompts = await self._database.prompts.list(interaction.user.id)
        embed = discord.Embed(
            title=f"📝 Your saved prompts ({len(prompts)})",
            description=prompts_list_text(prompts),
            colour=discord.Colour.blurple(),
        )
        await answer_with(interaction, embed=embed)

    @app_commands.command(name="use", description="Write a piece from one of your saved prompts")
    @app_commands.describe(name="The saved prompt (start typing to pick one)")
    async def use(self, interaction: discord.Interaction, name: Name) -> None:
        """Write with a saved prompt, exactly as its command would."""
        prompt = await self._own_prompt(interaction, name)
        spec, sampling = saved_prompt_request(prompt.form, prompt.text, prompt.options)
        await write_reply(interaction, self._flow, Draft(spec, sampling), interval=self._interval)

    @app_commands.command(name="delete", description="Delete one of your saved prompts")
    @app_commands.describe(name="The saved prompt (start typing to pick one)")
    async def delete(self, interaction: discord.Interaction, name: Name) -> None:
        """Delete a saved prompt."""
        await acknowledge(interaction)
        if not await self._database.prompts.delete(interaction.user.id, name):
            raise self._not_found(name)
        await self._reply(
            interaction, f"Deleted your saved prompt “{discord.utils.escape_markdown(name)}”."
        )

    @app_commands.command(name="rename", description="Give one of your saved prompts a new name")
    @app_commands.describe(old="The saved prompt (start typing to pick one)", new="Its new name")
    async def rename(self, interaction: discord.Interaction, old: Name, new: Name) -> None:
        """Rename a saved prompt."""
        await acknowledge(interaction)
        prompt = await self._database.prompts.rename(interaction.user.id, old, new)
        await self._reply(
            interaction,
            f"Renamed “{discord.utils.escape_markdown(old.strip())}” to "
            f"“{discord.utils.escape_markdown(prompt.name)}”.",
        )

    @use.autocomplete("name")
    @delete.autocomplete("name")
    @rename.autocomplete("old")
    async def name_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """The asking user's own prompt names containing what they typed (at most 25)."""
        names = await self._database.prompts.autocomplete(interaction.user.id, str(current))
        return [app_commands.Choice(name=name, value=name) for name in names[:25]]

    async def _own_prompt(self, interaction: discord.Interaction, name: str) -> SavedPrompt:
        prompt = await self._database.prompts.get(interaction.user.id, name)
        if prompt is None:
            raise self._not_found(name)
        return prompt

    @staticmethod
    def _not_found(name: str) -> NotFound:
        return NotFound(
            f"You don't have a saved prompt called “{name.strip()}”. "
            "`/prompts list` shows the ones you have."
        )

    @staticmethod
    async def _reply(interaction: discord.Interaction, text: str) -> None:
        await answer(interaction, text)


async def setup(bot: InkwellBot) -> None:
    """Extension entry point: /prompts."""
    await bot.add_cog(PromptsCog(bot.flow, bot.database, bot.settings.discord.stream_edit_interval))
