"""/daily: the prompt of the day. Moderators (Manage Server) set it up, pause, resume and
remove it; everyone sees today's prompt and the archive, submits an entry and hearts others'.

Every reply is private; what the channel sees is posted by the daily board.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.community.daily import DailyService, PromptSource
from bot.community.daily_schedule import zone_names
from bot.storage.daily import DailyPrompt
from cogs.daily_board import (
    COG_NAME,
    DAILY_ITEMS,
    DiscordDailyBoard,
    on_entry_submitted,
    open_entry_modal,
    prompt_embed,
)
from cogs.private import acknowledge, answer, answer_with

if TYPE_CHECKING:
    from cogs.client import InkwellBot

NO_PINGS = discord.AllowedMentions.none()
SourceChoice = Literal["any", "curated", "ai"]
ModeChoice = Literal["post", "collect"]
PeriodChoice = Literal["week", "month", "all"]
FORM_PROMPT_SECONDS = 30.0


def _require_manage_guild(interaction: discord.Interaction) -> None:
    """Checked here, on the server side, whatever the server's command overrides say."""
    if not interaction.permissions.manage_guild:
        raise app_commands.MissingPermissions(["manage_guild"])


@app_commands.guild_only()
class DailyCog(commands.GroupCog, name=COG_NAME, group_name="daily"):
    """A prompt every day, with entries and hearts."""

    def __init__(self, bot: InkwellBot, service: DailyService) -> None:
        self._bot = bot
        self.service = service
        self._form_prompts: dict[int, tuple[float, DailyPrompt]] = {}
        super().__init__()

    async def _today_for_form(self, guild_id: int) -> DailyPrompt:
        """Today's prompt, from memory when asked for in the last ``FORM_PROMPT_SECONDS``.

        A modal must be the first answer, so this read cannot be deferred: on a busy loop two
        queries can take past Discord's 3 s. A prompt a few seconds stale costs nothing, since
        the submitted entry is checked against today's prompt again (and given back if the
        day ended)."""
        now = time.monotonic()
        cached = self._form_prompts.get(guild_id)
        if cached is not None and now - cached[0] < FORM_PROMPT_SECONDS:
            return cached[1]
        prompt = await self.service.today(guild_id)  # not found is not remembered
        self._form_prompts[guild_id] = (now, prompt)
        return prompt

    async def cog_load(self) -> None:
        """Register the buttons and the daily timer, and plan every schedule."""
        self._bot.add_dynamic_items(*DAILY_ITEMS)
        self.service.attach()
        await self.service.plan_all()

    async def cog_unload(self) -> None:
        """Remove them again."""
        self._bot.remove_dynamic_items(*DAILY_ITEMS)
        self.service.detach()

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Entries typed into the modal (handled here, so they arrive across restarts)."""
        await on_entry_submitted(interaction, self._bot)

    @app_commands.command(name="setup", description="Post a prompt every day (Manage Server)")
    @app_commands.describe(
        channel="Where to post it",
        time="Local time, HH:MM on a 24-hour clock",
        timezone="Your time zone (IANA name, e.g. Europe/Berlin)",
        source="curated prompts, AI-written ones, or any",
        mode="post: entries shown at once · collect: revealed with the next prompt",
    )
    async def setup(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        time: str,
        timezone: str,
        source: SourceChoice = "any",
        mode: ModeChoice = "post",
    ) -> None:
        """Set (or replace) the server's prompt of the day."""
        _require_manage_guild(interaction)
        mine = channel.permissions_for(channel.guild.me)
        if not (mine.send_messages and mine.embed_links and mine.read_message_history):
            await answer(
                interaction,
                f"I need to send messages, embed links and read the history in {channel.mention} "
                "(the history, to make sure a prompt is never posted twice). Please let me, first.",
            )
            return
        await acknowledge(interaction)
        assert interaction.guild_id is not None
        schedule, due = await self.service.setup(
            interaction.guild_id,
            channel_id=channel.id,
            local_time=time,
            timezone=timezone,
            source=source,
            mode=mode,
            owner_id=interaction.user.id,
        )
        self._form_prompts.pop(interaction.guild_id, None)  # a new time zone is a new day
        await answer(
            interaction,
            f"🌅 A prompt every day at {schedule.local_time} ({schedule.timezone}) in "
            f"<#{schedule.channel_id}>, {mode} mode. The next one comes "
            f"<t:{int(due.timestamp())}:R>.",
        )

    @setup.autocomplete("timezone")
    async def _timezones(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=name, value=name) for name in zone_names(current)]

    @app_commands.command(name="pause", description="Pause the prompt of the day (Manage Server)")
    async def pause(self, interaction: discord.Interaction) -> None:
        """Stop posting until resumed."""
        _require_manage_guild(interaction)
        await acknowledge(interaction)
        assert interaction.guild_id is not None
        await self.service.pause(interaction.guild_id)
        self._form_prompts.pop(interaction.guild_id, None)
        await answer(
            interaction, "⏸ The prompt of the day is paused. /daily resume brings it back."
        )

    @app_commands.command(name="resume", description="Resume the prompt of the day (Manage Server)")
    async def resume(self, interaction: discord.Interaction) -> None:
        """Post again from the next due time."""
        _require_manage_guild(interaction)
        await acknowledge(interaction)
        assert interaction.guild_id is not None
        due = await self.service.resume(interaction.guild_id)
        await answer(interaction, f"▶️ Resumed. The next prompt comes <t:{int(due.timestamp())}:R>.")

    @app_commands.command(name="remove", description="Stop the prompt of the day (Manage Server)")
    async def remove(self, interaction: discord.Interaction) -> None:
        """Remove the schedule; past prompts and entries stay in the archive."""
        _require_manage_guild(interaction)
        await acknowledge(interaction)
        assert interaction.guild_id is not None
        await self.service.remove(interaction.guild_id)
        self._form_prompts.pop(interaction.guild_id, None)
        await answer(interaction, "🗑 Removed. Past prompts stay in /daily archive.")

    @app_commands.command(name="show", description="How the prompt of the day is set up")
    async def show(self, interaction: discord.Interaction) -> None:
        """The schedule and its next post (Manage Server)."""
        _require_manage_guild(interaction)
        await acknowledge(interaction)  # its reads can outlast 3 s on a busy loop
        assert interaction.guild_id is not None
        schedule, due = await self.service.show(interaction.guild_id)
        state = (
            f"paused ({schedule.pause_reason})"
            if schedule.paused
            else f"next <t:{int(due.timestamp())}:R>"
            if due
            else "waiting to be planned"
        )
        await answer(
            interaction,
            f"🌅 Every day at {schedule.local_time} ({schedule.timezone}) in "
            f"<#{schedule.channel_id}> · source {schedule.source} · {schedule.mode} mode · {state}",
        )

    @app_commands.command(name="today", description="Today's prompt")
    async def today(self, interaction: discord.Interaction) -> None:
        """Show today's prompt privately."""
        await acknowledge(interaction)  # a busy loop can take seconds over the reads
        assert interaction.guild_id is not None
        prompt = await self.service.today(interaction.guild_id)
        await answer_with(interaction, embed=prompt_embed(prompt))

    @app_commands.command(name="submit", description="Send your entry for today's prompt")
    async def submit(self, interaction: discord.Interaction) -> None:
        """Open the entry form (up to 4,000 characters)."""
        assert interaction.guild_id is not None
        await open_entry_modal(interaction, await self._today_for_form(interaction.guild_id))

    @app_commands.command(name="archive", description="Past prompts of the day")
    @app_commands.describe(before="Show prompts before this date (YYYY-MM-DD)")
    async def archive(self, interaction: discord.Interaction, before: str | None = None) -> None:
        """Ten past prompts at a time, newest first."""
        await acknowledge(interaction)  # its reads can outlast 3 s on a busy loop
        assert interaction.guild_id is not None
        prompts = await self.service.archive(interaction.guild_id, before)
        if not prompts:
            await answer(interaction, "No prompts in the archive yet.")
            return
        lines = [
            f"**{p.local_date}** · {discord.utils.escape_markdown(p.text[:150])}" for p in prompts
        ]
        more = (
            f"\nOlder: /daily archive before:{prompts[-1].local_date}" if len(prompts) == 10 else ""
        )
        embed = discord.Embed(title="🌅 Past prompts", description="\n".join(lines) + more)
        await answer_with(interaction, embed=embed)

    @app_commands.command(name="leaderboard", description="Who received the most hearts")
    async def leaderboard(
        self, interaction: discord.Interaction, period: PeriodChoice = "week"
    ) -> None:
        """Members by hearts received on their entries."""
        await acknowledge(interaction)  # its reads can outlast 3 s on a busy loop
        assert interaction.guild_id is not None
        rows = await self.service.leaderboard(interaction.guild_id, period)
        if not rows:
            await answer(interaction, "No entries yet in that period. Be the first: /daily submit")
            return
        lines = [
            f"{rank}. {discord.utils.escape_markdown(row.user_name)} · ❤️ {row.hearts} "
            f"({row.entries} entr{'y' if row.entries == 1 else 'ies'})"
            for rank, row in enumerate(rows, start=1)
        ]
        embed = discord.Embed(title=f"🏆 Hearts · {period}", description="\n".join(lines))
        await answer_with(interaction, embed=embed)


async def setup(bot: InkwellBot) -> None:
    """Build the daily service on the bot's database and clock, posting in its channels."""
    prompts: PromptSource = daily_prompt_source(bot)
    service = DailyService(
        bot.database, bot.clock, DiscordDailyBoard(bot), prompts, clock=bot.clock.clock
    )
    await bot.add_cog(DailyCog(bot, service))


def daily_prompt_source(bot: InkwellBot) -> PromptSource:
    """Where the bot's daily prompts come from."""
    from bot.community.daily_prompts import prompt_source

    return prompt_source(bot.database, bot.flow)
