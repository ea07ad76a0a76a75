"""Buttons under every result: Regenerate, Continue and Save.

They are ``DynamicItem``s whose ``custom_id`` carries the piece's id, so they keep working on
old messages after the bot restarts; everything else is looked up in storage on click.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Self

import discord

from bot.writing.drafts import continue_draft, regenerate_draft
from cogs.access import visible_piece
from cogs.errors import answering

if TYPE_CHECKING:
    from cogs.client import InkwellBot

NO_PINGS = discord.AllowedMentions.none()
REGENERATE_ID = "inkwell:regen:{piece}"
CONTINUE_ID = "inkwell:more:{piece}"
SAVE_ID = "inkwell:save:{piece}"


class _PieceButton:
    """A button bound to one recorded piece; subclasses say what a click does. (A mixin:
    discord.py needs each ``DynamicItem`` subclass to declare its own template.)"""

    label: str
    emoji: str
    custom_id_format: str

    def __init__(self, piece_id: int) -> None:
        self.piece_id = piece_id
        super().__init__(
            discord.ui.Button(  # type: ignore[call-arg]
                label=self.label,
                emoji=self.emoji,
                style=discord.ButtonStyle.secondary,
                custom_id=self.custom_id_format.format(piece=piece_id),
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> Self:
        """Rebuild the button from a click on any message, however old."""
        return cls(int(match["piece"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Run the click, reporting failures like slash commands do (and its log line)."""
        async with answering(interaction):
            await self.clicked(interaction, interaction.client)  # type: ignore[arg-type]

    async def clicked(self, interaction: discord.Interaction, bot: InkwellBot) -> None:
        raise NotImplementedError


class RegenerateButton(
    _PieceButton,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"inkwell:regen:(?P<piece>[0-9]+)",
):
    """Write the same request again with a new seed."""

    label, emoji, custom_id_format = "Regenerate", "🔄", REGENERATE_ID

    async def clicked(self, interaction: discord.Interaction, bot: InkwellBot) -> None:
        piece = await visible_piece(interaction, bot.flow, self.piece_id)
        await bot.write_reply(interaction, regenerate_draft(piece))


class ContinueButton(
    _PieceButton,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"inkwell:more:(?P<piece>[0-9]+)",
):
    """Carry the piece on."""

    label, emoji, custom_id_format = "Continue", "➡️", CONTINUE_ID

    async def clicked(self, interaction: discord.Interaction, bot: InkwellBot) -> None:
        piece = await visible_piece(interaction, bot.flow, self.piece_id)
        await bot.write_reply(interaction, continue_draft(piece))


class SaveButton(
    _PieceButton,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"inkwell:save:(?P<piece>[0-9]+)",
):
    """Star the piece into the clicking user's favourites."""

    label, emoji, custom_id_format = "Save", "⭐", SAVE_ID

    async def clicked(self, interaction: discord.Interaction, bot: InkwellBot) -> None:
        # Acknowledge first: adding is a write, which may wait on the database's lock.
        await interaction.response.defer(ephemeral=True, thinking=True)
        piece = await visible_piece(interaction, bot.flow, self.piece_id)
        added = await bot.database.favorites.add(interaction.user.id, piece.id)
        if added.created:
            text = (
                f"⭐ Saved to your favourites as #{added.favorite.id}. "
                "See them with `/favorites list`."
            )
        else:
            text = f"It's already in your favourites (#{added.favorite.id})."
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)


BUTTONS = (RegenerateButton, ContinueButton, SaveButton)


def piece_view(piece_id: int) -> discord.ui.View:
    """The row of buttons for a finished piece."""
    view = discord.ui.View(timeout=None)
    for button in BUTTONS:
        view.add_item(button(piece_id))
    return view
