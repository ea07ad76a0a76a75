"""Telling a member something when no interaction is there to answer: a direct message.

Used when something they set up can no longer run, for example a schedule whose channel was
deleted. Best effort: members may have DMs closed, and then the log says so instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import discord

from bot.storage import Timer
from bot.writing.destination import DestinationGone

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()
OWNER_KEY = "owner_id"  # the timer payload's key for whom to tell


async def tell_user(client: discord.Client, user_id: int, text: str) -> bool:
    """Send ``text`` to the user by DM; False when that is not possible."""
    try:
        user = client.get_user(user_id) or await client.fetch_user(user_id)
        await user.send(text, allowed_mentions=NO_PINGS)
    except discord.HTTPException as error:
        log.warning("Could not tell user %s (%s): %s", user_id, error.status, text)
        return False
    return True


def owner_told(
    client: discord.Client, what: str
) -> Callable[[Timer, DestinationGone], Awaitable[None]]:
    """An ``on_gone`` for a timer kind: DM the owner named in the timer's payload that
    ``what`` (e.g. "Your prompt of the day") was paused, and why."""

    async def on_gone(timer: Timer, gone: DestinationGone) -> None:
        owner = timer.payload.get(OWNER_KEY)
        if not isinstance(owner, int):
            log.warning("Timer %s/%s has no owner to tell", timer.kind, timer.key)
            return
        await tell_user(
            client,
            owner,
            f"⏸ {what} is paused: {gone.user_message} Set it up again in a channel where "
            "I may post, and it will carry on.",
        )

    return on_gone
