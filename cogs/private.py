"""Private answers that never keep Discord waiting on a database write.

A command that writes acknowledges first (``acknowledge``: an ephemeral "thinking…"), since a
write may wait up to busy_timeout for another program's lock, past Discord's 3 seconds; then
``answer`` replies privately either way, as the first response or as a followup.
"""

from __future__ import annotations

import discord

NO_PINGS = discord.AllowedMentions.none()


async def acknowledge(interaction: discord.Interaction) -> None:
    """Defer privately, before anything that writes."""
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)


async def answer(interaction: discord.Interaction, text: str) -> None:
    """Reply privately, whether or not the interaction was acknowledged already."""
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)


async def answer_with(
    interaction: discord.Interaction,
    *,
    embed: discord.Embed,
    view: discord.ui.View = discord.utils.MISSING,
) -> None:
    """Reply privately with an embed (and buttons): in the "thinking…" placeholder when the
    interaction was acknowledged, so the buttons live on the one message the user sees."""
    if interaction.response.is_done():
        await interaction.edit_original_response(embed=embed, view=view, allowed_mentions=NO_PINGS)
    else:
        await interaction.response.send_message(
            embed=embed, view=view, ephemeral=True, allowed_mentions=NO_PINGS
        )
