"""The Discord client: a typed bot that is handed its resources and loads the cogs."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.config import Settings
from bot.storage import Database
from bot.writing.flow import Studio
from cogs.buttons import BUTTONS
from cogs.errors import InkwellTree
from cogs.writing import WritingCog

log = logging.getLogger(__name__)


class InkwellBot(commands.Bot):
    """Inkwell on Discord. Resources are built by the caller and passed in."""

    writing_cog: WritingCog

    def __init__(
        self, *, settings: Settings, studio: Studio, database: Database, **client_options: object
    ) -> None:
        # Slash commands need no privileged intents: no message content, no member list.
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            tree_cls=InkwellTree,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            **client_options,
        )  # type: ignore[arg-type]
        self.settings = settings
        self.studio = studio
        self.database = database

    async def setup_hook(self) -> None:
        """Load the cogs and the restart-proof buttons; commands are synced separately."""
        from cogs.admin import AdminCog
        from cogs.library import FavoritesCog, LibraryCog
        from cogs.privacy import PrivacyCog
        from cogs.prompts import PromptsCog

        self.writing_cog = WritingCog(self, self.studio, self.database, self.settings.discord)
        await self.add_cog(self.writing_cog)
        await self.add_cog(AdminCog(self.database))
        await self.add_cog(FavoritesCog(self, self.database))
        await self.add_cog(LibraryCog(self.database))
        await self.add_cog(PromptsCog(self.database))
        await self.add_cog(PrivacyCog(self, self.database))
        self.add_dynamic_items(*BUTTONS)

    async def on_ready(self) -> None:
        """Log who we are once connected."""
        assert self.user is not None
        log.info(
            "Connected as %s (id %s) to %d guild(s)", self.user, self.user.id, len(self.guilds)
        )
