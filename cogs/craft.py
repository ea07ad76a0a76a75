"""/check (the poetry coach) and /score (the model's perplexity of a text): thin adapters over
bot.craft. Both answer privately unless the user asks to share."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.craft.coach import MAX_POEM_CHARS, Coach, poem_from_option, validate_poem
from bot.craft.render import render_check, render_score
from bot.craft.score import explain
from bot.forms import PoemForm
from bot.forms.constraint import warm_up
from bot.writing.pieces import WritingService
from cogs.errors import answering
from cogs.private import NO_PINGS

if TYPE_CHECKING:
    from cogs.client import InkwellBot

CheckForm = Literal["haiku", "limerick", "quatrain", "sonnet", "free"]
PoemText = app_commands.Range[str, 1, MAX_POEM_CHARS]
POEM_INPUT_ID = "poem"

Checked = Callable[[discord.Interaction, PoemForm, str, bool], Awaitable[None]]


class PoemModal(discord.ui.Modal):
    """A box to paste a poem into, line breaks and all."""

    def __init__(self, poem_form: PoemForm, share: bool, checked: Checked) -> None:
        super().__init__(title=f"Check a {poem_form.value}"[:45], custom_id="inkwell:check:poem")
        self._poem_form = poem_form
        self._share = share
        self._checked = checked
        self.poem: discord.ui.TextInput[PoemModal] = discord.ui.TextInput(
            label="Your poem",
            custom_id=POEM_INPUT_ID,
            style=discord.TextStyle.paragraph,
            max_length=MAX_POEM_CHARS,
        )
        self.add_item(self.poem)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Check the poem that was typed in (failures are answered as a command's are)."""
        async with answering(interaction):
            await self._checked(interaction, self._poem_form, self.poem.value, self._share)


class CraftCog(commands.Cog, name="Craft"):
    """The poetry coach and the perplexity score."""

    def __init__(self, coach: Coach, writing: WritingService) -> None:
        self._coach = coach
        self._writing = writing
        self._warming: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        """Load the pronouncing dictionary and rhyme index in the background (seconds), so
        the first form-true poem or /check doesn't stall the writer."""
        self._warming = asyncio.create_task(asyncio.to_thread(warm_up))

    async def cog_unload(self) -> None:
        """Let a warm-up still running finish on its thread; nothing waits for it."""
        self._warming = None

    @app_commands.command(description="Check a poem's form: syllables, rhymes and a fix")
    @app_commands.describe(
        form="The form to check against",
        text="Your poem, lines separated by / (leave out to paste it into a box)",
        share="Post the check for everyone in the channel (default: only you see it)",
    )
    async def check(
        self,
        interaction: discord.Interaction,
        form: CheckForm = "haiku",
        text: PoemText | None = None,
        share: bool = False,
    ) -> None:
        """Check a poem's form: syllables, rhymes and a suggested fix."""
        poem_form = PoemForm(form)
        if text is None:
            await interaction.response.send_modal(PoemModal(poem_form, share, self._checked))
            return
        await self._checked(interaction, poem_form, poem_from_option(text), share)

    async def _checked(
        self, interaction: discord.Interaction, poem_form: PoemForm, text: str, share: bool
    ) -> None:
        validate_poem(text)  # refused privately, before anything is shown
        await interaction.response.defer(ephemeral=not share, thinking=True)
        coached = await self._coach.check(poem_form, text)
        await interaction.followup.send(
            render_check(coached), ephemeral=not share, allowed_mentions=NO_PINGS
        )

    @app_commands.command(description="How predictable the model finds a text, in plain words")
    @app_commands.describe(
        text="The text to score (lines may be separated by /)",
        share="Post the score for everyone in the channel (default: only you see it)",
    )
    async def score(
        self, interaction: discord.Interaction, text: PoemText, share: bool = False
    ) -> None:
        """How predictable the model finds a text (its perplexity), in plain words."""
        await interaction.response.defer(ephemeral=not share, thinking=True)
        result = await self._writing.score(poem_from_option(text))
        await interaction.followup.send(
            render_score(explain(result)), ephemeral=not share, allowed_mentions=NO_PINGS
        )


async def setup(bot: InkwellBot) -> None:
    """Extension entry point: /check and /score."""
    writing = bot.flow.writing
    await bot.add_cog(CraftCog(Coach(writing), writing))
