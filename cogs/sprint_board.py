"""A sprint's board on Discord: plain channel posts (not interaction replies), so the start,
pens down and results can be posted long after the command's token has expired, and after a
restart. Members' names and prompts are shown as written, never as markdown that pings; no
message pings anyone."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import discord

from bot.sprints.notices import Announced, Notice, Results, Started, Style, notice_text
from bot.storage import SprintRow
from bot.writing.destination import DestinationGone
from cogs.render import piece_body
from cogs.sprint_buttons import join_view

NO_PINGS = discord.AllowedMentions.none()
T = TypeVar("T")


def discord_when(moment: float) -> str:
    """A time each reader sees in their own time zone, counting down."""
    return f"<t:{int(moment)}:R>"


DISCORD_STYLE = Style(escape=piece_body, when=discord_when)


class DiscordBoard:
    """Posts sprints' notices in their channels."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def post(self, sprint: SprintRow, notice: Notice) -> int | None:
        """Post the notice; returns its message id."""
        channel = self._client.get_partial_messageable(sprint.channel_id, guild_id=sprint.guild_id)
        # The results carry a nonce Discord enforces: should a retry after a crash ever post
        # them again within minutes, Discord answers with the first message instead.
        nonce = f"sprint{sprint.id}results"[:25] if isinstance(notice, Results) else None
        # Joining is a click away while it runs.
        view = join_view(sprint.id) if isinstance(notice, Announced | Started) else None
        message = await _call(
            channel.send(
                notice_text(sprint, notice, DISCORD_STYLE),
                allowed_mentions=NO_PINGS,
                nonce=nonce,
                view=view,
            )
        )
        return message.id


async def _call(request: Awaitable[T]) -> T:
    try:
        return await request
    except discord.Forbidden as error:
        raise DestinationGone(
            f"I'm not allowed to post in that channel any more ({error.text or 'no permission'})."
        ) from error
    except discord.NotFound as error:
        raise DestinationGone("That channel no longer exists.") from error
