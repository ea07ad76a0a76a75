"""The sprint service on real SQLite and the real clock table, with a fake clock: start, end
and results fire through timers once (also after a restart, and when retried after a crash),
counts are checked, stats add up, and a sprint can always be cancelled."""

from __future__ import annotations

import pytest

from bot.clock.dispatcher import Dispatcher
from bot.sprints.notices import Announced, Cancelled, PensDown, Results, Started
from bot.sprints.rules import ImplausibleCount, SprintError
from bot.sprints.service import END_TIMER, RESULTS_TIMER, NoSprintHere, SprintService
from bot.storage import Database, SprintBusy
from bot.writing.destination import DestinationGone
from tests.clock.test_dispatcher import FakeClock

GUILD, CHANNEL = 10, 20
ADA, BO, CY = 1, 2, 3


class Board:
    """Keeps what the service posted, and hands out message ids."""

    def __init__(self) -> None:
        self.posted: list[tuple[int, object]] = []
        self.gone = False

    async def post(self, sprint, notice):
        if self.gone:
            raise DestinationGone("no such channel")
        self.posted.append((sprint.id, notice))
        return 900 + len(self.posted)

    def of(self, kind) -> list:
        return [notice for _, notice in self.posted if isinstance(notice, kind)]


@pytest.fixture
async def database(tmp_path):
    db = await Database.open(tmp_path / "sprints.db")
    yield db
    await db.close()


def make(database, clock, board=None, max_wpm=150):
    dispatcher = Dispatcher(database, clock)
    service = SprintService(database, dispatcher, board or Board(), clock=clock, max_wpm=max_wpm)
    service.attach()
    return service, dispatcher


async def start(service, minutes=10, delay=0, prompt=None, channel=CHANNEL):
    return await service.start(
        guild_id=GUILD,
        channel_id=channel,
        user_id=ADA,
        user_name="Ada",
        minutes=minutes,
        delay=delay,
        prompt=prompt,
    )


async def test_a_delayed_sprint_starts_ends_counts_and_posts_results_once(database):
    clock, board = FakeClock(1_000.0), Board()
    service, dispatcher = make(database, clock, board)
    sprint = await start(service, minutes=10, delay=5, prompt="a lighthouse")
    assert sprint.status == "waiting" and isinstance(board.posted[0][1], Announced)
    with pytest.raises(SprintBusy):
        await start(service)
    await service.join(CHANNEL, BO, "Bo", starting_words=1000)
    with pytest.raises(SprintError, match="hasn't started"):
        await service.count(CHANNEL, BO, total=1100)

    clock.current += 5 * 60
    await dispatcher.run_due()
    assert board.of(Started) and (await service.in_channel(CHANNEL)).status == "running"
    clock.current += 5 * 60  # Bo leaves halfway: his 5 minutes count
    await service.count(CHANNEL, BO, added=300)
    await service.leave(CHANNEL, BO)
    with pytest.raises(ImplausibleCount, match="words a minute"):
        await service.count(CHANNEL, ADA, total=10 * 150 + 1)

    clock.current += 5 * 60
    await dispatcher.run_due()
    assert board.of(PensDown) and not board.of(Results)
    _, words = await service.count(CHANNEL, ADA, total=900)  # in the count window
    assert words == 900
    clock.current += 120
    await dispatcher.run_due()
    await dispatcher.run_due()
    (results,) = board.of(Results)
    assert [(r.result.name, r.result.words) for r in results.ranked] == [("Ada", 900), ("Bo", 300)]
    assert results.ranked[1].result.wpm == pytest.approx(60.0)
    assert results.ranked[0].best_words and results.ranked[0].best_wpm
    stats = await service.stats(ADA, GUILD)
    assert (stats.sprints, stats.words, stats.best_words) == (1, 900, 900)
    with pytest.raises(NoSprintHere):
        await service.count(CHANNEL, ADA, total=1000)


async def test_the_end_passing_while_down_opens_the_window_then_results_once(database):
    clock, board = FakeClock(1_000.0), Board()
    service, _ = make(database, clock, board)
    await start(service, minutes=5)
    await service.count(CHANNEL, ADA, total=100)
    # "Restart": a new service and dispatcher on the same file, an hour later.
    clock.current += 3600
    board2 = Board()
    service2, dispatcher2 = make(database, clock, board2)
    await dispatcher2.run_due()
    assert board2.of(PensDown)
    sprint = await service2.in_channel(CHANNEL)
    assert sprint.count_until == clock.current + 120  # members still get two minutes
    await service2.count(CHANNEL, ADA, total=400)
    clock.current += 121
    await dispatcher2.run_due()
    (results,) = board2.of(Results)
    assert results.ranked[0].result.words == 400
    assert results.ranked[0].result.wpm == pytest.approx(80.0)  # over 5 minutes, not an hour


async def test_a_retried_results_timer_never_posts_twice(database):
    clock, board = FakeClock(1_000.0), Board()
    service, dispatcher = make(database, clock, board)
    sprint = await start(service, minutes=1)
    await service.count(CHANNEL, ADA, total=50)
    clock.current += 60
    await dispatcher.run_due()
    clock.current += 120
    timer = await database.timers.get(RESULTS_TIMER, str(sprint.id))
    await dispatcher.run_due()
    assert len(board.of(Results)) == 1
    # A crash after the post, before the timer was completed: it fires again.
    await database.timers.schedule(RESULTS_TIMER, timer.key, timer.due_at, dict(timer.payload))
    await dispatcher.run_due()
    assert len(board.of(Results)) == 1
    assert (await service.stats(ADA, GUILD)).sprints == 1


