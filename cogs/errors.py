"""One place that turns any failure during an interaction into a reply the user can read.

Domain errors (``InkwellError``) carry their own text and are shown only to the user who caused
them; anything else is a bug: the user gets a short apology and the log gets the command, user,
guild and channel. Works whether or not the interaction was already answered.

Every interaction that ends here, or in ``answering`` (components) or the bot's
``on_app_command_completion`` (commands that succeeded), gets one log line with its name,
user, guild, outcome and latency, through the bot's ``InteractionLog``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import discord
from discord import app_commands

from bot.errors import InkwellError
from bot.ops.interactions import (
    ERROR,
    EXPIRED,
    OK,
    REFUSED,
    STOPPED,
    InteractionLog,
    component_name,
)
from bot.safety import ContentBlocked
from bot.writing.flow import PieceStopped
from cogs.access import OwnerOnly
from cogs.safety import given_back

log = logging.getLogger(__name__)

PIECE_POSTED = "inkwell_piece_posted"  # set in Interaction.extras once a piece is shown
STARTED = "inkwell_started"  # perf_counter() when the handler began, in Interaction.extras

# Discord's own names for permissions whose API names differ.
_PERMISSION_NAMES = {"manage_guild": "Manage Server", "manage_messages": "Manage Messages"}
UNKNOWN_INTERACTION = 10062  # Discord's code for an interaction it no longer knows
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
    if isinstance(error, OwnerOnly):
        return OwnerOnly.user_message
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use that here."
    return None


def interaction_finished(interaction: discord.Interaction, outcome: str) -> None:
    """Write the interaction's line (and count it) through the client's ``InteractionLog``,
    if it has one. The latency runs from ``STARTED`` in its extras, else from Discord's own
    timestamp of the interaction."""
    journal = getattr(interaction.client, "interactions", None)
    if not isinstance(journal, InteractionLog):
        return
    started = interaction.extras.get(STARTED)
    if isinstance(started, float):
        seconds = time.perf_counter() - started
    else:
        seconds = max((discord.utils.utcnow() - interaction.created_at).total_seconds(), 0.0)
    if interaction.command is not None:
        kind, name = "command", interaction.command.qualified_name
    else:
        custom_id = str((interaction.data or {}).get("custom_id", "?"))
        is_modal = interaction.type is discord.InteractionType.modal_submit
        kind, name = ("modal" if is_modal else "button"), component_name(custom_id)
    journal.finished(
        kind=kind,
        name=name,
        user_id=interaction.user.id,
        guild_id=interaction.guild_id,
        outcome=outcome,
        seconds=seconds,
    )


def _counted(interaction: discord.Interaction, error: BaseException) -> None:
    journal = getattr(interaction.client, "interactions", None)
    if isinstance(journal, InteractionLog):
        original = getattr(error, "original", None)
        journal.error(original if isinstance(original, BaseException) else error)


@asynccontextmanager
async def answering(interaction: discord.Interaction) -> AsyncIterator[None]:
    """Run a button's or modal's handler inside: a failure is reported like a slash
    command's, and either way the interaction gets its log line."""
    interaction.extras.setdefault(STARTED, time.perf_counter())
    try:
        yield
    except Exception as error:  # every failure gets a reply and a log line
        await report_error(interaction, error)
    else:
        interaction_finished(interaction, OK)


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the user what went wrong, privately; log bugs with their context."""
    original = getattr(error, "original", error)
    if isinstance(original, PieceStopped):
        # The reply itself already says the piece was stopped for a restart.
        interaction_finished(interaction, STOPPED)
        return
    if isinstance(original, discord.NotFound) and original.code == UNKNOWN_INTERACTION:
        # Discord dropped it before we acknowledged (a busy loop held it past 3 s): there is
        # nothing left to answer, an apology included. One line, not a traceback.
        age = (discord.utils.utcnow() - interaction.created_at).total_seconds()
        log.warning("Interaction %s was %.1f s old: Discord had dropped it", interaction.id, age)
        interaction_finished(interaction, EXPIRED)
        return
    message = user_message_for(error)
    _counted(interaction, error)
    interaction_finished(interaction, ERROR if message is None else REFUSED)
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
    """The command tree with Inkwell's error handling and its line per command."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Note when the command began, for its latency; every command may run."""
        interaction.extras[STARTED] = time.perf_counter()
        return True

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Route every app-command failure through ``report_error``."""
        await report_error(interaction, error)
