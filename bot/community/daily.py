"""The prompt of the day: schedules, the daily post through the clock, entries and hearts.

Each guild's next post is one timer (``daily.post``, keyed by guild). When it fires, the
prompt for that local day is claimed in storage first (one row per guild and day), then
posted, then its message recorded. A retry after a crash finds the claimed row: if the post
already went out (the board can find it in the channel), it is only recorded, never posted
twice. A post whose day is over by the time the timer fires is skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from bot.clock.dispatcher import Clock, Dispatcher, TimerKind
from bot.community.daily_schedule import DailyTime, local_day, next_post, parse_time, parse_zone
from bot.errors import InkwellError, InvalidRequest
from bot.storage import Database, NotFound, Timer
from bot.storage.daily import DailyEntry, DailyPrompt, DailySchedule, LeaderboardRow
from bot.writing.destination import DestinationGone

log = logging.getLogger(__name__)

POST_TIMER = "daily.post"
# A post that keeps failing (not a gone channel) is given up for the day at this attempt.
GIVE_UP_AFTER = 4
SOURCES = ("any", "curated", "ai")
MODES = ("post", "collect")
PERIODS = {"week": timedelta(days=7), "month": timedelta(days=30), "all": None}


class PromptSource(Protocol):
    """Where a day's prompt comes from (the /idea pool, or the model)."""

    async def daily_prompt(
        self, *, guild_id: int, channel_id: int, source: str, owner_id: int
    ) -> str:
        """One prompt's text (``owner_id``: who set the schedule up)."""
        ...


class DailyBoard(Protocol):
    """Where the prompt of the day is shown: a Discord channel, or the console."""

    async def post_prompt(self, schedule: DailySchedule, prompt: DailyPrompt) -> int:
        """Post the prompt; returns its message id. Raises ``DestinationGone``."""
        ...

    async def find_prompt(self, channel_id: int, prompt_id: int) -> int | None:
        """The message that already shows ``prompt_id`` in the channel, if there is one."""
        ...

    async def post_entry(
        self,
        prompt: DailyPrompt,
        entry: DailyEntry,
        *,
        revealed: bool,
        channel_id: int | None = None,
    ) -> int:
        """Show an entry (at once in post mode, at the reveal in collect mode), in
        ``channel_id`` or else the prompt's channel."""
        ...

    async def tell(self, user_id: int, text: str) -> None:
        """Tell a member something when no interaction is there to answer."""
        ...


@dataclass(frozen=True)
class Submitted:
    """An entry as stored, and whether it was shown now (post mode) or waits for the reveal."""

    entry: DailyEntry
    shown: bool


