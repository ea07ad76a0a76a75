"""Running writing sprints: every step is stored, the start, end and results are clock timers,
and the channel is told through a board.

Nothing lives only in memory. A sprint and its first timers are written in one transaction,
and each step (start, pens down, results) moves the stored status forward by compare-and-swap
in the same transaction that schedules the next timer, so a timer fired twice finds its step
taken and does nothing. The results are worked out and the stats counted in one transaction;
the post is recorded right after, so a results timer retried after a crash posts only if the
post was never made. Cancelling needs nothing but the stored row, so a sprint can always be
cancelled, also one stuck after a crash.
"""

from __future__ import annotations

import logging
import random

from bot.clock.dispatcher import Clock, Dispatcher, TimerKind
from bot.sprints import rules
from bot.sprints.notices import (
    Announced,
    Cancelled,
    Notice,
    PensDown,
    Results,
    SprintBoard,
    Started,
)
from bot.sprints.prompt import ai_prompt
from bot.sprints.rules import SprintError, Status, Totals
from bot.storage import Database, SprintMember, SprintRow, SprintStats, Timer
from bot.writing.destination import DestinationGone
from bot.writing.flow import WriteFlow

log = logging.getLogger(__name__)

START_TIMER = "sprint.start"
END_TIMER = "sprint.end"
RESULTS_TIMER = "sprint.results"
SWEEP_TIMER = "sprint.sweep"
SWEEP_SECONDS = 300.0
OPEN = (Status.WAITING, Status.RUNNING, Status.COUNTING)


class NoSprintHere(SprintError):
    """The channel has no sprint on."""


class AlreadyIn(SprintError):
    """Joining a sprint you are in, without new starting words."""


