"""/settings: per-server choices for admins (Manage Server): channels, defaults, cooldown,
the content rating and the server's own blocked words."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import InvalidRequest
from bot.safety import MAX_BLOCKED_WORD_CHARS, MAX_BLOCKED_WORDS, Rating, clean_blocked_word
from bot.storage import Database, GuildSettings
from bot.voice.choice import NONE, choosable, choose_voice
from bot.writing.flow import channel_mentions
from cogs.private import NO_PINGS, acknowledge, answer
from cogs.safety import channel_is_nsfw

if TYPE_CHECKING:
    from cogs.client import InkwellBot


def describe_settings(settings: GuildSettings) -> str:
    """A readable summary of a guild's settings."""
    channels = channel_mentions(settings.allowed_channel_ids) or "every channel"

    def value(setting: object) -> str:
        return "bot default" if setting is None else f"{setting}"

    return (
        f"**Channels:** {channels}\n"
        f"**Temperature:** {value(settings.temperature)} · **top-p:** "
        f"{value(settings.top_p)} · **top-k:** {value(settings.top_k)} · "
        f"**max tokens:** {value(settings.max_new_tokens)}\n"
        f"**Cooldown:** {value(settings.cooldown_seconds)}"
        f"{'' if settings.cooldown_seconds is None else ' s'}\n"
        f"**Content:** {settings.content_rating}"
        f"{OFF_NOTE if settings.content_rating == Rating.OFF else ''} · **blocked words:** "
        f"{len(settings.blocked_words)} (`/settings blocked-words list`)\n"
        f"**Voice:** {settings.voice_adapter or 'the base model'}"
    )


