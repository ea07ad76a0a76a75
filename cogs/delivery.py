"""Stream a piece into an interaction's reply, then post the finished piece with its buttons.

The reply is edited as text arrives, at most once per ``interval`` seconds (Discord rate-limits
edits, and readers can't follow faster); the final text replaces it, split over follow-up
messages when it is longer than one message.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import discord

from bot.errors import GenerationFailed
from bot.storage import GenerationRecord
from bot.writing.flow import StudioUpdate
from cogs.buttons import piece_view
from cogs.errors import PIECE_POSTED
from cogs.render import render_final, render_progress, render_queue

NO_PINGS = discord.AllowedMentions.none()


async def deliver(
    interaction: discord.Interaction,
    title: str,
    updates: AsyncIterator[StudioUpdate],
    *,
    interval: float,
) -> GenerationRecord:
    """Show ``updates`` in the (already deferred) reply of ``interaction``."""
    last_edit = 0.0
    shown = ""
    async for update in updates:
        if update.piece is not None and update.record is not None:
            await _send_final(interaction, update)
            return update.record
        if update.queue_position is not None:
            content = render_queue(title, update.queue_position)
        elif update.text:
            content = render_progress(title, update.text)
        else:
            continue
        now = time.monotonic()
        if content != shown and (now - last_edit >= interval or update.queue_position):
            await interaction.edit_original_response(content=content, allowed_mentions=NO_PINGS)
            shown, last_edit = content, now
    raise GenerationFailed("The writer stopped without finishing; please try again.")


async def _send_final(interaction: discord.Interaction, update: StudioUpdate) -> None:
    assert update.piece is not None and update.record is not None
    chunks = render_final(update.piece, update.record)
    view = piece_view(update.record.id)
    first, rest = chunks[0], chunks[1:]
    await interaction.edit_original_response(
        content=first, view=None if rest else view, allowed_mentions=NO_PINGS
    )
    # From here on the reply holds real text: an error must not delete it as a placeholder.
    interaction.extras[PIECE_POSTED] = True
    for index, chunk in enumerate(rest):
        last = index == len(rest) - 1
        if last:
            await interaction.followup.send(chunk, view=view, allowed_mentions=NO_PINGS)
        else:
            await interaction.followup.send(chunk, allowed_mentions=NO_PINGS)
