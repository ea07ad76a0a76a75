"""Content safety on Discord: which channels are age-restricted, and checking what a member
typed before a feature does anything with it. The central error handler answers a refusal
privately (``cogs.errors.report_error``), giving the text back (``given_back``)."""

from __future__ import annotations

import io

import discord

from bot.safety import ContentBlocked
from bot.writing.flow import WriteFlow


def channel_is_nsfw(channel: object) -> bool:
    """True for an age-restricted channel, or a thread in one (a DM is not)."""
    is_nsfw = getattr(channel, "is_nsfw", None)
    return bool(is_nsfw()) if callable(is_nsfw) else False


def check_typed(flow: WriteFlow, interaction: discord.Interaction, text: str, what: str) -> None:
    """Raise ``ContentBlocked`` when what a member typed here breaks the guild's filter."""
    flow.check_text(
        text,
        guild_id=interaction.guild_id,
        nsfw=channel_is_nsfw(interaction.channel),
        what=what,
    )


def given_back(error: ContentBlocked) -> list[discord.File]:
    """The refused text as a file, when the message itself could not hold it."""
    if error.text in error.user_message:
        return []
    return [discord.File(io.BytesIO(error.text.encode()), filename="your-text.txt")]
