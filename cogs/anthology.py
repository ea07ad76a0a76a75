"""/anthology list|show|export: the poems this server wrote together in games.

A member sees the poems of channels they can view (the one visibility rule); every reply is
private. Erased authors' lines read "(removed)".
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.forms.spec import shorten
from bot.games.anthology import anthology_markdown, poem_authors
from bot.library.exports import export_stem
from bot.library.visibility import may_see
from bot.storage import AnthologyPoem, Database, NotFound
from cogs.access import channel_access
from cogs.buttons import SaveButton
from cogs.game_render import COLOUR, anthology_embeds, embed_messages

if TYPE_CHECKING:
    from cogs.client import InkwellBot

NO_PINGS = discord.AllowedMentions.none()
MAX_ID = 2**53 - 1
PAGE_SIZE = 10
SCAN_BATCH = 50
MAX_SCANNED = 2000  # poems looked through for one page or export
MAX_EXPORTED = 500


@app_commands.guild_only()
class AnthologyCog(commands.GroupCog, name="Anthology", group_name="anthology"):
    """The server's finished game poems."""

    def __init__(self, database: Database) -> None:
        self._database = database
        super().__init__()

    @app_commands.command(name="list", description="This server's poems written together")
    @app_commands.describe(page="Which page (10 poems each, newest first)")
    async def list_poems(
        self, interaction: discord.Interaction, page: app_commands.Range[int, 1, 200] = 1
    ) -> None:
        """A page of the anthology."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        poems = await self._visible(interaction, limit=page * PAGE_SIZE + 1)
        shown = poems[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        if not shown:
            text = (
                "The anthology is empty so far: finish a /poemgame and its poem lands here."
                if page == 1
                else f"There is no page {page}."
            )
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
            return
        embed = discord.Embed(title="📚 Anthology", colour=COLOUR)
        embed.description = "\n".join(_list_line(entry) for entry in shown)
        more = " · more on the next page" if len(poems) > page * PAGE_SIZE else ""
        embed.set_footer(text=f"Page {page}{more} · /anthology show id to read one")
        await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="show", description="Read one poem of the anthology")
    @app_commands.rename(poem_id="id")
    @app_commands.describe(poem_id="The poem's number (“poem #…”)")
    async def show(
        self, interaction: discord.Interaction, poem_id: app_commands.Range[int, 1, MAX_ID]
    ) -> None:
        """One poem, with its authors and a ⭐ Save button."""
        entry = await self._database.games.anthology_poem(poem_id)
        if (
            entry is None
            or entry.record.guild_id != interaction.guild_id
            or not await may_see(entry.record, interaction.user.id, channel_access(interaction))
        ):
            raise NotFound(
                f"I can't find poem #{poem_id} in this server's anthology (or it was written "
                "in a channel you can't see)."
            )
        view = discord.ui.View(timeout=None)
        view.add_item(SaveButton(entry.record.id))
        groups = embed_messages(anthology_embeds(entry))
        if len(groups) == 1:
            await interaction.response.send_message(
                embeds=groups[0], view=view, ephemeral=True, allowed_mentions=NO_PINGS
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        for index, embeds in enumerate(groups):
            last = index == len(groups) - 1
            await interaction.followup.send(
                embeds=embeds,
                view=view if last else discord.utils.MISSING,
                ephemeral=True,
                allowed_mentions=NO_PINGS,
            )

    @app_commands.command(name="export", description="The anthology as a Markdown file")
    async def export(self, interaction: discord.Interaction) -> None:
        """Every poem you can see, as one file."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        poems = await self._visible(interaction, limit=MAX_EXPORTED)
        if not poems:
            await interaction.followup.send(
                "The anthology is empty so far.", ephemeral=True, allowed_mentions=NO_PINGS
            )
            return
        now = datetime.now(UTC)
        guild = interaction.guild.name if interaction.guild else "this server"
        text = anthology_markdown(poems, heading=f"Anthology of {guild}", exported_at=now)
        file = discord.File(
            io.BytesIO(text.encode()), filename=f"{export_stem('anthology', now)}.md"
        )
        await interaction.followup.send(
            f"📚 {len(poems)} poem{'s' if len(poems) != 1 else ''}.",
            file=file,
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )

    async def _visible(
        self, interaction: discord.Interaction, *, limit: int
    ) -> list[AnthologyPoem]:
        """Up to ``limit`` of the guild's poems the member may see, newest first."""
        access = channel_access(interaction)
        found: list[AnthologyPoem] = []
        before: int | None = None
        scanned = 0
        while len(found) < limit and scanned < MAX_SCANNED:
            batch = await self._database.games.anthology(
                interaction.guild_id, before_id=before, limit=SCAN_BATCH
            )
            if not batch:
                break
            scanned += len(batch)
            for entry in batch:
                if await may_see(entry.record, interaction.user.id, access):
                    found.append(entry)
            before = batch[-1].record.id
        return found[:limit]


def _list_line(entry: AnthologyPoem) -> str:
    title = discord.utils.escape_markdown(shorten(entry.record.prompt or "Untitled", 60))
    authors = discord.utils.escape_markdown(shorten(", ".join(poem_authors(entry)), 80))
    when = int(entry.record.created_at.timestamp())
    return f"**#{entry.record.id}** {title} · by {authors} · <t:{when}:d>"


async def setup(bot: InkwellBot) -> None:
    """Add the anthology commands."""
    await bot.add_cog(AnthologyCog(bot.database))
