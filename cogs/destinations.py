"""Destinations on Discord: an interaction's reply, or a new post in a channel.

Both stream the same way: the message is edited as text arrives, at most once per
``interval`` seconds (Discord rate-limits edits, and readers can't follow faster), and the
final text replaces it, split over further messages when it is longer than one message, with
the buttons under the last. Every message goes out with ``AllowedMentions.none()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import discord

from bot.errors import GenerationFailed
from bot.writing.destination import DestinationGone, WriteUpdate
from bot.writing.drafts import Draft
from bot.writing.flow import WriteFlow
from bot.writing.requester import Requester
from cogs.buttons import piece_view
from cogs.errors import PIECE_POSTED
from cogs.late_reply import LateDelivery, token_expired, token_too_old
from cogs.render import render_final, render_progress, render_queue, render_unsaved
from cogs.safety import channel_is_nsfw

NO_PINGS = discord.AllowedMentions.none()
T = TypeVar("T")
PLACEHOLDER = "✍ Writing…"
UNKNOWN_MESSAGE = 10008  # Discord's JSON error code: the message, not the channel, is gone
RATE_LIMITED = 429
# How often the finished piece is tried through 429s that outlast discord.py's five tries,
# and the longest wait between tries that is honoured.
FINAL_ATTEMPTS = 5
MAX_HOLD_SECONDS = 30.0

log = logging.getLogger(__name__)


ACKNOWLEDGE_SECONDS = 3.0  # Discord drops an interaction not acknowledged by then


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
        last_edit = hold_until = 0.0
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
            due = now - last_edit >= self._interval or bool(update.queue_position)
            if content != shown and due and now >= hold_until:
                wait = await self._show_progress(content)
                # Timed from the end of the edit: a slow (rate-limited) edit delays the next
                # one rather than letting edits queue up behind it.
                last_edit = time.monotonic()
                if wait:
                    hold_until = last_edit + wait
                else:
                    shown = content
        raise GenerationFailed("The writer stopped without finishing; please try again.")

    async def _show_progress(self, content: str) -> float:
        """Edit the progress in; on a rate limit that discord.py's own retries did not get
        past, skip this edit (a later one shows more anyway) and return how long to hold off."""
        try:
            await self._edit_first(content, None)
        except discord.RateLimited as error:
            log.info("Progress edit rate-limited; holding edits for %.2fs", error.retry_after)
            return error.retry_after
        except discord.HTTPException as error:
            if error.status != RATE_LIMITED:
                raise
            wait = retry_after(error)
            log.info("Progress edit rate-limited; holding edits for %.2fs", wait)
            return wait
        return 0.0

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
        await _past_rate_limits(lambda: self._edit_first(first, None if rest else view))
        self._first_is_final()
        for index, chunk in enumerate(rest):
            last = view if index == len(rest) - 1 else None
            await _past_rate_limits(lambda chunk=chunk, last=last: self._send_more(chunk, last))


class InteractionReply(_StreamedMessage):
    """The reply to a slash command, button or menu: deferred publicly, then edited. Once the
    interaction's token has lapsed (15 minutes), the piece is posted by ``LateDelivery``."""

    def __init__(self, interaction: discord.Interaction, *, interval: float) -> None:
        super().__init__(interval=interval)
        self._interaction = interaction
        self._late: LateDelivery | None = None

    def seconds_to_acknowledge(self) -> float:
        """What is left of Discord's 3 seconds, counted from when Discord made the interaction
        (a busy event loop may have held it long before the handler ran)."""
        age = (discord.utils.utcnow() - self._interaction.created_at).total_seconds()
        return ACKNOWLEDGE_SECONDS - age

    async def accept(self) -> None:
        """Acknowledge within Discord's 3 seconds: a public "thinking…" reply."""
        await self._interaction.response.defer(thinking=True)

    async def stop(self, message: str) -> None:
        """Replace the reply with why the piece stopped (unless it already shows the piece)."""
        if self._final_begun or self._token_lapsed():
            return
        await self._interaction.edit_original_response(
            content=message, view=None, allowed_mentions=NO_PINGS
        )

    async def _edit_first(self, content: str, view: discord.ui.View | None) -> None:
        if not self._token_lapsed():
            try:
                await self._interaction.edit_original_response(
                    content=content, view=view, allowed_mentions=NO_PINGS
                )
                return
            except discord.HTTPException as error:
                self._on_refused(error)
        # Progress is not posted late: one message with the finished piece is enough.
        if self._final_begun and self._late is not None:
            await self._late.send(content, view)

    def _first_is_final(self) -> None:
        # From here on the reply holds real text: an error must not delete it as a placeholder.
        self._interaction.extras[PIECE_POSTED] = True

    async def _send_more(self, content: str, view: discord.ui.View | None) -> None:
        if not self._token_lapsed():
            try:
                await self._followup(content, view)
                return
            except discord.HTTPException as error:
                self._on_refused(error)
        assert self._late is not None
        await self._late.send(content, view)

    async def _followup(self, content: str, view: discord.ui.View | None) -> None:
        if view is None:
            await self._interaction.followup.send(content, allowed_mentions=NO_PINGS)
        else:
            await self._interaction.followup.send(content, view=view, allowed_mentions=NO_PINGS)

    def _token_lapsed(self) -> bool:
        """Whether the token is known to be gone, or too old to start another call with."""
        if self._late is None and token_too_old(self._interaction):
            log.info("Interaction %s is near its 15 minutes: posting late", self._interaction.id)
            self._late = LateDelivery(self._interaction)
        return self._late is not None

    def _on_refused(self, error: discord.HTTPException) -> None:
        """Switch to a late delivery if Discord refused the token; re-raise anything else."""
        if not token_expired(error):
            raise error
        log.info("Interaction %s token expired: posting late", self._interaction.id)
        self._late = LateDelivery(self._interaction)


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


async def _past_rate_limits(send: Callable[[], Awaitable[None]]) -> None:
    """Send a part of the finished piece, waiting out rate limits beyond discord.py's own
    retries: the piece must arrive, and arrive once (a 429 means nothing was changed)."""
    for attempt in range(FINAL_ATTEMPTS):
        try:
            await send()
            return
        except discord.RateLimited as error:
            if attempt == FINAL_ATTEMPTS - 1:
                raise
            wait = error.retry_after
        except discord.HTTPException as error:
            if error.status != RATE_LIMITED or attempt == FINAL_ATTEMPTS - 1:
                raise
            wait = retry_after(error)
        log.info("Final piece rate-limited; retrying in %.2fs", wait)
        await asyncio.sleep(wait)


def retry_after(error: discord.HTTPException) -> float:
    """Seconds Discord asked us to wait, from a 429's headers (1 s if it said nothing)."""
    headers = error.response.headers
    for name in ("X-RateLimit-Reset-After", "Retry-After"):
        with contextlib.suppress(KeyError, TypeError, ValueError):
            return min(max(float(headers[name]), 0.0), MAX_HOLD_SECONDS)
    return 1.0


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