async def test_a_crash_between_the_results_and_their_post_posts_them_once(database):
    clock, board = FakeClock(1_000.0), Board()
    service, dispatcher = make(database, clock, board)
    sprint = await start(service, minutes=1)
    await service.count(CHANNEL, ADA, total=50)
    clock.current += 60
    await dispatcher.run_due()
    board.posted.clear()

    class Crash(Exception):
        pass

    async def crash(*_):
        raise Crash

    board.post = crash  # counted, then the process "dies" before the post
    clock.current += 120
    await dispatcher.run_due()
    assert (await database.sprints.get(sprint.id)).status == "finished"
    board.post = Board.post.__get__(board)
    clock.current += 300  # the lease runs out; the timer is retried
    await dispatcher.run_due()
    (results,) = board.of(Results)
    assert results.ranked[0].result.words == 50 and results.ranked[0].best_words
    assert (await service.stats(ADA, GUILD)).sprints == 1  # counted once


async def test_everyone_leaving_ends_the_sprint_at_once(database):
    clock, board = FakeClock(1_000.0), Board()
    service, dispatcher = make(database, clock, board)
    await start(service, minutes=30)
    clock.current += 120
    await service.count(CHANNEL, ADA, total=200)
    await service.leave(CHANNEL, ADA)
    await dispatcher.run_due()
    (results,) = board.of(Results)
    assert results.early and results.ranked[0].result.minutes == pytest.approx(2.0)
    assert not board.of(PensDown)
    assert await database.timers.get(END_TIMER, "1") is not None  # left to fire as a no-op
    clock.current += 3600
    await dispatcher.run_due()
    assert len(board.of(Results)) == 1


async def test_leaving_before_the_start_calls_it_off(database):
    clock, board = FakeClock(1_000.0), Board()
    service, dispatcher = make(database, clock, board)
    await start(service, delay=10)
    await service.leave(CHANNEL, ADA)
    assert board.of(Cancelled)[0].by_name is None
    clock.current += 3600
    await dispatcher.run_due()
    assert not board.of(Started) and not board.of(Results)


async def test_cancel_is_for_the_starter_or_moderators_and_always_works(database):
    clock, board = FakeClock(1_000.0), Board()
    service, _ = make(database, clock, board)
    sprint = await start(service)
    await service.join(CHANNEL, BO, "Bo")
    with pytest.raises(SprintError, match="already in"):
        await service.join(CHANNEL, BO, "Bo")
    with pytest.raises(SprintError, match="Only whoever started"):
        await service.cancel(CHANNEL, BO, "Bo", moderator=False)
    # Stuck: its timers were lost to a crash. Cancelling needs none of them.
    await database.timers.cancel(END_TIMER, str(sprint.id))
    await service.cancel(CHANNEL, BO, "Bo", moderator=True)
    assert board.of(Cancelled)[0].by_name == "Bo"
    with pytest.raises(NoSprintHere):
        await service.in_channel(CHANNEL)
    again = await start(service)  # the channel is free
    assert again.id != sprint.id


async def test_the_sweep_gives_a_stuck_sprint_its_timer_back(database):
    clock, board = FakeClock(1_000.0), Board()
    service, dispatcher = make(database, clock, board)
    sprint = await start(service, minutes=1)
    await database.timers.cancel(END_TIMER, str(sprint.id))
    assert await service.replan() == 1
    clock.current += 60
    await dispatcher.run_due()
    assert board.of(PensDown)


async def test_a_gone_channel_cancels_the_sprint(database):
    clock, board = FakeClock(1_000.0), Board()
    service, dispatcher = make(database, clock, board)
    board.gone = True
    with pytest.raises(SprintError, match="can't post in this channel"):
        await start(service)
    board.gone = False
    await start(service, delay=1)
    board.gone = True
    clock.current += 60
    await dispatcher.run_due()
    with pytest.raises(NoSprintHere):
        await service.in_channel(CHANNEL)


async def test_several_channels_at_once_and_a_configurable_limit(database):
    clock, board = FakeClock(1_000.0), Board()
    service, dispatcher = make(database, clock, board, max_wpm=20)
    await start(service, channel=1)
    await start(service, channel=2)
    clock.current += 60
    with pytest.raises(ImplausibleCount, match="at most 20"):
        await service.count(1, ADA, total=21)
    await service.count(2, ADA, total=20)
    clock.current += 540
    await dispatcher.run_due()
    clock.current += 120
    await dispatcher.run_due()
    assert len(board.of(Results)) == 2


async def test_prompt_ai_without_a_writer_falls_back_to_a_curated_prompt(database):
    from bot.community.ideas_catalogue import curated_prompts

    clock, board = FakeClock(1_000.0), Board()
    service, _ = make(database, clock, board)
    sprint = await start(service, prompt="ai")
    assert (await database.sprints.get(sprint.id)).prompt in {p.text for p in curated_prompts()}
    assert not (await database.sprints.get(sprint.id)).prompt_by_starter


async def test_a_sprint_starting_now_runs_from_when_its_ai_prompt_is_shown(database, monkeypatch):
    clock, board = FakeClock(1_000.0), Board()
    service, _ = make(database, clock, board)

    async def slow_prompt(flow, sprint, parent_channel_id, choose):
        clock.current += 15  # the AI took its time
        return "A lighthouse keeper finds a message in a bottle."

    monkeypatch.setattr("bot.sprints.service.ai_prompt", slow_prompt)
    sprint = await start(service, minutes=10, prompt="ai")
    stored = await database.sprints.get(sprint.id)
    assert (stored.starts_at, stored.ends_at) == (1_015.0, 1_015.0 + 600)
    assert (await database.timers.get(END_TIMER, str(sprint.id))).due_at == 1_015.0 + 600
    assert stored.prompt.startswith("A lighthouse") and board.posted[0][0] == sprint.id
