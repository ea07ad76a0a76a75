"""/remix and /halloffame: reworking recorded pieces, and celebrating the best.

Both follow the one visibility rule (``bot.library.visibility``): a member works with their
own pieces and with pieces from channels they can view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.library.rules import remix_changes
from bot.library.visibility import visible_only
from bot.storage import Database
from bot.writing.drafts import remix_draft
from bot.writing.flow import WriteFlow
from cogs.access import channel_access, visible_piece
from cogs.destinations import write_reply
from cogs.library_render import hall_of_fame_embed

if TYPE_CHECKING:
    from cogs.client import InkwellBot

NO_PINGS = discord.AllowedMentions.none()
MAX_ID = 2**53 - 1
HALL_OF_FAME_SIZE = 10
HALL_OF_FAME_CANDIDATES = 5  # times the size: enough left after hiding private channels


class LibraryCog(commands.Cog, name="Library"):
    """Working with recorded pieces: remixing them and celebrating the best."""

    def __init__(self, flow: WriteFlow, database: Database, interval: float) -> None:
        self._flow = flow
        self._database = database
        self._interval = interval

    @app_commands.command(
        name="remix", description="Write a piece again with the same seed and new settings"
    )
    @app_commands.rename(piece_id="id")
    @app_commands.describe(
        piece_id="The piece's number (shown under it as “piece #…”)",
        temperature="Creativity: 0 = safe and repetitive, 2 = wild",
        top_p="Nucleus sampling: keep this much probability mass",
        top_k="Pick only among the k likeliest words",
        max_tokens="Most new tokens to write",
    )
    async def remix(
        self,
        interaction: discord.Interaction,
        piece_id: app_commands.Range[int, 1, MAX_ID],
        temperature: app_commands.Range[float, 0.0, 2.0] | None = None,
        top_p: app_commands.Range[float, 0.01, 1.0] | None = None,
        top_k: app_commands.Range[int, 0, 200] | None = None,
        max_tokens: app_commands.Range[int, 1, 4096] | None = None,
    ) -> None:
        """Rerun one of your pieces, or one from a channel you can see, with new settings."""
        changes = remix_changes(temperature, top_p, top_k, max_tokens)
        piece = await visible_piece(interaction, self._flow, piece_id)
        draft = remix_draft(piece, changes)
        await write_reply(interaction, self._flow, draft, interval=self._interval)

    @app_commands.command(name="halloffame", description="This server's most-starred pieces")
    @app_commands.guild_only()
    async def hall_of_fame(self, interaction: discord.Interaction) -> None:
        """Show the most-starred pieces you can see here (only to you: others see other
        channels)."""
        assert interaction.guild_id is not None  # guild_only
        # Acknowledge first: checking channels may ask Discord about uncached ones.
        await interaction.response.defer(ephemeral=True, thinking=True)
        # Fetch more than are shown: some may be from channels this member can't see.
        entries = await self._database.favorites.hall_of_fame(
            interaction.guild_id, HALL_OF_FAME_SIZE * HALL_OF_FAME_CANDIDATES
        )
        visible = await visible_only(
            entries, lambda entry: entry.piece, interaction.user.id, channel_access(interaction)
        )
        name = interaction.guild.name if interaction.guild else "this server"
        shown = [(entry.piece, entry.stars) for entry in visible[:HALL_OF_FAME_SIZE]]
        await interaction.followup.send(
            embed=hall_of_fame_embed(shown, name), ephemeral=True, allowed_mentions=NO_PINGS
        )


async def setup(bot: InkwellBot) -> None:
    """Extension entry point: /remix and /halloffame."""
    await bot.add_cog(LibraryCog(bot.flow, bot.database, bot.settings.discord.stream_edit_interval))
