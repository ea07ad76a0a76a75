"""Destinations on Discord: an interaction's reply, or a new post in a channel.

Both stream the same way: the message is edited as text arrives, at most once per
``interval`` seconds (Discord rate-limits edits, and readers can't follow faster), and the
final text replaces it, split over further messages when it is longer than one message, with
the buttons under the last. Every message goes out with ``AllowedMentions.none()``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

import discord

from bot.errors import GenerationFailed
from bot.writing.destination import DestinationGone, WriteUpdate
from bot.writing.drafts import Draft
from bot.writing.flow import WriteFlow
from bot.writing.requester import Requester
from cogs.buttons import piece_view
from cogs.errors import PIECE_POSTED
from cogs.render import render_final, render_progress, render_queue, render_unsaved
from cogs.safety import channel_is_nsfw

NO_PINGS = discord.AllowedMentions.none()
T = TypeVar("T")
PLACEHOLDER = "✍ Writing…"
UNKNOWN_MESSAGE = 10008  # Discord's JSON error code: the message, not the channel, is gone


class _StreamedMessage:
    """The streaming shared by both destinations; subclasses say how to edit the first
    message and how to send another."""

    def __init__(self, *, interval: float) -> None:
        self._interval = interval
        self._final_begun = False

    async def _edit_first(self, content: str, view: discord.ui.View | None) -> None:
        raise NotImplementedError

    async def _send_more(self, content: str, view: discord.ui.View | None) -> None:
        raise NotImplementedError

    def _first_is_final(self) -> None:
        """Called once the first message holds real text."""

    async def deliver(self, title: str, updates: AsyncIterator[WriteUpdate]) -> None:
        """Show ``updates``; the finished piece with its buttons at the end."""
        last_edit = 0.0
        shown = ""
        async for update in updates:
            if update.piece is not None:
                await self._send_final(update)
                return
            if update.queue_position is not None:
                content = render_queue(title, update.queue_position)
            elif update.text:
                content = render_progress(title, update.text)
            else:
                continue
            now = time.monotonic()
            if content != shown and (now - last_edit >= self._interval or update.queue_position):
                await self._edit_first(content, None)
                shown, last_edit = content, now
        raise GenerationFailed("The writer stopped without finishing; please try again.")

    async def _send_final(self, update: WriteUpdate) -> None:
        assert update.piece is not None
        if update.record is not None:
            chunks = render_final(update.piece, update.record)
            view: discord.ui.View | None = piece_view(update.record.id)
        else:
            chunks = render_unsaved(update.piece, update.unsaved_reason or "not saved")
            view = None
        first, rest = chunks[0], chunks[1:]
        # From here on the first message is the stored piece: stop() must not overwrite it.
        self._final_begun = True
        await self._edit_first(first, None if rest else view)
        self._first_is_final()
        for index, chunk in enumerate(rest):
            await self._send_more(chunk, view if index == len(rest) - 1 else None)


class InteractionReply(_StreamedMessage):
    """The reply to a slash command, button or menu: deferred publicly, then edited."""

    def __init__(self, interaction: discord.Interaction, *, interval: float) -> None:
        super().__init__(interval=interval)
        self._interaction = interaction

    async def accept(self) -> None:
        """Acknowledge within Discord's 3 seconds: a public "thinking…" reply."""
        await self._interaction.response.defer(thinking=True)

    async def stop(self, message: str) -> None:
        """Replace the reply with why the piece stopped (unless it already shows the piece)."""
        if self._final_begun:
            return
        await self._interaction.edit_original_response(
            content=message, view=None, allowed_mentions=NO_PINGS
        )

    async def _edit_first(self, content: str, view: discord.ui.View | None) -> None:
        await self._interaction.edit_original_response(
            content=content, view=view, allowed_mentions=NO_PINGS
        )

    def _first_is_final(self) -> None:
        # From here on the reply holds real text: an error must not delete it as a placeholder.
        self._interaction.extras[PIECE_POSTED] = True

    async def _send_more(self, content: str, view: discord.ui.View | None) -> None:
        if view is None:
            await self._interaction.followup.send(content, allowed_mentions=NO_PINGS)
        else:
            await self._interaction.followup.send(content, view=view, allowed_mentions=NO_PINGS)


class ChannelPost(_StreamedMessage):
    """A new message in a channel, for pieces no interaction asked for (a game's turn, a
    prompt of the day). A channel that is gone, or where the bot may no longer post, raises
    ``DestinationGone`` so the caller can pause whatever posts there instead of retrying."""

    def __init__(self, channel: discord.abc.Messageable, *, interval: float) -> None:
        super().__init__(interval=interval)
        self._channel = channel
        self._message: discord.Message | None = None

    @property
    def message(self) -> discord.Message | None:
        """The first message of the post, once sent."""
        return self._message

    async def accept(self) -> None:
        """Post the placeholder that the piece will stream into."""
        self._message = await self._call(self._channel.send(PLACEHOLDER, allowed_mentions=NO_PINGS))

    async def stop(self, message: str) -> None:
        """Replace the placeholder with why the piece stopped (unless it shows the piece)."""
        if self._message is not None and not self._final_begun:
            await self._call(self._message.edit(content=message, allowed_mentions=NO_PINGS))

    async def _edit_first(self, content: str, view: discord.ui.View | None) -> None:
        if self._message is None:
            await self.accept()
        assert self._message is not None
        try:
            # content= every time: only then does discord.py apply allowed_mentions.
            edit = self._message.edit(content=content, view=view, allowed_mentions=NO_PINGS)
            self._message = await self._call(edit)
        except DestinationGone as gone:
            if not _message_deleted(gone.__cause__):
                raise
            # Someone deleted the placeholder, not the channel: carry on in a new message.
            self._message = await self._call(self._send(content, view))

    async def _send_more(self, content: str, view: discord.ui.View | None) -> None:
        await self._call(self._send(content, view))

    def _send(self, content: str, view: discord.ui.View | None) -> Awaitable[discord.Message]:
        return self._channel.send(content, view=view, allowed_mentions=NO_PINGS)  # type: ignore[call-overload]

    @staticmethod
    async def _call(request: Awaitable[T]) -> T:
        try:
            return await request
        except discord.Forbidden as error:
            raise DestinationGone(
                "I'm not allowed to post in that channel any more "
                f"({error.text or 'missing permissions'})."
            ) from error
        except discord.NotFound as error:
            if error.code == UNKNOWN_MESSAGE:
                raise DestinationGone("That message no longer exists.") from error
            raise DestinationGone("That channel no longer exists.") from error


def _message_deleted(error: BaseException | None) -> bool:
    return isinstance(error, discord.NotFound) and error.code == UNKNOWN_MESSAGE


def requester_of(interaction: discord.Interaction) -> Requester:
    """The member (or user, in a DM) behind an interaction, and where they asked."""
    channel = interaction.channel
    return Requester.user(
        interaction.user.id,
        interaction.user.display_name,
        guild_id=interaction.guild_id,
        channel_id=interaction.channel_id,
        parent_channel_id=getattr(channel, "parent_id", None),
        nsfw=channel_is_nsfw(channel),
    )


async def write_reply(
    interaction: discord.Interaction, flow: WriteFlow, draft: Draft, *, interval: float
) -> None:
    """Write ``draft`` for whoever interacted, into the interaction's reply."""
    await flow.write(
        requester_of(interaction), InteractionReply(interaction, interval=interval), draft
    )