class DailyService:
    """Schedules the prompt of the day and takes its entries and hearts."""

    def __init__(
        self,
        database: Database,
        dispatcher: Dispatcher,
        board: DailyBoard,
        prompts: PromptSource,
        *,
        clock: Clock,
    ) -> None:
        self._db = database
        self._dispatcher = dispatcher
        self._board = board
        self._prompts = prompts
        self._clock = clock

    def attach(self) -> None:
        """Let the clock fire the daily posts."""
        self._dispatcher.register(TimerKind(POST_TIMER, self._fire, on_gone=self._on_gone))

    def detach(self) -> None:
        """Stop firing them (the cog is unloaded); the timers wait in the table."""
        self._dispatcher.unregister(POST_TIMER)

    # --- schedules -------------------------------------------------------------------------

    async def setup(
        self,
        guild_id: int,
        *,
        channel_id: int,
        local_time: str,
        timezone: str,
        source: str,
        mode: str,
        owner_id: int,
    ) -> tuple[DailySchedule, datetime]:
        """Set (or replace) the guild's schedule; returns it and when the next post is due."""
        at = parse_time(local_time)
        zone = parse_zone(timezone)
        if source not in SOURCES:
            raise InvalidRequest(f"source must be one of: {', '.join(SOURCES)}.")
        if mode not in MODES:
            raise InvalidRequest("mode must be post (entries shown at once) or collect.")
        schedule = await self._db.daily.set_schedule(
            guild_id,
            channel_id=channel_id,
            local_time=at.strftime("%H:%M"),
            timezone=zone.key,
            source=source,
            mode=mode,
            owner_id=owner_id,
        )
        return schedule, await self.plan(schedule)

    async def plan(self, schedule: DailySchedule) -> datetime:
        """Set the guild's timer to its next post; returns when that is."""
        due = next_post(_daily_time(schedule), await self._last_posted(schedule), self._now())
        await self._dispatcher.schedule(
            POST_TIMER,
            str(schedule.guild_id),
            due.due_at.timestamp(),
            {"owner_id": schedule.owner_id},
            guild_id=schedule.guild_id,
        )
        return due.due_at

    async def _last_posted(self, schedule: DailySchedule) -> date | None:
        """The last local day (in the schedule's zone now) whose prompt is done. A prompt
        claimed today but never shown doesn't count: it is finished, not skipped. A prompt
        posted under another zone counts for the day it fell on here, so moving the
        schedule to another zone never posts twice on one local day."""
        last = await self._db.daily.latest_prompt(schedule.guild_id)
        if last is None:
            return None
        daily_time = _daily_time(schedule)
        if last.timezone == schedule.timezone:
            done = date.fromisoformat(last.local_date)
            if last.message_id is None and done == local_day(daily_time, self._now()):
                return done - timedelta(days=1)
            return done
        return local_day(daily_time, datetime.fromtimestamp(last.posted_at, UTC))

    async def plan_all(self) -> int:
        """Plan every active schedule (on start: a timer lost to a crash comes back)."""
        planned = 0
        for schedule in await self._db.daily.all_schedules():
            if (
                not schedule.paused
                and await self._db.timers.get(POST_TIMER, str(schedule.guild_id)) is None
            ):
                await self.plan(schedule)
                planned += 1
        return planned

    async def pause(self, guild_id: int, reason: str | None = None) -> DailySchedule:
        """Pause the guild's schedule."""
        schedule = await self._schedule(guild_id)
        await self._db.daily.set_paused(guild_id, True, reason or "paused by a moderator")
        await self._dispatcher.cancel(POST_TIMER, str(guild_id))
        return schedule

    async def resume(self, guild_id: int) -> datetime:
        """Resume it; returns when the next post is due."""
        await self._schedule(guild_id)
        await self._db.daily.set_paused(guild_id, False)
        return await self.plan(await self._schedule(guild_id))

    async def remove(self, guild_id: int) -> None:
        """Remove the schedule (past prompts and entries stay in the archive)."""
        await self._schedule(guild_id)
        await self._db.daily.remove_schedule(guild_id)
        await self._dispatcher.cancel(POST_TIMER, str(guild_id))

    async def show(self, guild_id: int) -> tuple[DailySchedule, datetime | None]:
        """The schedule and when its next post is due (None while paused)."""
        schedule = await self._schedule(guild_id)
        timer = await self._db.timers.get(POST_TIMER, str(guild_id))
        due = None if timer is None else datetime.fromtimestamp(timer.due_at, UTC)
        return schedule, due

    # --- posting ---------------------------------------------------------------------------

    async def _fire(self, timer: Timer) -> float | None:
        guild_id = int(timer.key)
        schedule = await self._db.daily.schedule(guild_id)
        if schedule is None or schedule.paused:
            return None
        # What is due is worked out afresh from what was posted, not from the plan: a post
        # planned for a day that is over by now is skipped, and today's is made once.
        daily_time = _daily_time(schedule)
        now = self._now()
        last_date = await self._last_posted(schedule)
        due = next_post(daily_time, last_date, now)
        if due.due_at <= now:
            try:
                await self._post(schedule, due.local_date.isoformat())
            except DestinationGone:
                raise  # the clock pauses the schedule and tells its owner
            except Exception:
                if timer.attempts < GIVE_UP_AFTER:
                    raise  # retried after the lease
                # Don't let one bad day end the schedule: skip to tomorrow.
                log.exception("Daily prompt of guild %d failed for %s", guild_id, due.local_date)
            last_date = due.local_date
        # Also when nothing was due: a reveal cut short by an error goes on at the retry.
        await self._reveal_pending(schedule)
        return next_post(daily_time, last_date, now).due_at.timestamp()

    async def _post(self, schedule: DailySchedule, local_date: str) -> None:
        zone = schedule.timezone
        prompt = await self._db.daily.prompt_for(schedule.guild_id, zone, local_date)
        mine = False
        if prompt is None:
            text = await self._prompts.daily_prompt(
                guild_id=schedule.guild_id,
                channel_id=schedule.channel_id,
                source=schedule.source,
                owner_id=schedule.owner_id,
            )
            claimed = await self._db.daily.claim_prompt(
                schedule.guild_id,
                zone,
                local_date,
                text=text,
                source=schedule.source,
                mode=schedule.mode,
                channel_id=schedule.channel_id,
                posted_at=self._clock.now(),
            )
            mine = claimed is not None
            prompt = claimed or await self._db.daily.prompt_for(schedule.guild_id, zone, local_date)
            assert prompt is not None
        if prompt.message_id is None:
            # A row this attempt didn't claim may have been posted by whoever claimed it (a
            # crashed attempt, another process): look in the channel before posting.
            found = None if mine else await self._board.find_prompt(prompt.channel_id, prompt.id)
            message_id = found or await self._board.post_prompt(schedule, prompt)
            await self._db.daily.set_prompt_message(prompt.id, message_id)

    async def _reveal_pending(self, schedule: DailySchedule) -> None:
        """Show the entries of every collected prompt before the latest posted one that are
        not yet revealed, in the schedule's channel; an entry shown is not shown again."""
        current = await self._db.daily.latest_prompt(schedule.guild_id)
        if current is None or current.message_id is None:
            return
        for prompt in await self._db.daily.unrevealed(schedule.guild_id, current.id):
            for entry in await self._db.daily.entries_for(prompt.id):
                if entry.message_id is None:
                    message_id = await self._board.post_entry(
                        prompt, entry, revealed=True, channel_id=schedule.channel_id
                    )
                    await self._db.daily.set_entry_message(entry.id, message_id)
            await self._db.daily.mark_revealed(prompt.id)

    async def _on_gone(self, timer: Timer, gone: DestinationGone) -> None:
        guild_id = int(timer.key)
        schedule = await self._db.daily.schedule(guild_id)
        await self._db.daily.set_paused(guild_id, True, gone.user_message)
        if schedule is not None and schedule.owner_id:
            await self._board.tell(
                schedule.owner_id,
                f"⏸ The prompt of the day is paused: {gone.user_message} Use /daily setup in a "
                "channel where I may post (or /daily resume once I may post again).",
            )

    # --- entries ---------------------------------------------------------------------------

    async def today(self, guild_id: int) -> DailyPrompt:
        """Today's prompt (also while its post is on its way), or NotFound: entries are only
        taken for the day a prompt is for, where the schedule lives."""
        schedule = await self._db.daily.schedule(guild_id)
        prompt = await self._db.daily.latest_prompt(guild_id)
        if schedule is None or prompt is None:
            raise NotFound(
                "There's no prompt of the day here. A moderator can set one up with /daily setup."
            )
        today = local_day(_daily_time(schedule), self._now()).isoformat()
        if prompt.timezone != schedule.timezone or prompt.local_date != today:
            raise NotFound("Today's prompt hasn't been posted yet. /daily show says when it comes.")
        return prompt

    async def submit(self, guild_id: int, user_id: int, user_name: str, text: str) -> Submitted:
        """An entry for today's prompt: shown now in post mode, kept for the reveal in
        collect mode."""
        cleaned = text.replace("\r\n", "\n").strip()
        if not cleaned:
            raise InvalidRequest("Your entry is empty: write something, then send it again.")
        prompt = await self.today(guild_id)
        entry = await self._db.daily.add_entry(prompt, user_id, user_name, cleaned)
        if prompt.mode == "collect":
            return Submitted(entry, shown=False)
        try:
            message_id = await self._board.post_entry(prompt, entry, revealed=False)
        except Exception as error:
            # Not shown, so not kept: the member can send it again once the problem is fixed.
            await self._db.daily.delete_entry(entry.id, user_id)
            reason = (
                error.user_message
                if isinstance(error, DestinationGone)
                else ("Discord didn't take the post just now")
            )
            raise InkwellError(
                f"I couldn't post your entry ({reason}), so it isn't saved. Please try again."
            ) from error
        await self._db.daily.set_entry_message(entry.id, message_id)
        return Submitted(entry, shown=True)

    async def heart(self, entry_id: int, voter_id: int) -> tuple[bool, int]:
        """Give or take back a heart: one each, never on your own entry."""
        entry = await self._db.daily.entry(entry_id)
        if entry is None:
            raise NotFound("That entry is no longer here.")
        if entry.user_id == voter_id:
            raise InvalidRequest("You can't heart your own entry.")
        return await self._db.daily.toggle_heart(entry_id, voter_id)

    async def leaderboard(self, guild_id: int, period: str) -> list[LeaderboardRow]:
        """Members by hearts over ``period`` (week, month or all)."""
        if period not in PERIODS:
            raise InvalidRequest("period must be week, month or all.")
        span = PERIODS[period]
        since = None if span is None else self._now() - span
        return await self._db.daily.leaderboard(guild_id, since=since)

    async def archive(self, guild_id: int, before_date: str | None) -> list[DailyPrompt]:
        """Past prompts, newest first, ten at a time."""
        return await self._db.daily.archive(guild_id, before_date=before_date, limit=10)

    # --- helpers ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.now(), UTC)

    async def _schedule(self, guild_id: int) -> DailySchedule:
        schedule = await self._db.daily.schedule(guild_id)
        if schedule is None:
            raise NotFound("This server has no prompt of the day. Set one up with /daily setup.")
        return schedule


def _daily_time(schedule: DailySchedule) -> DailyTime:
    return DailyTime(parse_time(schedule.local_time), parse_zone(schedule.timezone))
