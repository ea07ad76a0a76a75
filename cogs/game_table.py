"""A game's table on Discord: the lobby message, a fresh board each turn, the finished poem.

The message that carries the game's buttons is the one the service stores; when a turn moves
on, its buttons are taken off and a new board is posted at the bottom of the channel, so the
game never scrolls out of sight. Everything is a plain channel message (not an interaction
reply), so it can be edited long after the 15 minutes an interaction token lasts, and after a
restart.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

import discord

from bot.games.events import (
    AISkipped,
    Event,
    Left,
    LineAdded,
    RoundClosed,
    Skipped,
    Started,
    TimedOut,
)
from bot.games.model import Status
from bot.games.service import StoredGame
from bot.storage import Database, GenerationRecord
from bot.writing.destination import DestinationGone
from cogs.buttons import SaveButton
from cogs.game_buttons import board_view, lobby_view
from cogs.game_render import (
    board_content,
    board_embed,
    embed_messages,
    lobby_embed,
    poem_embeds,
)

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()
UNKNOWN_MESSAGE = 10008
# Moves after which the game needs a new board at the bottom of the channel.
TURN_EVENTS = (LineAdded, TimedOut, Skipped, AISkipped, RoundClosed, Left)
T = TypeVar("T")


class DiscordTable:
    """Shows games in their channels."""

    def __init__(self, client: discord.Client, database: Database) -> None:
        self._client = client
        self._database = database

    async def show(
        self, stored: StoredGame, events: tuple[Event, ...], poem: GenerationRecord | None
    ) -> int | None:
        """Show the game after a move; returns the id of the message with its buttons."""
        game = stored.game
        channel = self._client.get_partial_messageable(stored.channel_id, guild_id=stored.guild_id)
        if game.status is Status.LOBBY:
            embed = lobby_embed(stored)
            if stored.message_id is not None and await self._edit(
                channel, stored.message_id, embed=embed, view=lobby_view(stored.id)
            ):
                return None
            message = await _call(
                channel.send(embed=embed, view=lobby_view(stored.id), allowed_mentions=NO_PINGS)
            )
            return message.id
        if game.status is Status.CANCELLED:
            await self._retire(channel, stored, lobby=not game.started)
            note = f" {game.end_note}" if game.end_note else ""
            await _call(
                channel.send(
                    f"🛑 Game #{stored.id} was cancelled.{note}", allowed_mentions=NO_PINGS
                )
            )
            return None
        if any(isinstance(event, Started) for event in events):
            await self._retire(channel, stored, lobby=True)
            return await self._new_board(channel, stored, events)
        if game.status is Status.FINISHED:
            await self._retire(channel, stored, lobby=False)
            return await self._post_poem(channel, stored, events, poem)
        if any(isinstance(event, TURN_EVENTS) for event in events):
            await self._retire(channel, stored, lobby=False)
            return await self._new_board(channel, stored, events)
        # Within a turn (a vote, a proposal) the board is redrawn in place; its text, which
        # holds the notices of the move that began the turn, stays.
        if stored.message_id is not None and await self._edit(
            channel, stored.message_id, embed=board_embed(stored), view=board_view(stored)
        ):
            return None
        return await self._new_board(channel, stored, events)

    async def _new_board(
        self, channel: discord.PartialMessageable, stored: StoredGame, events: tuple[Event, ...]
    ) -> int:
        message = await _call(
            channel.send(
                board_content(stored, events) or None,
                embed=board_embed(stored),
                view=board_view(stored),
                allowed_mentions=NO_PINGS,
            )
        )
        return message.id

    async def _post_poem(
        self,
        channel: discord.PartialMessageable,
        stored: StoredGame,
        events: tuple[Event, ...],
        poem: GenerationRecord | None,
    ) -> int | None:
        notices = board_content(stored, events)
        if poem is None:
            poem_record = None
        else:
            poem_record = await self._database.games.anthology_poem(poem.id)
        if poem is None or poem_record is None:
            # Stored without a poem row (should not happen): say so rather than stay silent.
            await _call(channel.send(f"📜 Game #{stored.id} is over.", allowed_mentions=NO_PINGS))
            return None
        view = discord.ui.View(timeout=None)
        view.add_item(SaveButton(poem.id))
        # A long poem takes several messages; the last carries the authors and ⭐ Save.
        groups = embed_messages(poem_embeds(stored.game, poem, poem_record.lines))
        content: str | None = (notices + "\n" if notices else "") + "📜 The poem is finished!"
        message: discord.Message | None = None
        for index, embeds in enumerate(groups):
            last = index == len(groups) - 1
            message = await _call(
                channel.send(
                    content,
                    embeds=embeds,
                    view=view if last else discord.utils.MISSING,
                    allowed_mentions=NO_PINGS,
                )
            )
            content = None
        assert message is not None
        return message.id

    async def _retire(
        self, channel: discord.PartialMessageable, stored: StoredGame, *, lobby: bool
    ) -> None:
        """Take the buttons off the game's last message (best effort: it may be gone)."""
        if stored.message_id is None:
            return
        if lobby:
            await self._edit(channel, stored.message_id, embed=lobby_embed(stored), view=None)
        else:
            await self._edit(channel, stored.message_id, view=None)

    async def _edit(
        self,
        channel: discord.PartialMessageable,
        message_id: int,
        *,
        content: str | None = None,
        embed: discord.Embed | None = None,
        view: discord.ui.View | None,
    ) -> bool:
        """Edit a message of the game; False if it was deleted (the caller posts anew)."""
        message = channel.get_partial_message(message_id)
        changes: dict[str, object] = {"view": view, "allowed_mentions": NO_PINGS}
        if content is not None:
            changes["content"] = content or None
        if embed is not None:
            changes["embed"] = embed
        try:
            await _call(message.edit(**changes))  # type: ignore[arg-type]
        except DestinationGone as gone:
            cause = gone.__cause__
            if isinstance(cause, discord.NotFound) and cause.code == UNKNOWN_MESSAGE:
                return False
            raise
        return True


async def _call(request: Awaitable[T]) -> T:
    try:
        return await request
    except discord.Forbidden as error:
        raise DestinationGone(
            f"I'm not allowed to post in that channel any more ({error.text or 'no permission'})."
        ) from error
    except discord.NotFound as error:
        raise DestinationGone("That channel or message no longer exists.") from error