OFF_NOTE = " (in age-restricted channels; standard everywhere else)"
RATINGS = {
    Rating.STRICT: "strict: the whole word list, also inside longer words",
    Rating.STANDARD: "standard: swear words and slurs, not everyday words",
    Rating.OFF: "off: no word list in age-restricted channels (standard in the others)",
}
# Room for the list in one message; longer lists come as a file.
LIST_CHARS = 1800


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class AdminCog(commands.GroupCog, name="settings", description="Inkwell's settings here"):
    """Server settings; Discord hides them from members without Manage Server, and the check
    refuses them anyway."""

    def __init__(self, database: Database, voices_dir: Path) -> None:
        super().__init__()
        self._database = database
        self._voices_dir = voices_dir

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Only members with Manage Server, whatever the server's command overrides say."""
        if interaction.guild_id is None:
            raise app_commands.NoPrivateMessage()
        if not interaction.permissions.manage_guild:
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    @app_commands.command(name="show", description="Show Inkwell's settings for this server")
    async def show(self, interaction: discord.Interaction) -> None:
        """Show the current settings."""
        await acknowledge(interaction)  # its reads can outlast 3 s on a busy loop
        settings = await self._database.guild_settings.get(self._guild(interaction))
        await self._reply(interaction, describe_settings(settings))

    @app_commands.command(
        name="allow-channel",
        description="Let Inkwell write in a channel (once any are allowed, only those are)",
    )
    @app_commands.describe(channel="The channel to allow")
    async def allow_channel(
        self, interaction: discord.Interaction, channel: discord.TextChannel
    ) -> None:
        """Add a channel to the allow-list."""
        await acknowledge(interaction)
        await self._database.guild_settings.allow_channel(self._guild(interaction), channel.id)
        await self._show_after(interaction, f"Inkwell now writes in {channel.mention}.")

    @app_commands.command(name="disallow-channel", description="Stop Inkwell writing in a channel")
    @app_commands.describe(channel="The channel to remove from the allow-list")
    async def disallow_channel(
        self, interaction: discord.Interaction, channel: discord.TextChannel
    ) -> None:
        """Remove a channel from the allow-list."""
        await acknowledge(interaction)
        removed = await self._database.guild_settings.disallow_channel(
            self._guild(interaction), channel.id
        )
        note = "removed from" if removed else "was not on"
        await self._show_after(interaction, f"{channel.mention} {note} the allow-list.")

    @app_commands.command(name="all-channels", description="Let Inkwell write in every channel")
    async def all_channels(self, interaction: discord.Interaction) -> None:
        """Clear the allow-list."""
        await acknowledge(interaction)
        await self._database.guild_settings.clear_channels(self._guild(interaction))
        await self._show_after(interaction, "Inkwell writes in every channel again.")

    @app_commands.command(
        name="defaults",
        description="Default writing parameters here "
        "(leave an option out to keep it; use reset to clear all)",
    )
    @app_commands.describe(
        temperature="0 = safe, 2 = wild",
        top_p="Nucleus sampling mass",
        top_k="Pick among the k likeliest words",
        max_tokens="Most new tokens per piece",
        reset="Forget all server defaults",
    )
    async def defaults(
        self,
        interaction: discord.Interaction,
        temperature: app_commands.Range[float, 0.0, 2.0] | None = None,
        top_p: app_commands.Range[float, 0.01, 1.0] | None = None,
        top_k: app_commands.Range[int, 1, 200] | None = None,
        max_tokens: app_commands.Range[int, 1, 4096] | None = None,
        reset: bool = False,
    ) -> None:
        """Set or reset default parameters."""
        await acknowledge(interaction)
        guild = self._guild(interaction)
        if reset:
            await self._database.guild_settings.update(
                guild, temperature=None, top_p=None, top_k=None, max_new_tokens=None
            )
        changes = {
            name: value
            for name, value in (
                ("temperature", temperature),
                ("top_p", top_p),
                ("top_k", top_k),
                ("max_new_tokens", max_tokens),
            )
            if value is not None
        }
        if changes:
            await self._database.guild_settings.update(guild, **changes)
        await self._show_after(
            interaction,
            "Defaults updated."
            if changes or reset
            else "Nothing changed — give at least one option.",
        )

    @app_commands.command(name="cooldown", description="Seconds each member waits between pieces")
    @app_commands.describe(
        seconds="0 to 3600; leave out to use the bot's default (a server can lengthen it, "
        "not shorten it)"
    )
    async def cooldown(
        self,
        interaction: discord.Interaction,
        seconds: app_commands.Range[int, 0, 3600] | None = None,
    ) -> None:
        """Set the per-member cooldown."""
        await acknowledge(interaction)
        await self._database.guild_settings.update(
            self._guild(interaction), cooldown_seconds=seconds
        )
        await self._show_after(interaction, "Cooldown updated.")

    @app_commands.command(
        name="content", description="How strictly Inkwell filters words, in prompts and pieces"
    )
    @app_commands.describe(
        rating="strict, standard (the default) or off (only in age-restricted channels)"
    )
    async def content(
        self, interaction: discord.Interaction, rating: Literal["strict", "standard", "off"]
    ) -> None:
        """Set the server's content rating."""
        if rating == Rating.OFF and not channel_is_nsfw(interaction.channel):
            raise InvalidRequest(
                "The filter can only be turned off from an age-restricted channel, and then "
                "it is off only in age-restricted channels. Run this command in one "
                "(channel settings → Age-Restricted Channel), or pick strict or standard."
            )
        await acknowledge(interaction)
        await self._database.guild_settings.update(self._guild(interaction), content_rating=rating)
        await self._show_after(interaction, f"Content filter set to {RATINGS[Rating(rating)]}.")

    @app_commands.command(name="voice", description="Write this server's pieces in its own voice")
    @app_commands.describe(adapter="A voice trained on this server's writing, or none")
    async def voice(self, interaction: discord.Interaction, adapter: str) -> None:
        """Choose the adapter the server's pieces are written with ("none": the base model)."""
        await acknowledge(interaction)
        chosen = await choose_voice(
            self._database, self._voices_dir, self._guild(interaction), adapter
        )
        if chosen is None:
            await self._show_after(interaction, "Pieces here are written by the base model again.")
            return
        note = (
            " It is marked for retraining: an author it learned from has withdrawn."
            if chosen.needs_retraining
            else ""
        )
        await self._show_after(
            interaction,
            f"Pieces here are now written in the voice “{chosen.name}”, built from "
            f"{chosen.authors} author{'s' if chosen.authors != 1 else ''} as of "
            f"{chosen.built_at:%Y-%m-%d} (`/voice card`).{note}",
        )

    @voice.autocomplete("adapter")
    async def _voices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        records = await choosable(self._database, self._voices_dir, interaction.guild_id)
        names = [NONE, *(record.name for record in records)]
        return [app_commands.Choice(name=n, value=n) for n in names if current.lower() in n][:25]

    blocked_words = app_commands.Group(
        name="blocked-words", description="This server's own blocked words"
    )

    @blocked_words.command(name="add", description="Block a word or short phrase here")
    @app_commands.describe(word=f"A word or phrase of up to {MAX_BLOCKED_WORD_CHARS} characters")
    async def blocked_add(
        self,
        interaction: discord.Interaction,
        word: app_commands.Range[str, 1, MAX_BLOCKED_WORD_CHARS],
    ) -> None:
        """Add a blocked word."""
        cleaned = clean_blocked_word(word)
        await acknowledge(interaction)
        added = await self._database.guild_settings.add_blocked_word(
            self._guild(interaction), cleaned, limit=MAX_BLOCKED_WORDS
        )
        await answer(
            interaction,
            f"||{cleaned}|| is now blocked here, in prompts, lines, entries and pieces."
            if added
            else f"||{cleaned}|| was already blocked here.",
        )

    @blocked_words.command(name="remove", description="Stop blocking a word here")
    @app_commands.describe(word="One of this server's blocked words")
    async def blocked_remove(
        self,
        interaction: discord.Interaction,
        word: app_commands.Range[str, 1, MAX_BLOCKED_WORD_CHARS],
    ) -> None:
        """Remove a blocked word."""
        cleaned = clean_blocked_word(word)
        await acknowledge(interaction)
        removed = await self._database.guild_settings.remove_blocked_word(
            self._guild(interaction), cleaned
        )
        await answer(
            interaction,
            f"||{cleaned}|| is no longer blocked here."
            if removed
            else f"||{cleaned}|| wasn't on this server's blocked words.",
        )

    @blocked_remove.autocomplete("word")
    async def _blocked_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        words = (await self._database.guild_settings.get(self._guild(interaction))).blocked_words
        needle = current.casefold()
        return [app_commands.Choice(name=w, value=w) for w in sorted(words) if needle in w][:25]

    @blocked_words.command(name="list", description="This server's blocked words")
    async def blocked_list(self, interaction: discord.Interaction) -> None:
        """List the blocked words (as spoilers, so nobody reads them by accident)."""
        words = sorted(
            (await self._database.guild_settings.get(self._guild(interaction))).blocked_words
        )
        if not words:
            await answer(interaction, "This server has no blocked words of its own yet.")
            return
        head = f"**{len(words)} of {MAX_BLOCKED_WORDS} blocked words here:**\n"
        shown = ", ".join(f"||{w}||" for w in words)
        if len(shown) <= LIST_CHARS:
            await answer(interaction, head + shown)
            return
        listing = discord.File(io.BytesIO("\n".join(words).encode()), filename="blocked-words.txt")
        await interaction.response.send_message(
            head + "(attached: too many to show here)",
            file=listing,
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )

    async def _show_after(self, interaction: discord.Interaction, note: str) -> None:
        settings = await self._database.guild_settings.get(self._guild(interaction))
        await self._reply(interaction, f"{note}\n\n{describe_settings(settings)}")

    @staticmethod
    async def _reply(interaction: discord.Interaction, text: str) -> None:
        await answer(interaction, text)

    @staticmethod
    def _guild(interaction: discord.Interaction) -> int:
        assert interaction.guild_id is not None  # guild_only
        return interaction.guild_id


async def setup(bot: InkwellBot) -> None:
    """Extension entry point: /settings."""
    await bot.add_cog(AdminCog(bot.database, Path(bot.settings.voice.adapters_dir)))
