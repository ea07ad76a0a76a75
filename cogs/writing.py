"""Slash commands that write: /poem, /story, /script, /continue, /generate, /help, the
"Continue with Inkwell" message menu; the buttons under a result are registered here too."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import DiscordSettings
from bot.errors import InvalidRequest
from bot.forms import Form, PieceSpec
from bot.generation.types import SamplingParams
from bot.writing.commands import (
    COMMANDS,
    MAX_TEXT_CHARS,
    MAX_TOPIC_CHARS,
    help_lines,
    writing_request,
)
from bot.writing.drafts import Draft
from bot.writing.flow import WriteFlow
from cogs.buttons import BUTTONS
from cogs.destinations import write_reply
from cogs.render import piece_text_of

if TYPE_CHECKING:
    from cogs.client import InkwellBot

MAX_SEED = 2**53 - 1
MENU_CONTEXT_CHARS = 600
PIECE_NUMBER = re.compile(r"^-# ✍ Written by AI .* · piece #([0-9]+)", re.MULTILINE)
PoemFormChoice = Literal["free", "haiku", "limerick", "sonnet", "quatrain"]
GenreChoice = Literal[
    "any", "fantasy", "sci-fi", "mystery", "horror", "romance", "comedy", "fable", "adventure"
]
LengthChoice = Literal["short", "medium", "long"]
Temperature = app_commands.Range[float, 0.0, 2.0]
Seed = app_commands.Range[int, 0, MAX_SEED]
Topic = app_commands.Range[str, 1, MAX_TOPIC_CHARS]
LongText = app_commands.Range[str, 1, MAX_TEXT_CHARS]


def described(command: str) -> dict[str, str]:
    """Option descriptions from the shared command definitions (one source for all fronts)."""
    return {option.name: option.description for option in COMMANDS[command].options}


class WritingCog(commands.Cog, name="Writing"):
    """Everything that asks the model to write."""

    def __init__(self, bot: commands.Bot, flow: WriteFlow, settings: DiscordSettings) -> None:
        self._bot = bot
        self._flow = flow
        self._settings = settings
        self._continue_menu = app_commands.ContextMenu(
            name="Continue with Inkwell", callback=self.continue_message
        )

    async def cog_load(self) -> None:
        """Register the message menu (discord.py can't decorate a cog method with one) and the
        restart-proof buttons."""
        self._bot.tree.add_command(self._continue_menu)
        self._bot.add_dynamic_items(*BUTTONS)

    async def cog_unload(self) -> None:
        """Remove the message menu and the buttons again."""
        self._bot.tree.remove_command(self._continue_menu.name, type=self._continue_menu.type)
        self._bot.remove_dynamic_items(*BUTTONS)

    @app_commands.command(description=COMMANDS["poem"].description)
    @app_commands.describe(**described("poem"))
    async def poem(
        self,
        interaction: discord.Interaction,
        topic: Topic,
        form: PoemFormChoice = "free",
        temperature: Temperature | None = None,
        length: LengthChoice | None = None,
        seed: Seed | None = None,
    ) -> None:
        """Write a poem about a topic."""
        await self._write_command(
            interaction,
            "poem",
            topic=topic,
            form=form,
            temperature=temperature,
            length=length,
            seed=seed,
        )

    @app_commands.command(description=COMMANDS["story"].description)
    @app_commands.describe(**described("story"))
    async def story(
        self,
        interaction: discord.Interaction,
        premise: Topic,
        genre: GenreChoice = "any",
        length: LengthChoice | None = None,
        temperature: Temperature | None = None,
        seed: Seed | None = None,
    ) -> None:
        """Write a short story from a premise."""
        await self._write_command(
            interaction,
            "story",
            premise=premise,
            genre=genre,
            length=length,
            temperature=temperature,
            seed=seed,
        )

    @app_commands.command(description=COMMANDS["script"].description)
    @app_commands.describe(**described("script"))
    async def script(
        self,
        interaction: discord.Interaction,
        premise: Topic,
        characters: app_commands.Range[str, 1, 200] | None = None,
        length: LengthChoice | None = None,
        temperature: Temperature | None = None,
        seed: Seed | None = None,
    ) -> None:
        """Write a short screenplay scene."""
        await self._write_command(
            interaction,
            "script",
            premise=premise,
            characters=characters,
            length=length,
            temperature=temperature,
            seed=seed,
        )

    @app_commands.command(name="continue", description=COMMANDS["continue"].description)
    @app_commands.describe(**described("continue"))
    async def continue_text(
        self,
        interaction: discord.Interaction,
        text: LongText,
        length: LengthChoice | None = None,
        temperature: Temperature | None = None,
        seed: Seed | None = None,
    ) -> None:
        """Carry on your own text."""
        await self._write_command(
            interaction, "continue", text=text, length=length, temperature=temperature, seed=seed
        )

    @app_commands.command(description=COMMANDS["generate"].description)
    @app_commands.describe(**described("generate"))
    async def generate(
        self,
        interaction: discord.Interaction,
        prompt: LongText,
        temperature: Temperature | None = None,
        top_p: app_commands.Range[float, 0.01, 1.0] | None = None,
        top_k: app_commands.Range[int, 0, 200] | None = None,
        max_tokens: app_commands.Range[int, 1, 4096] | None = None,
        seed: Seed | None = None,
    ) -> None:
        """Continue a raw prompt with full control."""
        await self._write_command(
            interaction,
            "generate",
            prompt=prompt,
            temperature=temperature,
            top_p=top_p,
            top_k=top_k,
            max_tokens=max_tokens,
            seed=seed,
        )

    @app_commands.command(name="help", description="What Inkwell can do")
    async def help(self, interaction: discord.Interaction) -> None:
        """What Inkwell can do, in one screen."""
        name = self._flow.writing.model_name
        # With the writer resting (the model failed to load) help still answers.
        writer = (
            f"I write with **{name}**, a small language model running locally."
            if name is not None
            else "My writer is resting right now (its model is not loaded)."
        )
        lines = "\n".join(
            f"• `{line.split(' — ')[0]}` — {line.split(' — ')[1]}" for line in help_lines()
        )
        embed = discord.Embed(
            title="Inkwell — AI-assisted creative writing",
            description=(
                f"{writer}\n\n{lines}\n"
                "• Right-click a message → Apps → **Continue with Inkwell**\n\n"
                "Under every piece: 🔄 **Regenerate** (new seed) · ➡️ **Continue** · "
                "⭐ **Save** to your favourites.\n"
                "Your library: `/favorites` (list, show, remove, export) · `/prompts` (save "
                "and reuse your prompts) · `/remix` (same seed, new settings) · "
                "`/halloffame` · `/privacy` (export or delete your data).\n"
                "The same seed and options write the same piece again. Everything I write "
                "is marked as AI-written, with who asked for it."
            ),
            colour=discord.Colour.blurple(),
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    async def continue_message(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        """Continue the text of any message (message context menu)."""
        text = message.content
        author_id = message.author.id
        if self._bot.user is not None and author_id == self._bot.user.id:
            text = piece_text_of(text)  # continue the piece, not its title and attribution
            author_id = await self._owner_of_posted_piece(message.content) or author_id
        text = text.strip()
        if not text:
            raise InvalidRequest("That message has no text for me to continue.")
        # The ending is what a continuation needs; a whole long message might not fit the
        # model's prompt limit, and the user could not shorten someone else's message.
        text = text[-MENU_CONTEXT_CHARS:]
        spec = PieceSpec(form=Form.CONTINUE, text=text)
        draft = Draft(spec, SamplingParams(), prompt_author_id=author_id)
        await self._write(interaction, draft)

    async def _owner_of_posted_piece(self, content: str) -> int | None:
        """Whose piece one of Inkwell's own messages shows, from its attribution line."""
        found = PIECE_NUMBER.search(content)
        record = await self._flow.find_piece(int(found[1])) if found else None
        return record.user_id if record is not None else None

    # --- shared path -----------------------------------------------------------------------

    async def _write_command(
        self, interaction: discord.Interaction, name: str, **options: object
    ) -> None:
        spec, sampling = writing_request(name, options)
        await self._write(interaction, Draft(spec, sampling))

    async def _write(self, interaction: discord.Interaction, draft: Draft) -> None:
        await write_reply(
            interaction, self._flow, draft, interval=self._settings.stream_edit_interval
        )


async def setup(bot: InkwellBot) -> None:
    """Extension entry point: the writing commands, the message menu and the buttons."""
    await bot.add_cog(WritingCog(bot, bot.flow, bot.settings.discord))
