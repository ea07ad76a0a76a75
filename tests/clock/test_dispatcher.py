"""The clock against real SQLite: claims, catch-up, lateness, and crashes in real processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.clock.dispatcher import Dispatcher, TimerKind
from bot.storage import Database, Timer
from bot.writing.destination import DestinationGone
from tests.clock.timer_process import LEASE_SECONDS

REPO = Path(__file__).resolve().parents[2]


class FakeClock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.current = now

    def now(self) -> float:
        return self.current

    async def sleep(self, seconds: float) -> None:
        self.current += seconds
        await asyncio.sleep(0)


@pytest.fixture
async def database(tmp_path):
    db = await Database.open(tmp_path / "clock.db")
    yield db
    await db.close()


def recorder(fired: list[str], next_due: float | None = None):
    async def fire(timer: Timer) -> float | None:
        fired.append(timer.key)
        return next_due

    return fire


async def test_a_timer_fires_when_due_and_not_before(database):
    clock = FakeClock()
    fired: list[str] = []
    dispatcher = Dispatcher(database, clock)
    dispatcher.register(TimerKind("turn", recorder(fired)))
    await dispatcher.schedule("turn", "game-1", clock.now() + 30)
    assert await dispatcher.run_due() == 0
    clock.current += 29.9
    assert await dispatcher.run_due() == 0
    clock.current += 0.2
    assert await dispatcher.run_due() == 1
    assert fired == ["game-1"]
    assert await dispatcher.run_due() == 0  # done: it never fires again
    assert await database.timers.get("turn", "game-1") is None


async def test_a_recurring_timer_is_moved_to_its_next_time(database):
    clock = FakeClock()
    fired: list[str] = []
    dispatcher = Dispatcher(database, clock)
    dispatcher.register(TimerKind("daily", recorder(fired, next_due=clock.now() + 86_400)))
    await dispatcher.schedule("daily", "guild-1", clock.now())
    assert await dispatcher.run_due() == 1
    timer = await database.timers.get("daily", "guild-1")
    assert timer is not None and timer.due_at == clock.now() + 86_400
    assert timer.claimed_until is None and timer.attempts == 0


async def test_catch_up_fires_late_timers_unless_their_kind_says_too_late(database):
    clock = FakeClock()
    fired: list[str] = []
    missed: list[str] = []
    dispatcher = Dispatcher(database, clock)
    dispatcher.register(TimerKind("turn", recorder(fired)))  # always worth firing
    dispatcher.register(
        TimerKind("daily", recorder(fired), max_lateness=3600, on_missed=recorder(missed))
    )
    await dispatcher.schedule("turn", "old-turn", clock.now() - 10 * 3600)
    await dispatcher.schedule("daily", "yesterday", clock.now() - 10 * 3600)
    await dispatcher.schedule("daily", "this-morning", clock.now() - 600)
    assert await dispatcher.run_due() == 3
    assert sorted(fired) == ["old-turn", "this-morning"]
    assert missed == ["yesterday"]


async def test_two_dispatchers_on_one_database_fire_a_timer_once(tmp_path):
    path = tmp_path / "shared.db"
    first, second = await Database.open(path), await Database.open(path)
    try:
        clock = FakeClock()
        fired: list[str] = []
        dispatchers = [Dispatcher(db, clock) for db in (first, second)]
        for dispatcher in dispatchers:
            dispatcher.register(TimerKind("turn", recorder(fired)))
        for index in range(20):
            await dispatchers[0].schedule("turn", f"t{index}", clock.now())
        await asyncio.gather(*(d.run_due() for d in dispatchers))
        assert sorted(fired) == sorted(f"t{index}" for index in range(20))
    finally:
        await first.close()
        await second.close()


async def test_a_failing_handler_is_retried_after_its_lease_then_dropped(database):
    clock = FakeClock()
    calls: list[int] = []

    async def broken(timer: Timer) -> None:
        calls.append(timer.attempts)
        raise RuntimeError("boom")

    dispatcher = Dispatcher(database, clock)
    dispatcher.register(TimerKind("turn", broken, lease_seconds=60, max_attempts=3))
    await dispatcher.schedule("turn", "t", clock.now())
    await dispatcher.run_due()
    await dispatcher.run_due()  # still leased: no retry yet
    assert calls == [1]
    for _ in range(3):
        clock.current += 61
        await dispatcher.run_due()
    assert calls == [1, 2, 3]
    assert await database.timers.get("turn", "t") is None


async def test_a_gone_destination_drops_the_timer_and_tells_the_kind(database):
    clock = FakeClock()
    told: list[tuple[str, str]] = []

    async def post(timer: Timer) -> float:
        raise DestinationGone("That channel no longer exists.")

    async def gone(timer: Timer, error: DestinationGone) -> None:
        told.append((timer.key, error.user_message))

    dispatcher = Dispatcher(database, clock)
    dispatcher.register(TimerKind("daily", post, on_gone=gone))
    await dispatcher.schedule("daily", "guild-1", clock.now())
    assert await dispatcher.run_due() == 1
    assert told == [("guild-1", "That channel no longer exists.")]
    assert await database.timers.get("daily", "guild-1") is None


async def test_the_loop_fires_timers_and_stops_cleanly(database):
    clock = FakeClock()
    fired: list[str] = []
    dispatcher = Dispatcher(database, clock, tick_seconds=1)
    dispatcher.register(TimerKind("turn", recorder(fired)))
    await dispatcher.schedule("turn", "soon", clock.now() + 5)
    dispatcher.start()
    for _ in range(200):
        if fired:
            break
        await asyncio.sleep(0.01)
    await dispatcher.close()
    assert fired == ["soon"]


def run_process(
    database: Path, effects: Path, mode: str, later: float = 0.0
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [str(database), str(effects), mode, str(later)]
    return subprocess.run(
        [sys.executable, "-m", "tests.clock.timer_process", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=REPO,
    )


async def schedule_now(path: Path) -> None:
    db = await Database.open(path)
    try:
        await db.timers.schedule("note", "n1", time.time() - 1, {})
    finally:
        await db.close()


@pytest.mark.parametrize(("mode", "code"), [("crash-after-claim", 3), ("crash-after-effect", 4)])
def test_a_timer_killed_mid_firing_fires_exactly_once_after_a_restart(tmp_path, mode, code):
    database, effects = tmp_path / "crash.db", tmp_path / "effects.txt"
    asyncio.run(schedule_now(database))

    crashed = run_process(database, effects, mode)
    assert crashed.returncode == code, crashed.stderr
    # Restarted at once: the dead process's claim still holds, so nothing fires twice.
    early = run_process(database, effects, "normal")
    assert early.returncode == 0, early.stderr
    assert early.stdout.strip() == "0"
    # Once the dead process's lease has run out, the timer is claimed again and fires.
    retried = run_process(database, effects, "normal", later=LEASE_SECONDS + 1)
    assert retried.returncode == 0, retried.stderr
    assert retried.stdout.strip() == "1"
    again = run_process(database, effects, "normal", later=LEASE_SECONDS + 1)
    assert again.stdout.strip() == "0"  # completed: gone from the table

    lines = effects.read_text().split()
    assert len(lines) == 1, lines


async def test_a_timer_that_never_finishes_is_dropped_after_its_attempts(database):
    clock = FakeClock()
    calls: list[int] = []

    async def dies(timer: Timer) -> None:
        calls.append(timer.attempts)
        raise asyncio.CancelledError  # as a process killed mid-firing: no error handling runs

    dispatcher = Dispatcher(database, clock)
    dispatcher.register(TimerKind("turn", dies, lease_seconds=10, max_attempts=2))
    await dispatcher.schedule("turn", "t", clock.now())
    for _ in range(3):
        with contextlib.suppress(asyncio.CancelledError):
            await dispatcher.run_due()
        clock.current += 11
    assert calls == [1, 2]  # the third claim gives up instead of firing
    assert await database.timers.get("turn", "t") is None


async def test_a_failure_to_tell_the_owner_still_drops_a_gone_timer(database):
    clock = FakeClock()

    async def post(timer: Timer) -> None:
        raise DestinationGone("That channel no longer exists.")

    async def broken_notice(timer: Timer, error: DestinationGone) -> None:
        raise RuntimeError("DMs closed")

    dispatcher = Dispatcher(database, clock)
    dispatcher.register(TimerKind("daily", post, on_gone=broken_notice))
    await dispatcher.schedule("daily", "g", clock.now())
    assert await dispatcher.run_due() == 1
    assert await database.timers.get("daily", "g") is None


async def test_a_stopped_clock_claims_nothing_and_never_starts_again(database):
    clock = FakeClock()
    fired: list[str] = []
    dispatcher = Dispatcher(database, clock)
    dispatcher.register(TimerKind("turn", recorder(fired)))
    await dispatcher.schedule("turn", "t", clock.now())
    dispatcher.stop_claiming()
    assert await dispatcher.run_due() == 0
    await dispatcher.close()
    dispatcher.start()  # a late READY after shutdown began
    await asyncio.sleep(0.05)
    assert fired == [] and (await database.timers.get("turn", "t")) is not None


async def test_timers_of_kinds_nobody_handles_cannot_crowd_out_the_rest(database):
    clock = FakeClock()
    fired: list[str] = []
    dispatcher = Dispatcher(database, clock, batch=5)
    dispatcher.register(TimerKind("turn", recorder(fired)))
    for index in range(12):  # left by a feature this process doesn't run
        await database.timers.schedule("retired-kind", f"old{index}", clock.now() - 100, {})
    await dispatcher.schedule("turn", "mine", clock.now())
    assert await dispatcher.run_due() == 1
    assert fired == ["mine"]


async def test_a_slow_handler_keeps_its_claim_and_fires_once(tmp_path):
    path = tmp_path / "slow.db"
    first, second = await Database.open(path), await Database.open(path)
    try:
        fired: list[str] = []

        async def slow(timer: Timer) -> None:
            fired.append(timer.key)
            await asyncio.sleep(1.0)  # three times its lease

        dispatchers = [Dispatcher(db) for db in (first, second)]  # the real clock
        for dispatcher in dispatchers:
            dispatcher.register(TimerKind("turn", slow, lease_seconds=0.3))
        await dispatchers[0].schedule("turn", "t", time.time() - 1)
        running = asyncio.create_task(dispatchers[0].run_due())
        for _ in range(10):  # the other process keeps looking while it runs
            await asyncio.sleep(0.1)
            await dispatchers[1].run_due()
        assert await running == 1
        assert fired == ["t"]
        assert await first.timers.get("turn", "t") is None  # completed with the renewed claim
    finally:
        await first.close()
        await second.close()


async def test_the_loop_fires_a_due_timer_while_a_slow_one_still_runs(database):
    clock = FakeClock()
    release = asyncio.Event()
    fired: list[str] = []

    async def slow(timer: Timer) -> None:
        fired.append(timer.key)
        await release.wait()

    dispatcher = Dispatcher(database, clock, tick_seconds=0.01)
    dispatcher.register(TimerKind("slow", slow))
    dispatcher.register(TimerKind("quick", recorder(fired)))
    await dispatcher.schedule("slow", "ai-line", clock.now())
    dispatcher.start()
    try:
        for _ in range(200):
            if fired:
                break
            await asyncio.sleep(0.01)
        await dispatcher.schedule("quick", "deadline", clock.now())
        for _ in range(200):
            if "deadline" in fired:
                break
            await asyncio.sleep(0.01)
        assert fired == ["ai-line", "deadline"]
    finally:
        release.set()
        await dispatcher.close()
