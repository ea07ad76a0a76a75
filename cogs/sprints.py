"""/sprint start|join|leave|wc|wrote|status|cancel|stats: timed writing together in a channel.

The cog owns the sprint service (whose board is the channel) and registers its timers with the
bot's clock. Every reply is private; what the channel sees (the start, pens down, the results)
is posted by the board.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.sprints import rules
from bot.sprints.notices import stats_text, status_text
from bot.sprints.service import SprintService
from cogs.private import acknowledge, answer
from cogs.render import piece_body
from cogs.safety import check_typed
from cogs.sprint_board import DISCORD_STYLE, DiscordBoard, discord_when
from cogs.sprint_buttons import COG_NAME, JoinButton

if TYPE_CHECKING:
    from cogs.client import InkwellBot

Minutes = app_commands.Range[int, rules.MIN_MINUTES, rules.MAX_MINUTES]
Delay = app_commands.Range[int, rules.MIN_DELAY, rules.MAX_DELAY]
Words = app_commands.Range[int, 0, rules.MAX_WORDS]
Added = app_commands.Range[int, -rules.MAX_WORDS, rules.MAX_WORDS]
Prompt = app_commands.Range[str, 1, 200]


@app_commands.guild_only()
class SprintCog(commands.GroupCog, name=COG_NAME, group_name="sprint"):
    """Write against the clock together, then compare counts."""

    def __init__(self, bot: InkwellBot, service: SprintService) -> None:
        self._bot = bot
        self.service = service
        super().__init__()

    async def cog_load(self) -> None:
        """Register the Join button and the sprints' timers (due ones fire once the clock
        starts)."""
        self._bot.add_dynamic_items(JoinButton)
        self.service.attach()
        await self.service.start_sweep()

    async def cog_unload(self) -> None:
        """Stop firing them; they wait in the table."""
        self._bot.remove_dynamic_items(JoinButton)
        self.service.detach()

    @app_commands.command(name="start", description="Start a writing sprint in this channel.")
    @app_commands.describe(
        minutes="How long everyone writes (1 to 120 minutes)",
        delay="Minutes until it starts, so others can join (0 to 60)",
        prompt='Something to write about; "ai" asks Inkwell for one',
    )
    async def start(
        self,
        interaction: discord.Interaction,
        minutes: Minutes,
        delay: Delay = 0,
        prompt: Prompt | None = None,
    ) -> None:
        """Set up a sprint; you are in it from the start."""
        if prompt is not None and prompt.strip().casefold() != "ai":
            check_typed(self._bot.flow, interaction, prompt, "prompt")
        await acknowledge(interaction)
        assert interaction.channel_id is not None
        channel = interaction.channel
        parent_id = channel.parent_id if isinstance(channel, discord.Thread) else None
        sprint = await self.service.start(
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            user_id=interaction.user.id,
            user_name=interaction.user.display_name,
            minutes=minutes,
            delay=delay,
            prompt=prompt,
            parent_channel_id=parent_id,
        )
        if sprint.status == "waiting":
            when = f"it starts {discord_when(sprint.starts_at)}"
        else:
            when = f"it's on, and ends {discord_when(sprint.ends_at)}"
        await answer(
            interaction,
            f"🏃 Sprint #{sprint.id} is set: {when}; you're in. Send your count with "
            "`/sprint wc` as you go or when it ends.",
        )

    @app_commands.command(name="join", description="Join this channel's sprint.")
    @app_commands.describe(
        starting_words="Words already in your document, so your count can be your total"
    )
    async def join(
        self, interaction: discord.Interaction, starting_words: Words | None = None
    ) -> None:
        """Join (or set your starting words again)."""
        await acknowledge(interaction)
        assert interaction.channel_id is not None
        _, member, new = await self.service.join(
            interaction.channel_id,
            interaction.user.id,
            interaction.user.display_name,
            starting_words,
        )
        start = f" from {member.starting_words:,} words" if member.starting_words else ""
        text = (
            f"✍️ You're in{start}. Good luck!"
            if new
            else f"✍️ Starting words set to {member.starting_words:,}."
        )
        await answer(interaction, text)

    @app_commands.command(name="leave", description="Leave this channel's sprint.")
    async def leave(self, interaction: discord.Interaction) -> None:
        """Leave; your time stops now, and your count so far still counts."""
        await acknowledge(interaction)
        assert interaction.channel_id is not None
        await self.service.leave(interaction.channel_id, interaction.user.id)
        await answer(interaction, "👋 You left the sprint. A count you sent still counts.")

    @app_commands.command(name="wc", description="Send your word count (your whole total).")
    @app_commands.describe(words="Your document's whole word count now")
    async def wc(self, interaction: discord.Interaction, words: Words) -> None:
        """Your total: what you wrote is this minus your starting words."""
        await self._count(interaction, total=words)

    @app_commands.command(name="wrote", description="Add words to your count.")
    @app_commands.describe(words="How many words you wrote since your last count")
    async def wrote(self, interaction: discord.Interaction, words: Added) -> None:
        """Words added since your last count (negative takes some back)."""
        await self._count(interaction, added=words)

    async def _count(
        self,
        interaction: discord.Interaction,
        *,
        total: int | None = None,
        added: int | None = None,
    ) -> None:
        await acknowledge(interaction)
        assert interaction.channel_id is not None
        _, written = await self.service.count(
            interaction.channel_id, interaction.user.id, total=total, added=added
        )
        await answer(interaction, f"📝 Counted: {written:,} words written this sprint.")

    @app_commands.command(name="status", description="Where this channel's sprint stands.")
    async def status(self, interaction: discord.Interaction) -> None:
        """Time left, who is writing, and your count."""
        await acknowledge(interaction)  # a busy loop can take seconds over the reads
        assert interaction.channel_id is not None
        sprint = await self.service.in_channel(interaction.channel_id)
        members = await self.service.members(sprint.id)
        await answer(interaction, status_text(sprint, members, interaction.user.id, DISCORD_STYLE))

    @app_commands.command(name="cancel", description="Call off this channel's sprint.")
    async def cancel(self, interaction: discord.Interaction) -> None:
        """For whoever started it, or anyone who can manage messages here."""
        await acknowledge(interaction)
        assert interaction.channel_id is not None
        await self.service.cancel(
            interaction.channel_id,
            interaction.user.id,
            interaction.user.display_name,
            moderator=interaction.permissions.manage_messages,
        )
        await answer(interaction, "🛑 The sprint is cancelled.")

    @app_commands.command(name="stats", description="Your sprint totals and personal bests.")
    async def stats(self, interaction: discord.Interaction) -> None:
        """Totals and bests in this server."""
        await acknowledge(interaction)
        found = await self.service.stats(interaction.user.id, interaction.guild_id)
        await answer(interaction, stats_text(found, piece_body(interaction.user.display_name)))


async def setup(bot: InkwellBot) -> None:
    """Build the sprint service on the bot's database, flow and clock, with the channel as
    its board."""
    service = SprintService(
        bot.database,
        bot.clock,
        DiscordBoard(bot),
        clock=bot.clock.clock,
        flow=bot.flow,
        max_wpm=bot.settings.sprints.max_wpm,
    )
    await bot.add_cog(SprintCog(bot, service))