class SprintService:
    """Starts sprints, takes joins and counts, and posts the results once. Its timers fire
    once ``attach`` has registered them with the dispatcher."""

    def __init__(
        self,
        database: Database,
        dispatcher: Dispatcher,
        board: SprintBoard,
        *,
        clock: Clock,
        flow: WriteFlow | None = None,
        max_wpm: int = rules.DEFAULT_MAX_WPM,
        choose: random.Random | None = None,
    ) -> None:
        self._db = database
        self._dispatcher = dispatcher
        self._board = board
        self._clock = clock
        self._flow = flow
        self.max_wpm = max_wpm
        self._random = choose or random.Random()

    def attach(self) -> None:
        """Let the clock fire the sprints' timers. None is ever too late: an end that
        passed while the bot was down still opens the count window, then the results."""
        self._dispatcher.register(
            TimerKind(START_TIMER, self._fire_start, on_gone=self._gone),
            TimerKind(END_TIMER, self._fire_end, on_gone=self._gone),
            TimerKind(RESULTS_TIMER, self._fire_results, on_gone=self._gone),
            TimerKind(SWEEP_TIMER, self._fire_sweep),
        )

    def detach(self) -> None:
        """Stop firing them (the cog is unloaded); they wait in the table."""
        self._dispatcher.unregister(START_TIMER, END_TIMER, RESULTS_TIMER, SWEEP_TIMER)

    async def start_sweep(self) -> None:
        """Make sure the sweep runs; it runs at once, too."""
        if await self._db.timers.get(SWEEP_TIMER, "all") is None:
            await self._dispatcher.schedule(SWEEP_TIMER, "all", self._now())

    # --- reading ---------------------------------------------------------------------------

    async def in_channel(self, channel_id: int) -> SprintRow:
        """The channel's sprint; raises ``NoSprintHere`` with a hint when there is none."""
        sprint = await self._db.sprints.open_in_channel(channel_id)
        if sprint is None:
            raise NoSprintHere(
                "There's no sprint in this channel right now. Start one with /sprint start."
            )
        return sprint

    async def members(self, sprint_id: int) -> list[SprintMember]:
        """The sprint's members."""
        return await self._db.sprints.members(sprint_id)

    async def stats(self, user_id: int, guild_id: int | None) -> SprintStats | None:
        """A member's totals and bests in the guild."""
        return await self._db.sprints.stats(user_id, guild_id)

    # --- members' actions ------------------------------------------------------------------

    async def start(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        user_name: str,
        minutes: int,
        delay: int = 0,
        prompt: str | None = None,
        parent_channel_id: int | None = None,
    ) -> SprintRow:
        """Set up a sprint in the channel (one at a time) with its starter in it, and
        announce it. ``prompt`` "ai" asks Inkwell for one."""
        now = self._now()
        plan = rules.plan(now, minutes, delay)
        wants_ai = prompt is not None and prompt.strip().casefold() == "ai"
        status = Status.WAITING if delay else Status.RUNNING
        async with self._db.transaction():
            sprint = await self._db.sprints.create(
                guild_id=guild_id,
                channel_id=channel_id,
                starter_id=user_id,
                starter_name=user_name,
                status=status.value,
                minutes=minutes,
                starts_at=plan.starts_at,
                ends_at=plan.ends_at,
                joined_at=now,
            )
            if prompt and prompt.strip() and not wants_ai:
                await self._db.sprints.set_prompt(sprint.id, prompt.strip(), by_starter=True)
            await self._plan(sprint)
        if wants_ai:
            text = await ai_prompt(self._flow, sprint, parent_channel_id, self._random)
            async with self._db.transaction():
                await self._db.sprints.set_prompt(sprint.id, text, by_starter=False)
                if not delay:
                    # Writing starts when the prompt is shown, not while it was being written.
                    await self._restart_clock(sprint, minutes)
        sprint = await self._get(sprint.id)
        if not sprint.is_open:
            return sprint  # called off while its prompt was being written
        try:
            message_id = await self._board.post(sprint, Announced(user_name))
        except DestinationGone:
            await self._stop(sprint.id)
            raise SprintError(
                "I can't post in this channel, so I can't run a sprint here."
            ) from None
        if message_id is not None:
            await self._db.sprints.set_message(sprint.id, message_id)
        return sprint

    async def join(
        self, channel_id: int, user_id: int, name: str, starting_words: int | None = None
    ) -> tuple[SprintRow, SprintMember, bool]:
        """Join the channel's sprint (or set your starting words again); returns the sprint,
        the member and whether they are new."""
        sprint = await self.in_channel(channel_id)
        return await self.join_sprint(sprint.id, user_id, name, starting_words)

    async def join_sprint(
        self, sprint_id: int, user_id: int, name: str, starting_words: int | None = None
    ) -> tuple[SprintRow, SprintMember, bool]:
        """Join a sprint by its id (its Join button names it)."""
        if starting_words is not None and not 0 <= starting_words <= rules.MAX_WORDS:
            raise SprintError(f"Starting words go from 0 to {rules.MAX_WORDS:,}.")
        async with self._db.transaction():
            # Read inside the write: the sprint may have ended since it was shown.
            sprint = await self._get(sprint_id)
            if sprint.status not in (Status.WAITING, Status.RUNNING):
                raise SprintError("This sprint is over: it's time for counts. Join the next one!")
            existing = await self._db.sprints.member(sprint.id, user_id)
            if existing is not None and existing.left_at is not None:
                raise SprintError(
                    "You left this sprint, so you can't rejoin it; you can still send the "
                    "count you had with /sprint wc."
                )
            if existing is not None and starting_words is None:
                raise AlreadyIn(
                    "You're already in this sprint. To set your starting words, use "
                    "/sprint join starting_words:…"
                )
            start = starting_words if starting_words is not None else 0
            member = await self._db.sprints.join(sprint.id, user_id, name, start, self._now())
        return sprint, member, existing is None

    async def leave(self, channel_id: int, user_id: int) -> SprintRow:
        """Leave the sprint; your time stops now. When the last writer leaves, the sprint
        ends at once (or, before it began, is off)."""
        sprint = await self.in_channel(channel_id)
        now = self._now()
        async with self._db.transaction():
            sprint = await self._get(sprint.id)  # as it is now, inside the write
            if sprint.status != Status.WAITING and sprint.status != Status.RUNNING:
                raise SprintError("The sprint is over; send your count with /sprint wc instead.")
            if sprint.status == Status.WAITING:
                left = await self._db.sprints.remove_member(sprint.id, user_id)
            else:
                left = await self._db.sprints.mark_left(sprint.id, user_id, now)
            if not left:
                raise SprintError("You're not in this sprint.")
            empty = await self._db.sprints.active_count(sprint.id) == 0
        if empty and sprint.status == Status.WAITING:
            if await self._stop(sprint.id):
                await self._tell(await self._get(sprint.id), Cancelled(None))
        elif empty:
            await self._end(sprint.id, early=True)
        return await self._get(sprint.id)

    async def count(
        self, channel_id: int, user_id: int, *, total: int | None = None, added: int | None = None
    ) -> tuple[SprintRow, int]:
        """A member's count: their whole count (``total``, /sprint wc) or words added to the
        last one (``added``, /sprint wrote). Returns the sprint and the words written."""
        sprint = await self.in_channel(channel_id)
        if sprint.status == Status.WAITING:
            raise SprintError("The sprint hasn't started yet; send your count once it has.")
        async with self._db.transaction():
            member = await self._db.sprints.member(sprint.id, user_id)
            if member is None:
                raise SprintError("You're not in this sprint. Join it with /sprint join.")
            if total is not None:
                new_total = rules.total_after_wc(total)
            else:
                new_total = rules.total_after_wrote(member, added or 0)
            until = self._now() if sprint.ended_at is None else sprint.ended_at
            words = rules.check_count(member, new_total, sprint.starts_at, until, self.max_wpm)
            if not await self._db.sprints.set_words(sprint.id, user_id, new_total):
                raise SprintError("The results are in already, so counts are closed.")
        return sprint, words

    async def cancel(self, channel_id: int, user_id: int, name: str, *, moderator: bool) -> None:
        """Call the channel's sprint off (its starter, or anyone who can manage messages).
        Works whatever state it is in, so a sprint stuck by a crash can always go."""
        sprint = await self.in_channel(channel_id)
        if user_id != sprint.starter_id and not moderator:
            raise SprintError("Only whoever started the sprint (or a moderator) can cancel it.")
        if not await self._stop(sprint.id):
            raise SprintError("That sprint has just ended.")
        await self._tell(await self._get(sprint.id), Cancelled(name))

    # --- steps -------------------------------------------------------------------------------

    async def _plan(self, sprint: SprintRow, *, only_missing: bool = False) -> int:
        """Give the sprint the timer its status needs next; returns how many were set."""
        wanted: list[tuple[str, float]] = []
        if sprint.status == Status.WAITING:
            wanted = [(START_TIMER, sprint.starts_at), (END_TIMER, sprint.ends_at)]
        elif sprint.status == Status.RUNNING:
            wanted = [(END_TIMER, sprint.ends_at)]
        elif sprint.status == Status.COUNTING:
            wanted = [(RESULTS_TIMER, sprint.count_until or self._now())]
        key = str(sprint.id)
        set_now = 0
        for kind, due in wanted:
            if only_missing and await self._db.timers.get(kind, key) is not None:
                continue
            await self._dispatcher.schedule(
                kind, key, due, {"sprint_id": sprint.id}, guild_id=sprint.guild_id
            )
            set_now += 1
        return set_now

    async def replan(self) -> int:
        """Give every open sprint the timers it lacks (lost to a dropped timer); returns how
        many were missing."""
        missing = 0
        for sprint in await self._db.sprints.open_sprints():
            missing += await self._plan(sprint, only_missing=True)
        if missing:
            log.warning("Gave %d sprint timer(s) back to open sprints", missing)
        return missing

    async def _restart_clock(self, sprint: SprintRow, minutes: int) -> None:
        """Start a running sprint's time again from now (inside the caller's transaction)."""
        plan = rules.plan(self._now(), minutes, 0)
        if await self._db.sprints.set_times(sprint.id, plan.starts_at, plan.ends_at):
            await self._dispatcher.schedule(
                END_TIMER,
                str(sprint.id),
                plan.ends_at,
                {"sprint_id": sprint.id},
                guild_id=sprint.guild_id,
            )

    async def _end(self, sprint_id: int, *, early: bool) -> None:
        """Writing stops: open the count window (none when everyone left: results now)."""
        now = self._now()
        async with self._db.transaction():
            sprint = await self._get(sprint_id)
            ended_at = min(now, sprint.ends_at) if early else sprint.ends_at
            until = now if early else rules.count_until(sprint.ends_at, now)
            moved = await self._db.sprints.advance(
                sprint_id,
                (Status.WAITING, Status.RUNNING),
                Status.COUNTING,
                ended_at=ended_at,
                count_until=until,
            )
            if not moved:
                return  # ended already (this timer fired before), or cancelled
            await self._dispatcher.schedule(
                RESULTS_TIMER,
                str(sprint_id),
                until,
                {"sprint_id": sprint_id},
                guild_id=sprint.guild_id,
            )
        if not early:  # when everyone left, the results timer is due now and says it all
            await self._tell(await self._get(sprint_id), PensDown())

    async def _finish(self, sprint: SprintRow) -> Results | None:
        """Count the results and stats, once; None if another firing did it first."""
        async with self._db.transaction():
            if not await self._db.sprints.advance(sprint.id, (Status.COUNTING,), Status.FINISHED):
                return None
            members = await self._db.sprints.members(sprint.id)
            ended_at = sprint.ended_at or sprint.ends_at
            found = rules.results(list(members), sprint.starts_at, ended_at)
            guild = sprint.guild_id or 0
            await self._db.sprints.lock_stats([r.user_id for r in found], guild)
            previous = {r.user_id: await self._totals(r.user_id, guild) for r in found}
            ranked = rules.rank(found, previous)
            await self._db.sprints.save_stats(
                [
                    _stats_row(r.user_id, guild, rules.add_result(previous[r.user_id], r))
                    for r in found
                ]
            )
        return Results(tuple(ranked), len(members), early=ended_at < sprint.ends_at)

    async def _recount(self, sprint: SprintRow) -> Results:
        """The results again, for a post a crash interrupted (the stats are counted already;
        a best is flagged where the result equals it)."""
        members = await self._db.sprints.members(sprint.id)
        ended_at = sprint.ended_at or sprint.ends_at
        found = rules.results(list(members), sprint.starts_at, ended_at)
        guild = sprint.guild_id or 0
        current = {r.user_id: await self._totals(r.user_id, guild) for r in found}
        ranked = [
            rules.Ranked(
                entry.place,
                entry.result,
                best_words=entry.result.words >= current[entry.result.user_id].best_words > 0,
                best_wpm=entry.result.wpm >= current[entry.result.user_id].best_wpm > 0,
            )
            for entry in rules.rank(found, {})
        ]
        return Results(tuple(ranked), len(members), early=ended_at < sprint.ends_at)

    async def _stop(self, sprint_id: int) -> bool:
        """Cancel the sprint and its timers; False if it had ended already."""
        async with self._db.transaction():
            if not await self._db.sprints.advance(sprint_id, OPEN, Status.CANCELLED):
                return False
            for kind in (START_TIMER, END_TIMER, RESULTS_TIMER):
                await self._dispatcher.cancel(kind, str(sprint_id))
        return True

    # --- the clock ---------------------------------------------------------------------------

    async def _fire_start(self, timer: Timer) -> None:
        sprint = await self._db.sprints.get(int(timer.payload["sprint_id"]))
        if sprint is None or sprint.status != Status.WAITING:
            return None
        if self._now() >= sprint.ends_at:
            return None  # the whole sprint passed while we were down: the end timer speaks
        if await self._db.sprints.advance(sprint.id, (Status.WAITING,), Status.RUNNING):
            await self._tell(await self._get(sprint.id), Started())
        return None

    async def _fire_end(self, timer: Timer) -> None:
        await self._end(int(timer.payload["sprint_id"]), early=False)
        return None

    async def _fire_results(self, timer: Timer) -> None:
        sprint = await self._db.sprints.get(int(timer.payload["sprint_id"]))
        if sprint is None or sprint.status not in (Status.COUNTING, Status.FINISHED):
            return None
        results = await self._finish(sprint) if sprint.status == Status.COUNTING else None
        sprint = await self._get(sprint.id)
        if sprint.results_message_id is not None:
            return None  # posted already: this is a retry after the post
        if results is None:
            results = await self._recount(sprint)
        message_id = await self._board.post(sprint, results)
        await self._db.sprints.set_results_message(sprint.id, message_id or 0)
        return None

    async def _fire_sweep(self, timer: Timer) -> float:
        await self.replan()
        return self._now() + SWEEP_SECONDS

    async def _gone(self, timer: Timer, gone: DestinationGone) -> None:
        """The sprint's channel can't be written to any more: call it off quietly."""
        log.warning("Sprint %s: its channel is gone (%s); cancelling it", timer.key, gone)
        await self._stop(int(timer.payload["sprint_id"]))

    # --- helpers -----------------------------------------------------------------------------

    async def _tell(self, sprint: SprintRow, notice: Notice) -> None:
        """Post a notice; a channel that is gone cancels the sprint."""
        try:
            await self._board.post(sprint, notice)
        except DestinationGone as gone:
            log.warning("Sprint %d: its channel is gone (%s); cancelling it", sprint.id, gone)
            await self._stop(sprint.id)

    async def _totals(self, user_id: int, guild_id: int) -> Totals:
        stats = await self._db.sprints.stats(user_id, guild_id)
        if stats is None:
            return Totals()
        return Totals(stats.sprints, stats.words, stats.minutes, stats.best_words, stats.best_wpm)

    async def _get(self, sprint_id: int) -> SprintRow:
        sprint = await self._db.sprints.get(sprint_id)
        if sprint is None:
            raise SprintError("That sprint no longer exists.")
        return sprint

    def _now(self) -> float:
        return self._clock.now()


def _stats_row(user_id: int, guild_id: int, totals: Totals) -> SprintStats:
    return SprintStats(
        user_id=user_id,
        guild_id=guild_id,
        sprints=totals.sprints,
        words=totals.words,
        minutes=totals.minutes,
        best_words=totals.best_words,
        best_wpm=totals.best_wpm,
    )
