"""Where an interaction's piece goes once its 15-minute token can no longer edit the reply.

Discord refuses an interaction's webhook token 15 minutes after the interaction (401, code
50027), and a long queue wait can outlast that. The piece is then posted in the channel with
the bot's own token, naming the user in the text ("<@id>, your piece:") but with
``AllowedMentions.none()`` so nobody is pinged; where the bot may not post there, it goes to
the user's DMs; where that fails too, it is only logged, since the piece is already stored and
``/library`` shows it.
"""

from __future__ import annotations

import datetime
import logging

import discord

from cogs.render import MESSAGE_LIMIT

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()
INVALID_WEBHOOK_TOKEN = 50027
# Discord's limit is 15 minutes; a margin so a reply is not started just before it lapses.
TOKEN_SAFE_AGE = datetime.timedelta(minutes=14, seconds=30)


def token_expired(error: discord.HTTPException) -> bool:
    """Whether Discord refused the call because the interaction's token has lapsed."""
    return error.status == 401 and error.code == INVALID_WEBHOOK_TOKEN


def token_too_old(interaction: discord.Interaction) -> bool:
    """Whether the interaction is too old to trust its token for another call."""
    return discord.utils.utcnow() - interaction.created_at >= TOKEN_SAFE_AGE


class LateDelivery:
    """Posts an interaction's messages as plain messages: in its channel, else in DMs."""

    def __init__(self, interaction: discord.Interaction) -> None:
        self._interaction = interaction
        self._user = interaction.user
        self._target: discord.abc.Messageable | None = interaction.channel  # type: ignore[assignment]
        self._named = False  # whether the user has been named in a message yet

    async def send(self, content: str, view: discord.ui.View | None) -> None:
        """Send one message of the piece; the first names its user, without a ping."""
        if not self._named:
            named = f"<@{self._user.id}>, your piece (the reply took too long to edit):"
            if len(named) + 1 + len(content) <= MESSAGE_LIMIT:
                content = f"{named}\n{content}"
            else:
                await self._post(named, None)
            self._named = True
        await self._post(content, view)

    async def _post(self, content: str, view: discord.ui.View | None) -> None:
        if self._target is not None:
            try:
                await self._send_to(self._target, content, view)
                return
            except (discord.Forbidden, discord.NotFound) as error:
                log.warning(
                    "Could not post a late piece in channel %s (%s); trying DMs",
                    self._interaction.channel_id,
                    error.text,
                )
                self._target = None
        try:
            await self._send_to(self._user, content, view)
        except discord.HTTPException as error:
            # Stored already: the user finds it with /library. Nothing more can be done here.
            log.warning(
                "Could not deliver a late piece to user %s at all (%s); it stays in the library",
                self._user.id,
                error.text,
            )

    @staticmethod
    async def _send_to(
        target: discord.abc.Messageable, content: str, view: discord.ui.View | None
    ) -> None:
        if view is None:
            await target.send(content, allowed_mentions=NO_PINGS)
        else:
            await target.send(content, view=view, allowed_mentions=NO_PINGS)
