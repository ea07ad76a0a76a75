"""One place that turns any failure during an interaction into a reply the user can read.

Domain errors (``InkwellError``) carry their own text and are shown only to the user who caused
them; anything else is a bug: the user gets a short apology and the log gets the command, user,
guild and channel. Works whether or not the interaction was already answered.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.errors import InkwellError
from bot.safety import ContentBlocked
from bot.writing.flow import PieceStopped
from cogs.safety import given_back

log = logging.getLogger(__name__)

PIECE_POSTED = "inkwell_piece_posted"  # set in Interaction.extras once a piece is shown

# Discord's own names for permissions whose API names differ.
_PERMISSION_NAMES = {"manage_guild": "Manage Server", "manage_messages": "Manage Messages"}
APOLOGY = "Sorry — something went wrong on my side. It has been logged; please try again."


def user_message_for(error: BaseException) -> str | None:
    """The text to show for an expected error, or None for a bug."""
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        original = error.__cause__ or getattr(error, "original", None)
        if isinstance(original, InkwellError):
            return original.user_message
        if isinstance(error, app_commands.TransformerError):
            return f"I couldn't understand {error.value!r} for that option."
        return None
    if isinstance(error, InkwellError):
        return error.user_message
    if isinstance(error, app_commands.MissingPermissions):
        needed = ", ".join(
            _PERMISSION_NAMES.get(p, p.replace("_", " ").title()) for p in error.missing_permissions
        )
        return f"You need the {needed} permission to do that."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "That only works inside a server."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use that here."
    return None


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the user what went wrong, privately; log bugs with their context."""
    original = getattr(error, "original", error)
    if isinstance(original, PieceStopped):
        return  # the reply itself already says the piece was stopped for a restart
    message = user_message_for(error)
    if message is None:
        command = interaction.command.qualified_name if interaction.command else None
        custom_id = (interaction.data or {}).get("custom_id")
        log.error(
            "Unexpected error in command=%s custom_id=%s user=%s guild=%s channel=%s",
            command,
            custom_id,
            interaction.user.id,
            interaction.guild_id,
            interaction.channel_id,
            exc_info=error,
        )
        message = APOLOGY
    text = f"⚠️ {message}"
    # Text the content filter refused is given back whole, as a file when it is long.
    extra = {"files": given_back(original)} if isinstance(original, ContentBlocked) else {}
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(text, ephemeral=True, **extra)
            return
        # A public "thinking…" placeholder would turn the followup public too: remove it first,
        # unless it already shows (part of) a finished piece.
        deferred = discord.InteractionResponseType.deferred_channel_message
        if interaction.response.type is deferred and not interaction.extras.get(PIECE_POSTED):
            await interaction.delete_original_response()
        await interaction.followup.send(text, ephemeral=True, **extra)
    except discord.HTTPException:
        log.warning("Could not tell user %s about an error: %s", interaction.user.id, message)


class InkwellTree(app_commands.CommandTree):
    """The command tree with Inkwell's error handling."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Route every app-command failure through ``report_error``."""
        await report_error(interaction, error)
