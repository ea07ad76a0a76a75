"""The Discord client: a typed bot that is handed its resources and loads the cogs."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.clock.dispatcher import Dispatcher
from bot.config import Settings
from bot.ops.interactions import OK, InteractionLog
from bot.ops.recent import RecentWindow
from bot.ops.stats import Vitals
from bot.storage import Database
from bot.writing.drafts import Draft
from bot.writing.flow import WriteFlow
from cogs.destinations import write_reply
from cogs.errors import InkwellTree, interaction_finished
from cogs.gate import build_gate

log = logging.getLogger(__name__)

# Each a module with ``async def setup(bot)``, so an operator can reload one on its own.
EXTENSIONS = (
    "cogs.writing",
    "cogs.admin",
    "cogs.favorites",
    "cogs.library",
    "cogs.prompts",
    "cogs.privacy",
    "cogs.games",
    "cogs.anthology",
    "cogs.craft",
    "cogs.ideas",
    "cogs.sprints",
    "cogs.daily",
    "cogs.voice",
    "cogs.stats",
    "cogs.owner",
)


def inkwell_intents() -> discord.Intents:
    """Only what Inkwell uses: guilds, channels, threads and roles, for permission checks.
    Slash commands and buttons arrive as interactions, which need no intent at all."""
    return discord.Intents(guilds=True)


class InkwellBot(commands.AutoShardedBot):
    """Inkwell on Discord. Resources are built by the caller and passed in.

    Sharded always: with ``discord.shard_count = 0`` it runs as many shards as Discord
    advises, all here; with ``shard_ids`` only those, so several processes (one per shard
    group, on one database) share a bot too big for one."""

    def __init__(
        self,
        *,
        settings: Settings,
        flow: WriteFlow,
        database: Database,
        clock: Dispatcher,
        interactions: InteractionLog | None = None,
        vitals: Vitals | None = None,
        **client_options: object,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=inkwell_intents(),
            tree_cls=InkwellTree,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            shard_count=settings.discord.shard_count or None,
            shard_ids=list(settings.discord.shard_ids) or None,
            **client_options,
        )  # type: ignore[arg-type]
        self.settings = settings
        self.flow = flow
        self.database = database
        self.clock = clock
        # One log line (and metrics, when they are on) per command, button and modal.
        self.interactions = interactions or InteractionLog()
        # What /stats reports; a bot built without it (tests, tools) reports what it can.
        self.vitals = vitals or Vitals(settings=settings, database=database, recent=RecentWindow())
        # Blocked members and servers, and the per-minute limits, before any routing.
        self.gate = build_gate(self)
        self.gate.install()

    async def setup_hook(self) -> None:
        """Load the cogs (each gets the flow, database and settings it needs); commands are
        synced separately, on purpose. The blocklist is read, and the application's owners
        learned, before the first interaction can arrive."""
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.gate.refresh()
        if not self.settings.discord.owner_ids:
            await self.learn_owners()

    async def learn_owners(self) -> None:
        """Ask Discord who owns the application, so the gate (which cannot wait on Discord)
        never refuses them."""
        try:
            await self.is_owner(discord.Object(id=0))  # type: ignore[arg-type]
        except (discord.HTTPException, OSError):
            log.warning("Could not ask Discord who owns the application", exc_info=True)

    async def write_reply(self, interaction: discord.Interaction, draft: Draft) -> None:
        """Write ``draft`` into the reply of ``interaction`` (for buttons, which are not cogs)."""
        await write_reply(
            interaction, self.flow, draft, interval=self.settings.discord.stream_edit_interval
        )

    async def on_app_command_completion(
        self,
        interaction: discord.Interaction,
        command: discord.app_commands.Command[..., object, object]
        | discord.app_commands.ContextMenu,
    ) -> None:
        """A command that ended without an error gets its line (failures get theirs in the
        tree's error handler)."""
        interaction_finished(interaction, OK)

    async def on_ready(self) -> None:
        """Start the clock (once: READY comes again after a reconnect) and log who we are.

        Not in ``setup_hook``: ``sync`` logs in too, and must not fire timers. Due timers are
        caught up here, when destinations can be reached."""
        self.clock.start()
        assert self.user is not None
        log.info(
            "Connected as %s (id %s) to %d guild(s)", self.user, self.user.id, len(self.guilds)
        )
