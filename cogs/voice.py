"""/voice card: what a community's voice was built from, how it measured, and how it writes.

The card's numbers are the ones `python -m bot train` measured on its held-out tenth; its
sample poems are the model's text, so they pass through the guild's content filter and are
shown as text (no markdown, no mentions).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import InvalidRequest
from bot.storage import Database
from bot.storage.voices import AdapterRecord
from bot.voice.choice import choosable, voice_of
from bot.writing.flow import WriteFlow
from cogs.private import acknowledge, answer_with
from cogs.safety import channel_is_nsfw

if TYPE_CHECKING:
    from cogs.client import InkwellBot

FIELD_CHARS = 1000  # Discord allows 1024 per embed field


def _plain(text: str) -> str:
    shown = discord.utils.escape_mentions(discord.utils.escape_markdown(text.strip()))
    return (shown[: FIELD_CHARS - 1] + "…") if len(shown) > FIELD_CHARS else shown or "(empty)"


def card_embed(record: AdapterRecord, mask: Callable[[str], str]) -> discord.Embed:
    """The adapter's card as an embed; ``mask`` applies the guild's content filter."""
    card = record.card
    embed = discord.Embed(
        title=f"🎙️ The voice “{record.name}”",
        description=(
            f"Built from {record.authors} author{'s' if record.authors != 1 else ''} as of "
            f"{record.built_at:%Y-%m-%d}: {record.pieces} pieces, on {record.base_model}."
        ),
        colour=discord.Colour.dark_teal(),
    )
    if record.needs_retraining:
        embed.add_field(
            name="⚠️ Marked for retraining",
            value="An author it learned from has since withdrawn or erased their writing.",
            inline=False,
        )
    before, after = card.get("perplexity_before"), card.get("perplexity_after")
    if isinstance(before, int | float) and isinstance(after, int | float):
        embed.add_field(
            name="Perplexity on held-out pieces",
            value=f"{before:.1f} before → **{after:.1f}** after (lower: closer to the voice)",
            inline=False,
        )
    for label, key in (("Before", "samples_before"), ("After", "samples_after")):
        samples = card.get(key)
        if isinstance(samples, list) and samples:
            embed.add_field(
                name=f"{label}: sample poem", value=_plain(mask(str(samples[0]))), inline=True
            )
    steps = card.get("steps")
    if isinstance(steps, int):
        embed.set_footer(text=f"{steps} training steps · seeded samples")
    return embed


@app_commands.guild_only()
class VoiceCog(commands.GroupCog, name="voice", description="This server's own voice"):
    """A community's voice, trained on what its members chose to share."""

    def __init__(self, flow: WriteFlow, database: Database, voices_dir: Path) -> None:
        super().__init__()
        self._flow = flow
        self._database = database
        self._voices_dir = voices_dir

    @app_commands.command(name="card", description="What this server's voice learned from")
    @app_commands.describe(name="A voice of this server (default: the one it writes with)")
    async def card(self, interaction: discord.Interaction, name: str | None = None) -> None:
        """Show a voice's card: its data counts, its perplexities and its samples."""
        await acknowledge(interaction)  # its reads can outlast 3 s on a busy loop
        guild_id = interaction.guild_id
        assert guild_id is not None  # guild_only
        database = self._database
        if name is None:
            record = await voice_of(database, self._voices_dir, guild_id)
            if record is None:
                raise InvalidRequest(
                    "This server writes with the base model. Its admins choose a voice with "
                    "`/settings voice`."
                )
        else:
            options = {r.name: r for r in await choosable(database, self._voices_dir, guild_id)}
            record = options.get(name.strip().lower())
            if record is None:
                raise InvalidRequest(f"There is no voice called {name!r} for this server.")
        nsfw = channel_is_nsfw(interaction.channel)

        def mask(text: str) -> str:
            return self._flow.masked(text, guild_id=guild_id, nsfw=nsfw)

        await answer_with(interaction, embed=card_embed(record, mask))

    @card.autocomplete("name")
    async def _names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        records = await choosable(self._database, self._voices_dir, interaction.guild_id)
        return [
            app_commands.Choice(name=r.name, value=r.name)
            for r in records
            if current.lower() in r.name
        ][:25]


async def setup(bot: InkwellBot) -> None:
    """Extension entry point: /voice."""
    await bot.add_cog(VoiceCog(bot.flow, bot.database, Path(bot.settings.voice.adapters_dir)))
