"""/favorites list|show|remove|export, /remix and /halloffame: what people keep and rework.

Favourites are private (every reply is ephemeral and every lookup is by the asking user's id);
the hall of fame only shows counts of stars on pieces that were posted publicly anyway. The
◀ ▶ page buttons are ``DynamicItem``s carrying the owner's id and the page, so they keep
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
from bot.library.exports import (
    export_stem,
    favorites_json,
    favorites_markdown,
    parameters_text,
    piece_title,
)
from bot.library.rules import all_favorites, clamp_page, page_count, remix_changes
from bot.library.visibility import visible_only
from bot.storage import Database, FavoriteWithPiece, GenerationRecord, NotFound
from bot.writing.drafts import remix_draft
from bot.writing.flow import WriteFlow
from cogs.access import channel_access, visible_piece
from cogs.destinations import write_reply
from cogs.errors import report_error
from cogs.render import piece_body

if TYPE_CHECKING:
    from cogs.client import InkwellBot

NO_PINGS = discord.AllowedMentions.none()
PAGE_SIZE = 5
MAX_ID = 2**53 - 1
HALL_OF_FAME_SIZE = 10
HALL_OF_FAME_CANDIDATES = 5  # times the size: enough left after hiding private channels
EMBED_TEXT_LIMIT = 4000  # Discord allows 4,096 in a description; leave room for a note
FIELD_LIMIT = 1024
FavoriteId = app_commands.Range[int, 1, MAX_ID]
PAGE_ID = "inkwell:favs:{user}:{page}"


# --- rendering (pure) ----------------------------------------------------------------------


def _when(moment: datetime) -> str:
    """A Discord timestamp: each reader sees it in their own time zone."""
    return discord.utils.format_dt(moment, "d")


def escaped_within(text: str, limit: int) -> str:
    """``text`` with markdown shown literally, in at most ``limit`` characters. Escaping adds
    characters, so the cut comes after it (and never leaves a dangling backslash)."""
    escaped = discord.utils.escape_markdown(text)
    if len(escaped) <= limit:
        return escaped
    return escaped[: limit - 1].rstrip("\\") + "…"


def _snippet(text: str, limit: int = 90) -> str:
    # Generated text: links shown, not embedded; invites removed (see piece_body).
    return piece_body(shorten(text, limit))


def favorites_page_embed(
    items: list[FavoriteWithPiece], *, page: int, total: int, owner: str
) -> discord.Embed:
    """One page of a user's favourites, newest first."""
    pages = page_count(total, PAGE_SIZE)
    if items:
        description = "\n\n".join(
            f"**#{item.favorite.id}** · {discord.utils.escape_markdown(piece_title(item.piece))}"
            f" — by {discord.utils.escape_markdown(item.piece.user_name)}"
            f" · {_when(item.piece.created_at)}\n> {_snippet(item.piece.text)}"
            for item in items
        )
    else:
        description = "No favourites yet — press ⭐ **Save** under a piece to keep it here."
    embed = discord.Embed(
        title=f"⭐ {owner}'s favourites",
        description=description,
        colour=discord.Colour.gold(),
    )
    embed.set_footer(
        text=f"Page {page + 1} of {pages} · {total} favourite{'s' if total != 1 else ''}"
        " · /favorites show id to read one"
    )
    return embed


def piece_embed(piece: GenerationRecord, heading: str) -> discord.Embed:
    """A whole piece with its attribution: model, seed, parameters, prompt, date, who asked."""
    body = piece_body(piece.text)
    if len(body) > EMBED_TEXT_LIMIT:
        body = body[:EMBED_TEXT_LIMIT] + "…\n*(cut short here — `/favorites export` has it all)*"
    embed = discord.Embed(
        title=shorten(f"{heading} · {piece_title(piece)}", 250),
        description=body,
        colour=discord.Colour.gold(),
        timestamp=piece.created_at,
    )
    embed.add_field(name="Model", value=shorten(piece.model, 200))
    embed.add_field(name="Seed", value=str(piece.seed))
    embed.add_field(name="Parameters", value=parameters_text(piece.params) or "defaults")
    embed.add_field(
        name="Prompt",
        value=escaped_within(piece.prompt, FIELD_LIMIT),
        inline=False,
    )
    embed.add_field(name="Asked for by", value=discord.utils.escape_markdown(piece.user_name))
    embed.add_field(name="Date", value=discord.utils.format_dt(piece.created_at, "f"))
    embed.set_footer(text=f"✍ Written by AI · piece #{piece.id}")
    return embed


