"""/privacy export and /privacy delete: a user's own data, to take away or to erase.

Deletion asks first. The Confirm and Cancel buttons are ``DynamicItem``s that carry the user's
id and when they were offered, so they answer sensibly after a restart, refuse anyone else, and
expire instead of deleting someone's data days after they changed their mind.
"""

from __future__ import annotations

import asyncio
import io
import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Self

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import InvalidRequest
from bot.library.exports import export_stem, user_data_files
from bot.storage import Database, DeletedCounts
from cogs.errors import answering
from cogs.private import answer

if TYPE_CHECKING:
    from cogs.client import InkwellBot

NO_PINGS = discord.AllowedMentions.none()
CONFIRM_SECONDS = 300  # how long a Confirm button stays good
MAX_EXPORT_PARTS = 10
ERASE_ID = "inkwell:erase:{action}:{user}:{issued}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def deleted_report(counts: DeletedCounts) -> str:
    """What an erasure removed, in words."""
    lines = [
        "🗑️ Done — everything Inkwell stored about you is gone:",
        f"• {_plural(counts.generations, 'piece')}",
        f"• {_plural(counts.favorites, 'favourite')}",
        f"• {_plural(counts.prompts, 'saved prompt')}",
    ]
    if counts.others_favorites:
        lines.append(f"• {_plural(counts.others_favorites, 'star')} others gave your pieces")
    if counts.removed_lines:
        # Poem-game lines stay in their poems (they belong to every author), but anonymised.
        removed = _plural(counts.removed_lines, "poem-game line")
        lines.append(f"• {removed} of yours, now shown as “(removed)” in their poems")
    lines.append("Messages already posted in channels stay until someone deletes them.")
    return "\n".join(lines)


def training_status(allowed: bool) -> str:
    """What the member chose about training, and how to change it."""
    if allowed:
        return (
            "🎓 You allowed it: a server's voice may learn from your writing there. "
            "`/privacy training deny` withdraws it."
        )
    return (
        "🔒 Your writing teaches no voice (the default). `/privacy training allow` lets a "
        "server's voice learn from what you shared there."
    )


def training_changed(allowed: bool, marked: int) -> str:
    """The answer to ``/privacy training allow|deny``."""
    if allowed:
        return (
            "🎓 Thank you — a server's voice may now learn from your game lines (in poems whose "
            "every author allowed it), your daily entries, and pieces written for you that "
            "members starred. `/privacy training deny` withdraws it at any time."
        )
    text = "🔒 Done — your writing will teach no voice."
    if marked:
        text += (
            f" {_plural(marked, 'voice')} that learned from it "
            f"{'is' if marked == 1 else 'are'} marked for retraining without you."
        )
    return text


class EraseButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"inkwell:erase:(?P<action>confirm|cancel):(?P<user>[0-9]+):(?P<issued>[0-9]+)",
):
    """Confirm or Cancel under a /privacy delete question."""

    def __init__(self, action: str, user_id: int, issued: int) -> None:
        self.action = action
        self.user_id = user_id
        self.issued = issued
        confirm = action == "confirm"
        super().__init__(
            discord.ui.Button(
                label="Yes, delete everything" if confirm else "Cancel",
                style=discord.ButtonStyle.danger if confirm else discord.ButtonStyle.secondary,
                custom_id=ERASE_ID.format(action=action, user=user_id, issued=issued),
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> Self:
        """Rebuild the button from a click on any question, however old."""
        return cls(match["action"], int(match["user"]), int(match["issued"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Erase (or not), for the user who asked only."""
        async with answering(interaction):
            await self._clicked(interaction)

    async def _clicked(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.user_id:
            await _private(interaction, "Only the person who asked can answer this question.")
            return
        if self.action == "cancel":
            await interaction.response.edit_message(
                content="Nothing was deleted.", view=None, allowed_mentions=NO_PINGS
            )
            return
        if time.time() - self.issued > CONFIRM_SECONDS:
            await _private(
                interaction,
                "This question has expired, so nothing was deleted. "
                "Run `/privacy delete` again if you still want to.",
            )
            return
        bot: InkwellBot = interaction.client  # type: ignore[assignment]
        # Erasing is a write that may wait on the database's lock: acknowledge first.
        await interaction.response.defer()
        counts = await bot.flow.erase_user(self.user_id)
        if counts.total == 0:
            await answer(
                interaction, "There is nothing of yours to delete — it has already been deleted."
            )
            return
        await interaction.edit_original_response(
            content=deleted_report(counts), view=None, allowed_mentions=NO_PINGS
        )


async def _private(interaction: discord.Interaction, text: str) -> None:
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)


class PrivacyCog(commands.GroupCog, name="privacy", description="Your data in Inkwell"):
    """Take away or erase everything Inkwell stores about you."""

    def __init__(self, bot: commands.Bot, database: Database) -> None:
        super().__init__()
        self._bot = bot
        self._database = database

    async def cog_load(self) -> None:
        """Register the Confirm/Cancel buttons, so they answer after a restart too."""
        self._bot.add_dynamic_items(EraseButton)

    async def cog_unload(self) -> None:
        """Forget the buttons again."""
        self._bot.remove_dynamic_items(EraseButton)

    @app_commands.command(name="export", description="Download everything Inkwell stores about you")
    async def export(self, interaction: discord.Interaction) -> None:
        """Send your pieces, favourites and saved prompts as one JSON file, privately."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await self._database.users.export(interaction.user.id)
        stem = export_stem("data", datetime.now(UTC))
        counts = (
            f"{_plural(len(data['generations']), 'piece')}, "
            f"{_plural(len(data['favorites']), 'favourite')} and "
            f"{_plural(len(data['saved_prompts']), 'saved prompt')}"
        )
        # Serialising thousands of pieces takes a while: keep it off the event loop.
        files = await asyncio.to_thread(user_data_files, data, interaction.filesize_limit)
        if len(files) > MAX_EXPORT_PARTS:
            raise InvalidRequest(
                f"Your data would take {len(files)} files, more than I can send here. Remove "
                "some favourites or pieces you no longer need, or ask the bot's operator for "
                "a full export (`python -m bot db` has your data in one SQLite file)."
            )
        intro = f"Here is everything Inkwell stores about you: {counts}."
        for number, text in enumerate(files, start=1):
            suffix = f"-part{number}of{len(files)}" if len(files) > 1 else ""
            note = intro if number == 1 else f"Part {number} of {len(files)}."
            if number == 1 and len(files) > 1:
                note += f" It is too large for one upload, so it comes in {len(files)} parts."
            await interaction.followup.send(
                note,
                file=discord.File(io.BytesIO(text.encode()), filename=f"{stem}{suffix}.json"),
                ephemeral=True,
                allowed_mentions=NO_PINGS,
            )

    @app_commands.command(
        name="training", description="Allow or deny teaching a server's voice with your writing"
    )
    @app_commands.describe(
        choice="allow: your shared writing may train a server's voice; deny: never (the default)"
    )
    async def training(
        self, interaction: discord.Interaction, choice: Literal["allow", "deny"] | None = None
    ) -> None:
        """Say whether a server's voice may learn from your game lines, daily entries and
        starred pieces; without a choice, see what you chose."""
        user_id = interaction.user.id
        if choice is None:
            allowed = await self._database.voices.consent_of(user_id)
            await _private(interaction, training_status(allowed))
            return
        marked = await self._database.voices.set_consent(user_id, choice == "allow")
        await _private(interaction, training_changed(choice == "allow", marked))

    @app_commands.command(name="delete", description="Erase everything Inkwell stores about you")
    async def delete(self, interaction: discord.Interaction) -> None:
        """Ask for confirmation, then erase your pieces, favourites and saved prompts."""
        user_id = interaction.user.id
        pieces = await self._database.generations.count_for_user(user_id)
        favorites = await self._database.favorites.count(user_id)
        prompts = await self._database.prompts.count(user_id)
        if pieces + favorites + prompts == 0:
            await _private(interaction, "Inkwell has nothing stored about you. 🌱")
            return
        issued = int(time.time())
        view = discord.ui.View(timeout=None)
        view.add_item(EraseButton("confirm", user_id, issued))
        view.add_item(EraseButton("cancel", user_id, issued))
        await interaction.response.send_message(
            "This erases "
            f"{_plural(pieces, 'piece')} you asked for (and others' stars on them), "
            f"{_plural(favorites, 'favourite')} and {_plural(prompts, 'saved prompt')}. "
            "It can't be undone. Are you sure?",
            view=view,
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )


async def setup(bot: InkwellBot) -> None:
    """Extension entry point: /privacy."""
    await bot.add_cog(PrivacyCog(bot, bot.database))
