"""/favorites list|show|remove|export: the pieces each member keeps.

Favourites are private: every reply is ephemeral and every lookup is by the asking user's id.
The ◀ ▶ page buttons are ``DynamicItem``s carrying the owner's id and the page, so they keep
working after a restart and refuse anyone else.
"""

from __future__ import annotations

import asyncio
import io
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import InvalidRequest
from bot.forms.spec import shorten
from bot.library.exports import export_stem, favorites_json, favorites_markdown, piece_title
from bot.library.rules import all_favorites, clamp_page, page_count
from bot.storage import Database, FavoriteWithPiece, NotFound
from cogs.errors import answering
from cogs.library_render import PAGE_SIZE, favorites_page_embed, piece_embed
from cogs.private import acknowledge, answer, answer_with

if TYPE_CHECKING:
    from cogs.client import InkwellBot

NO_PINGS = discord.AllowedMentions.none()
MAX_ID = 2**53 - 1
FavoriteId = app_commands.Range[int, 1, MAX_ID]
PAGE_ID = "inkwell:favs:{user}:{page}"


def _favorites_files(
    favorites: list[FavoriteWithPiece], name: str, now: datetime
) -> tuple[bytes, bytes]:
    markdown = favorites_markdown(favorites, user_name=name, exported_at=now).encode()
    data = favorites_json(favorites, user_name=name, exported_at=now).encode()
    return markdown, data


# --- page buttons --------------------------------------------------------------------------


class FavoritesPageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"inkwell:favs:(?P<user>[0-9]+):(?P<page>[0-9]+)",
):
    """◀ or ▶ under a favourites list: shows ``page`` of ``user_id``'s favourites."""

    def __init__(
        self, user_id: int, page: int, *, emoji: str = "▶", disabled: bool = False
    ) -> None:
        self.user_id = user_id
        self.page = page
        super().__init__(
            discord.ui.Button(
                emoji=emoji,
                style=discord.ButtonStyle.secondary,
                custom_id=PAGE_ID.format(user=user_id, page=page),
                disabled=disabled,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> Self:
        """Rebuild the button from a click on any list, however old."""
        return cls(int(match["user"]), int(match["page"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Turn the page, for the list's owner only."""
        async with answering(interaction):
            if interaction.user.id != self.user_id:
                await interaction.response.send_message(
                    "These are someone else's favourites — use `/favorites list` to see yours.",
                    ephemeral=True,
                    allowed_mentions=NO_PINGS,
                )
                return
            bot: InkwellBot = interaction.client  # type: ignore[assignment]
            embed, view = await favorites_page(
                bot.database, interaction.user.id, interaction.user.display_name, self.page
            )
            await interaction.response.edit_message(
                embed=embed, view=view, allowed_mentions=NO_PINGS
            )


async def favorites_page(
    database: Database, user_id: int, owner: str, page: int
) -> tuple[discord.Embed, discord.ui.View]:
    """The embed and ◀ ▶ buttons for one page (clamped: favourites may have gone since)."""
    total = await database.favorites.count(user_id)
    page = clamp_page(page, total, PAGE_SIZE)
    items = await database.favorites.list(user_id, PAGE_SIZE, page * PAGE_SIZE)
    last = page_count(total, PAGE_SIZE) - 1
    view = discord.ui.View(timeout=None)
    # Distinct custom ids even at the edges: ◀ targets max(page-1, 0), ▶ targets page+1.
    view.add_item(FavoritesPageButton(user_id, max(page - 1, 0), emoji="◀", disabled=page == 0))
    view.add_item(FavoritesPageButton(user_id, page + 1, emoji="▶", disabled=page >= last))
    return favorites_page_embed(items, page=page, total=total, owner=owner), view


# --- /favorites ----------------------------------------------------------------------------


class FavoritesCog(commands.GroupCog, name="favorites", description="Your saved pieces"):
    """Your favourites: private to you, in any server and in DMs."""

    def __init__(self, bot: commands.Bot, database: Database) -> None:
        super().__init__()
        self._bot = bot
        self._database = database

    async def cog_load(self) -> None:
        """Register the page buttons, so old lists keep paging after a restart."""
        self._bot.add_dynamic_items(FavoritesPageButton)

    async def cog_unload(self) -> None:
        """Forget the page buttons again."""
        self._bot.remove_dynamic_items(FavoritesPageButton)

    @app_commands.command(name="list", description="Your favourites, newest first")
    @app_commands.describe(page="Which page to start on (5 pieces a page)")
    async def list_favorites(
        self, interaction: discord.Interaction, page: app_commands.Range[int, 1, 10_000] = 1
    ) -> None:
        """Show a page of your favourites with ◀ ▶ buttons."""
        await acknowledge(interaction)  # a busy loop can take seconds over the reads
        embed, view = await favorites_page(
            self._database, interaction.user.id, interaction.user.display_name, page - 1
        )
        await answer_with(interaction, embed=embed, view=view)

    @app_commands.command(name="show", description="Read one of your favourites in full")
    @app_commands.rename(favorite_id="id")
    @app_commands.describe(favorite_id="The favourite's number (start typing to pick one)")
    async def show(self, interaction: discord.Interaction, favorite_id: FavoriteId) -> None:
        """Show a favourite with its attribution."""
        await acknowledge(interaction)  # its reads can outlast 3 s on a busy loop
        favorite = await self._own_favorite(interaction, favorite_id)
        embed = piece_embed(favorite.piece, f"⭐ #{favorite.favorite.id}")
        await answer_with(interaction, embed=embed)

    @app_commands.command(name="remove", description="Take a piece out of your favourites")
    @app_commands.rename(favorite_id="id")
    @app_commands.describe(favorite_id="The favourite's number (start typing to pick one)")
    async def remove(self, interaction: discord.Interaction, favorite_id: FavoriteId) -> None:
        """Unstar a piece (the piece itself stays)."""
        await acknowledge(interaction)  # a read, then a write
        favorite = await self._own_favorite(interaction, favorite_id)
        if not await self._database.favorites.remove(interaction.user.id, favorite_id):
            raise self._not_yours(favorite_id)  # removed by a parallel click
        title = discord.utils.escape_markdown(piece_title(favorite.piece))
        await answer(
            interaction, f"Removed favourite #{favorite_id} ({title}) from your favourites."
        )

    @app_commands.command(name="export", description="Download your favourites (Markdown + JSON)")
    async def export(self, interaction: discord.Interaction) -> None:
        """Send your favourites as two files, each piece with its attribution."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        favorites = await all_favorites(self._database, interaction.user.id)
        if not favorites:
            await interaction.followup.send(
                "You have no favourites to export yet — press ⭐ **Save** under a piece first.",
                ephemeral=True,
                allowed_mentions=NO_PINGS,
            )
            return
        now = datetime.now(UTC)
        name = interaction.user.display_name
        stem = export_stem("favorites", now)
        # Building a large export takes a while: keep it off the event loop.
        markdown, data = await asyncio.to_thread(_favorites_files, favorites, name, now)
        if len(markdown) + len(data) > interaction.filesize_limit:
            raise InvalidRequest(
                "Your favourites are too large to attach in one message. Remove a few with "
                "`/favorites remove`, or use `/privacy export`."
            )
        await interaction.followup.send(
            f"Here are your {len(favorites)} favourite{'s' if len(favorites) != 1 else ''}, "
            "each with its model, seed, parameters, prompt and date.",
            files=[
                discord.File(io.BytesIO(markdown), filename=f"{stem}.md"),
                discord.File(io.BytesIO(data), filename=f"{stem}.json"),
            ],
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )

    @show.autocomplete("favorite_id")
    @remove.autocomplete("favorite_id")
    async def favorite_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        """The asking user's own favourites matching what they typed (at most 25)."""
        needle = str(current).strip().lstrip("#").casefold()
        items = await self._database.favorites.list(interaction.user.id, 100, 0)
        ranked: list[tuple[int, app_commands.Choice[int]]] = []
        for item in items:
            number = str(item.favorite.id)
            label = f"#{number} · {piece_title(item.piece)}"
            # The typed number itself first, then numbers starting with it, then titles.
            rank = 0 if number == needle else 1 if number.startswith(needle) else 2
            if rank < 2 or needle in label.casefold():
                choice = app_commands.Choice(name=shorten(label, 95), value=item.favorite.id)
                ranked.append((rank, choice))
        ranked.sort(key=lambda pair: pair[0])  # stable: newest first within a rank
        return [choice for _, choice in ranked[:25]]

    async def _own_favorite(
        self, interaction: discord.Interaction, favorite_id: int
    ) -> FavoriteWithPiece:
        favorite = await self._database.favorites.get(interaction.user.id, favorite_id)
        if favorite is None:
            raise self._not_yours(favorite_id)
        return favorite

    @staticmethod
    def _not_yours(favorite_id: int) -> NotFound:
        # The same answer whether it never existed or is someone else's: nothing leaks.
        return NotFound(
            f"You have no favourite #{favorite_id}. `/favorites list` shows the ones you have."
        )


async def setup(bot: InkwellBot) -> None:
    """Extension entry point: /favorites."""
    await bot.add_cog(FavoritesCog(bot, bot.database))