def hall_of_fame_embed(entries: list[tuple[GenerationRecord, int]], guild: str) -> discord.Embed:
    """The guild's most-starred pieces."""
    if entries:
        description = "\n\n".join(
            f"**{rank}.** ⭐ {stars} · **{discord.utils.escape_markdown(piece_title(piece))}**"
            f" — by {discord.utils.escape_markdown(piece.user_name)} · piece #{piece.id}"
            f"\n> {_snippet(piece.text)}"
            for rank, (piece, stars) in enumerate(entries, start=1)
        )
    else:
        description = (
            "Nothing has been starred here yet — press ⭐ **Save** under a piece you love."
        )
    embed = discord.Embed(
        title=f"🏆 Hall of fame — {guild}", description=description, colour=discord.Colour.gold()
    )
    embed.set_footer(text="Written by AI · /remix id to write one again with new settings")
    return embed


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
        try:
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
        except Exception as error:  # every failure gets a reply and a log line
            await report_error(interaction, error)


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
        embed, view = await favorites_page(
            self._database, interaction.user.id, interaction.user.display_name, page - 1
        )
        await interaction.response.send_message(
            embed=embed, view=view, ephemeral=True, allowed_mentions=NO_PINGS
        )

    @app_commands.command(name="show", description="Read one of your favourites in full")
    @app_commands.rename(favorite_id="id")
    @app_commands.describe(favorite_id="The favourite's number (start typing to pick one)")
    async def show(self, interaction: discord.Interaction, favorite_id: FavoriteId) -> None:
        """Show a favourite with its attribution."""
        favorite = await self._own_favorite(interaction, favorite_id)
        embed = piece_embed(favorite.piece, f"⭐ #{favorite.favorite.id}")
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=NO_PINGS
        )

    @app_commands.command(name="remove", description="Take a piece out of your favourites")
    @app_commands.rename(favorite_id="id")
    @app_commands.describe(favorite_id="The favourite's number (start typing to pick one)")
    async def remove(self, interaction: discord.Interaction, favorite_id: FavoriteId) -> None:
        """Unstar a piece (the piece itself stays)."""
        favorite = await self._own_favorite(interaction, favorite_id)
        if not await self._database.favorites.remove(interaction.user.id, favorite_id):
            raise self._not_yours(favorite_id)  # removed by a parallel click
        title = discord.utils.escape_markdown(piece_title(favorite.piece))
        await interaction.response.send_message(
            f"Removed favourite #{favorite_id} ({title}) from your favourites.",
            ephemeral=True,
            allowed_mentions=NO_PINGS,
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


# --- /remix and /halloffame ----------------------------------------------------------------


class LibraryCog(commands.Cog, name="Library"):
    """Working with recorded pieces: remixing them and celebrating the best."""

    def __init__(self, flow: WriteFlow, database: Database, interval: float) -> None:
        self._flow = flow
        self._database = database
        self._interval = interval

    @app_commands.command(
        name="remix", description="Write a piece again with the same seed and new settings"
    )
    @app_commands.rename(piece_id="id")
    @app_commands.describe(
        piece_id="The piece's number (shown under it as “piece #…”)",
        temperature="Creativity: 0 = safe and repetitive, 2 = wild",
        top_p="Nucleus sampling: keep this much probability mass",
        top_k="Pick only among the k likeliest words",
        max_tokens="Most new tokens to write",
    )
    async def remix(
        self,
        interaction: discord.Interaction,
        piece_id: app_commands.Range[int, 1, MAX_ID],
        temperature: app_commands.Range[float, 0.0, 2.0] | None = None,
        top_p: app_commands.Range[float, 0.01, 1.0] | None = None,
        top_k: app_commands.Range[int, 0, 200] | None = None,
        max_tokens: app_commands.Range[int, 1, 4096] | None = None,
    ) -> None:
        """Rerun one of your pieces, or one from a channel you can see, with new settings."""
        changes = remix_changes(temperature, top_p, top_k, max_tokens)
        piece = await visible_piece(interaction, self._flow, piece_id)
        draft = remix_draft(piece, changes)
        await write_reply(interaction, self._flow, draft, interval=self._interval)

    @app_commands.command(name="halloffame", description="This server's most-starred pieces")
    @app_commands.guild_only()
    async def hall_of_fame(self, interaction: discord.Interaction) -> None:
        """Show the most-starred pieces you can see here (only to you: others see other
        channels)."""
        assert interaction.guild_id is not None  # guild_only
        # Fetch more than are shown: some may be from channels this member can't see.
        entries = await self._database.favorites.hall_of_fame(
            interaction.guild_id, HALL_OF_FAME_SIZE * HALL_OF_FAME_CANDIDATES
        )
        visible = await visible_only(
            entries, lambda entry: entry.piece, interaction.user.id, channel_access(interaction)
        )
        name = interaction.guild.name if interaction.guild else "this server"
        shown = [(entry.piece, entry.stars) for entry in visible[:HALL_OF_FAME_SIZE]]
        await interaction.response.send_message(
            embed=hall_of_fame_embed(shown, name), ephemeral=True, allowed_mentions=NO_PINGS
        )


async def setup(bot: InkwellBot) -> None:
    """Extension entry point: /favorites, /remix and /halloffame."""
    await bot.add_cog(FavoritesCog(bot, bot.database))
    await bot.add_cog(LibraryCog(bot.flow, bot.database, bot.settings.discord.stream_edit_interval))
