"""The prompt of the day with real SQLite and the real clock table: posted once per local day
(also across a crash right after posting), reveals, hearts, and a channel that is gone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.clock.dispatcher import Dispatcher
from bot.community.daily import DailyService
from bot.errors import InvalidRequest
from bot.storage import Database, NotFound
from bot.writing.destination import DestinationGone
from tests.clock.test_dispatcher import FakeClock

GUILD, CHANNEL, OWNER, ALICE, BOB = 1, 2, 3, 4, 5


class Board:
    def __init__(self) -> None:
        self.posts: list[tuple[str, int, str]] = []  # (kind, id, text)
        self.told: list[tuple[int, str]] = []
        self.gone = False
        self.fail_entries = 0
        self._next = 100

    async def post_prompt(self, schedule, prompt) -> int:
        if self.gone:
            raise DestinationGone("That channel no longer exists.")
        self._next += 1
        self.posts.append(("prompt", prompt.id, prompt.text))
        return self._next

    async def find_prompt(self, channel_id, prompt_id):
        found = [p for p in self.posts if p[:2] == ("prompt", prompt_id)]
        return 999 if found else None

    async def post_entry(self, prompt, entry, *, revealed, channel_id=None) -> int:
        if self.fail_entries:
            self.fail_entries -= 1
            raise RuntimeError("Discord answered 503")
        self._next += 1
        self.posts.append(("reveal" if revealed else "entry", entry.id, entry.text))
        return self._next

    async def tell(self, user_id, text) -> None:
        self.told.append((user_id, text))


class Prompts:
    def __init__(self) -> None:
        self.count = 0

    async def daily_prompt(self, *, guild_id, channel_id, source, owner_id) -> str:
        self.count += 1
        return f"prompt number {self.count}"


def at(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at(2026, 6, 1, 7, 0))


@pytest.fixture
async def database(tmp_path, clock):
    # The database's clock is the scheduler's, so "this week" means the same to both.
    db = await Database.open(
        tmp_path / "daily.db", clock=lambda: datetime.fromtimestamp(clock.current, UTC)
    )
    yield db
    await db.close()


def service_on(database, clock, board=None):
    dispatcher = Dispatcher(database, clock)
    board = board or Board()
    service = DailyService(database, dispatcher, board, Prompts(), clock=clock)
    service.attach()
    return service, dispatcher, board


async def setup_berlin(service, mode: str = "post"):
    return await service.setup(
        GUILD,
        channel_id=CHANNEL,
        local_time="09:00",
        timezone="Europe/Berlin",
        source="curated",
        mode=mode,
        owner_id=OWNER,
    )


async def test_one_post_per_local_day_at_local_time(database, clock):
    clock.current = at(2026, 6, 1, 6, 0)  # 08:00 in Berlin (CEST)
    service, dispatcher, board = service_on(database, clock)
    _, due = await setup_berlin(service)
    assert due == datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    assert await dispatcher.run_due() == 0
    clock.current = at(2026, 6, 1, 7, 0)
    assert await dispatcher.run_due() == 1
    assert [p[0] for p in board.posts] == ["prompt"]
    clock.current = at(2026, 6, 1, 20, 0)
    assert await dispatcher.run_due() == 0  # the next is tomorrow at 09:00
    clock.current = at(2026, 6, 2, 7, 0)
    assert await dispatcher.run_due() == 1
    assert len(board.posts) == 2


async def test_a_crash_right_after_posting_does_not_post_twice(database, clock, monkeypatch):
    service, dispatcher, board = service_on(database, clock)
    await setup_berlin(service)
    real = database.daily.set_prompt_message

    async def crash(prompt_id, message_id):
        raise RuntimeError("the process died right after posting")

    monkeypatch.setattr(database.daily, "set_prompt_message", crash)
    await dispatcher.run_due()
    assert len(board.posts) == 1
    # After the restart the claim's lease runs out and the timer fires again.
    monkeypatch.setattr(database.daily, "set_prompt_message", real)
    _, dispatcher, _ = service_on(database, clock, board)
    clock.current += 121
    await dispatcher.run_due()
    assert len(board.posts) == 1  # found in the channel, recorded, not posted again
    prompt = await database.daily.latest_prompt(GUILD)
    assert prompt is not None and prompt.message_id == 999


async def test_after_downtime_the_missed_day_posts_once_if_still_that_day(database, clock):
    clock.current = at(2026, 6, 1, 5, 0)
    service, dispatcher, board = service_on(database, clock)
    await setup_berlin(service)
    clock.current = at(2026, 6, 1, 15, 0)  # down through 09:00, back at 17:00 the same day
    await dispatcher.run_due()
    assert len(board.posts) == 1
    clock.current = at(2026, 6, 4, 12, 0)  # down for days: only today's comes
    await dispatcher.run_due()
    await dispatcher.run_due()
    assert len(board.posts) == 2
    dates = [p.local_date for p in await database.daily.archive(GUILD)]
    assert dates == ["2026-06-04", "2026-06-01"]


async def test_collect_mode_reveals_entries_with_the_next_prompt(database, clock):
    service, dispatcher, board = service_on(database, clock)
    await setup_berlin(service, mode="collect")
    await dispatcher.run_due()
    submitted = await service.submit(GUILD, ALICE, "Alice", "alice's poem")
    assert not submitted.shown and [p[0] for p in board.posts] == ["prompt"]
    clock.current = at(2026, 6, 2, 7, 0)
    await dispatcher.run_due()
    assert [p[0] for p in board.posts] == ["prompt", "prompt", "reveal"]
    assert board.posts[-1][2] == "alice's poem"


async def test_hearts_one_each_not_your_own_and_taken_back(database, clock):
    service, dispatcher, _ = service_on(database, clock)
    await setup_berlin(service)
    await dispatcher.run_due()
    alice = (await service.submit(GUILD, ALICE, "Alice", "a poem")).entry
    bob = (await service.submit(GUILD, BOB, "Bob", "another")).entry
    with pytest.raises(InvalidRequest, match="own entry"):
        await service.heart(alice.id, ALICE)
    assert await service.heart(alice.id, BOB) == (True, 1)
    assert await service.heart(alice.id, OWNER) == (True, 2)
    assert await service.heart(alice.id, BOB) == (False, 1)  # taken back
    await service.heart(bob.id, ALICE)
    board_rows = await service.leaderboard(GUILD, "week")
    assert [(r.user_name, r.hearts) for r in board_rows] == [("Alice", 1), ("Bob", 1)]
    # A deleted entry leaves the counts; so does an erased member.
    await database.daily.delete_entry(bob.id, BOB)
    await database.users.delete_all(OWNER)
    assert [(r.user_name, r.hearts) for r in await service.leaderboard(GUILD, "all")] == [
        ("Alice", 0)
    ]


async def test_a_gone_channel_pauses_the_schedule_and_tells_its_owner(database, clock):
    board = Board()
    board.gone = True
    service, dispatcher, _ = service_on(database, clock, board)
    await setup_berlin(service)
    await dispatcher.run_due()
    schedule = await database.daily.schedule(GUILD)
    assert schedule is not None and schedule.paused
    assert board.told and board.told[0][0] == OWNER and "paused" in board.told[0][1]
    assert await database.timers.get("daily.post", str(GUILD)) is None


async def test_the_week_leaderboard_counts_only_this_weeks_entries(database, clock):
    service, dispatcher, _ = service_on(database, clock)
    await setup_berlin(service)
    await dispatcher.run_due()
    old = (await service.submit(GUILD, ALICE, "Alice", "an old poem")).entry
    await service.heart(old.id, BOB)
    clock.current += 10 * 86400  # ten days later
    await dispatcher.run_due()
    new = (await service.submit(GUILD, BOB, "Bob", "a new poem")).entry
    await service.heart(new.id, ALICE)
    week = [(r.user_name, r.hearts) for r in await service.leaderboard(GUILD, "week")]
    everything = [(r.user_name, r.hearts) for r in await service.leaderboard(GUILD, "all")]
    assert week == [("Bob", 1)] and sorted(everything) == [("Alice", 1), ("Bob", 1)]


async def test_moving_the_schedule_to_another_zone_does_not_post_twice_that_day(database, clock):
    service, dispatcher, board = service_on(database, clock)
    await setup_berlin(service)  # 09:00 Berlin = 07:00 UTC: posted now
    await dispatcher.run_due()
    clock.current = at(2026, 6, 1, 8, 0)
    # London's 09:00 is 08:00 UTC, the same local day: already done there too.
    _, due = await service.setup(
        GUILD,
        channel_id=CHANNEL,
        local_time="09:00",
        timezone="Europe/London",
        source="curated",
        mode="post",
        owner_id=OWNER,
    )
    assert due == datetime(2026, 6, 2, 8, 0, tzinfo=UTC)
    await dispatcher.run_due()
    assert len([p for p in board.posts if p[0] == "prompt"]) == 1


async def test_a_reveal_cut_short_goes_on_where_it_stopped(database, clock):
    service, dispatcher, board = service_on(database, clock)
    await setup_berlin(service, mode="collect")
    await dispatcher.run_due()
    for user, name in ((ALICE, "Alice"), (BOB, "Bob")):
        await service.submit(GUILD, user, name, f"{name}'s entry")
    clock.current = at(2026, 6, 2, 7, 0)
    board.fail_entries = 1  # Discord refuses the first revealed entry
    await dispatcher.run_due()
    assert [p[0] for p in board.posts] == ["prompt", "prompt"]
    clock.current += 121  # the timer is retried after its lease
    await dispatcher.run_due()
    revealed = [p[2] for p in board.posts if p[0] == "reveal"]
    assert revealed == ["Alice's entry", "Bob's entry"]
    await dispatcher.run_due()
    assert len([p for p in board.posts if p[0] == "prompt"]) == 2  # and no third prompt


async def test_a_day_that_keeps_failing_is_skipped_not_the_schedule(database, clock):
    service, dispatcher, _ = service_on(database, clock)

    class Broken:
        async def daily_prompt(self, **_: object) -> str:
            raise RuntimeError("the model is down")

    service._prompts = Broken()
    await setup_berlin(service)
    for _ in range(6):
        await dispatcher.run_due()
        clock.current += 121
    timer = await database.timers.get("daily.post", str(GUILD))
    assert timer is not None and timer.due_at == at(2026, 6, 2, 7, 0)  # tomorrow's post


async def test_entries_are_for_today_only(database, clock):
    service, dispatcher, _ = service_on(database, clock)
    await setup_berlin(service)
    await dispatcher.run_due()
    await service.pause(GUILD)
    clock.current += 3 * 86400
    with pytest.raises(NotFound, match="hasn't been posted"):
        await service.submit(GUILD, ALICE, "Alice", "late")
