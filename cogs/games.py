"""/poemgame start|add|status|skip|end|leave: collaborative poems in a channel.

The cog owns the game service (whose table is the channel) and registers its timers with the
bot's clock; the lobby and board buttons and the line modal are in ``cogs.game_buttons``.
Every reply is private; what the table sees is posted by the service's table.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.forms import PoemForm
from bot.games import rules
from bot.games.lines import MAX_LINE_CHARS, MAX_TITLE_CHARS
from bot.games.model import (
    MAX_LINES,
    MAX_TURN_TIMEOUT,
    MIN_LINES,
    MIN_TURN_TIMEOUT,
    Mode,
)
from bot.games.service import GameService
from cogs.game_buttons import COG_NAME, GAME_ITEMS, is_moderator, on_line_submitted
from cogs.game_render import status_text
from cogs.game_table import DiscordTable
from cogs.private import acknowledge, answer
from cogs.safety import check_typed

if TYPE_CHECKING:
    from cogs.client import InkwellBot

ModeChoice = Literal["round-robin", "corpse", "vote"]
FormChoice = Literal["free", "haiku", "quatrain", "limerick", "sonnet"]
Lines = app_commands.Range[int, MIN_LINES, MAX_LINES]
TurnTimeout = app_commands.Range[int, MIN_TURN_TIMEOUT, MAX_TURN_TIMEOUT]
LineText = app_commands.Range[str, 1, MAX_LINE_CHARS * 2]  # longer is refused with a reason
Title = app_commands.Range[str, 1, MAX_TITLE_CHARS]
DEFAULT_TURN_TIMEOUT = 300


@app_commands.guild_only()
class PoemGameCog(commands.GroupCog, name=COG_NAME, group_name="poemgame"):
    """Write a poem together, one line at a time, with Inkwell at the table."""

    def __init__(self, bot: InkwellBot, service: GameService) -> None:
        self._bot = bot
        self.service = service
        super().__init__()

    async def cog_load(self) -> None:
        """Register the restart-proof buttons and the games' timers."""
        self._bot.add_dynamic_items(*GAME_ITEMS)
        self.service.attach()
        await self.service.start_sweep()

    async def cog_unload(self) -> None:
        """Remove them again."""
        self._bot.remove_dynamic_items(*GAME_ITEMS)
        self.service.detach()

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Lines typed into the modal (handled here, so they arrive across restarts)."""
        await on_line_submitted(interaction, self._bot)

    @app_commands.command(name="start", description="Open a poem game in this channel.")
    @app_commands.describe(
        mode="round-robin: take turns · corpse: see only the line before yours · vote: choose "
        "each line together",
        form="The poem's form; fixed forms repeat by stanza",
        lines=f"How many lines ({MIN_LINES} to {MAX_LINES}); fixed forms default to one stanza",
        turn_timeout="Seconds a player has for a turn (or a voting round)",
        ai="Whether Inkwell plays too",
        title="A title (otherwise Inkwell suggests one, or the first words are used)",
    )
    async def start(
        self,
        interaction: discord.Interaction,
        mode: ModeChoice = "round-robin",
        form: FormChoice = "free",
        lines: Lines | None = None,
        turn_timeout: TurnTimeout | None = None,
        ai: bool = True,
        title: Title | None = None,
    ) -> None:
        """Open a lobby with Join, Leave, Start and Cancel buttons."""
        if title is not None:
            check_typed(self._bot.flow, interaction, title, "title")
        timeout = DEFAULT_TURN_TIMEOUT if turn_timeout is None else turn_timeout
        settings = rules.settings_for(Mode(mode), PoemForm(form), lines, timeout, ai, title)
        if settings.mode is Mode.VOTE and turn_timeout is not None:
            # In a vote game the turn timeout is the voting window (60 s unless chosen).
            settings = dataclasses.replace(settings, vote_window=float(turn_timeout))
        await acknowledge(interaction)
        channel = interaction.channel
        parent_id = channel.parent_id if isinstance(channel, discord.Thread) else None
        assert interaction.channel_id is not None
        stored = await self.service.open(
            settings,
            host_id=interaction.user.id,
            host_name=interaction.user.display_name,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            parent_channel_id=parent_id,
        )
        await answer(
            interaction,
            f"📜 Game #{stored.id} is open. Others press **Join**; press **Start** when "
            "everyone is in (with ai:true you can start alone, as a duet).",
        )

    @app_commands.command(name="add", description="Add your line to this channel's poem game.")
    @app_commands.describe(line="Your line: one line of text, up to 200 characters")
    async def add(self, interaction: discord.Interaction, line: LineText) -> None:
        """Write your line (or, in a vote game, propose it)."""
        check_typed(self._bot.flow, interaction, line, "line")
        await acknowledge(interaction)
        assert interaction.channel_id is not None
        stored = await self.service.in_channel(interaction.channel_id)
        stored = await self.service.add_line(stored.id, interaction.user.id, line)
        if stored.game.settings.mode is Mode.VOTE:
            text = "✅ Your line is up for the vote."
        elif stored.game.settings.mode is Mode.CORPSE:
            text = "✅ Your line is in. Nobody else sees it until the poem is revealed."
        else:
            text = "✅ Your line is in the poem."
        await answer(interaction, text)

    @app_commands.command(name="status", description="Where this channel's poem game stands.")
    async def status(self, interaction: discord.Interaction) -> None:
        """Show the game privately (in exquisite corpse, your line to follow on your turn)."""
        await acknowledge(interaction)  # its reads can outlast 3 s on a busy loop
        assert interaction.channel_id is not None
        stored = await self.service.in_channel(interaction.channel_id)
        await answer(interaction, status_text(stored, interaction.user.id))

    @app_commands.command(name="skip", description="Skip the current turn (host or moderators).")
    async def skip(self, interaction: discord.Interaction) -> None:
        """Pass the turn on, or close the voting round now."""
        await acknowledge(interaction)
        assert interaction.channel_id is not None
        stored = await self.service.in_channel(interaction.channel_id)
        await self.service.skip(stored.id, interaction.user.id, moderator=is_moderator(interaction))
        await answer(interaction, "⏭ Skipped.")

    @app_commands.command(name="end", description="End the game now (host or moderators).")
    async def end(self, interaction: discord.Interaction) -> None:
        """End the game; the lines so far are the poem."""
        await acknowledge(interaction)
        assert interaction.channel_id is not None
        stored = await self.service.in_channel(interaction.channel_id)
        await self.service.end(stored.id, interaction.user.id, moderator=is_moderator(interaction))
        await answer(interaction, "🏁 The game is over.")

    @app_commands.command(name="leave", description="Leave this channel's poem game.")
    async def leave(self, interaction: discord.Interaction) -> None:
        """Leave the game (the host hands the role on)."""
        await acknowledge(interaction)
        assert interaction.channel_id is not None
        stored = await self.service.in_channel(interaction.channel_id)
        await self.service.leave(stored.id, interaction.user.id)
        await answer(interaction, "👋 You left the game.")


async def setup(bot: InkwellBot) -> None:
    """Build the game service on the bot's database, flow and clock, with the channel as its
    table."""
    service = GameService(
        bot.database,
        bot.flow,
        bot.clock,
        DiscordTable(bot, bot.database),
        clock=bot.clock.clock,
    )
    await bot.add_cog(PoemGameCog(bot, service))
