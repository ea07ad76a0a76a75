"""How library items look on Discord: favourites pages, a whole piece, the hall of fame.

Pure functions building embeds, so the formatting is tested without a gateway. Generated text
goes through ``piece_body`` like every reply: markdown shown literally, links not embedded,
invites removed.
"""

from __future__ import annotations

from datetime import datetime

import discord

from bot.forms.spec import shorten
from bot.library.exports import parameters_text, piece_title
from bot.library.rules import page_count
from bot.storage import FavoriteWithPiece, GenerationRecord
from cogs.render import piece_body

PAGE_SIZE = 5
EMBED_TEXT_LIMIT = 4000  # Discord allows 4,096 in a description; leave room for a note
FIELD_LIMIT = 1024


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
