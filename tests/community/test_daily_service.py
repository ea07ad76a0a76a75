"""The prompt of the day with real SQLite and the real clock table: posted once per local day
(also across a crash right after posting), reveals, hearts, and a channel that is gone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.clock.dispatcher import Dispatcher
from bot.community.daily import DailyService
from bot.errors import InvalidRequest
from bot.storage import Database
from bot.writing.destination import DestinationGone
from tests.clock.test_dispatcher import FakeClock

GUILD, CHANNEL, OWNER, ALICE, BOB = 1, 2, 3, 4, 5


class Board:
    def __init__(self) -> None:
        self.posts: list[tuple[str, int, str]] = []  # (kind, id, text)
        self.told: list[tuple[int, str]] = []
        self.gone = False
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

    async def post_entry(self, prompt, entry, *, revealed) -> int:
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
async def database(tmp_path):
    db = await Database.open(tmp_path / "daily.db")
    yield db
    await db.close()


def service_on(database, clock, board=None):
    dispatcher = Dispatcher(database, clock)
    board = board or Board()
    service = DailyService(database, dispatcher, board, Prompts(), clock=clock)
    service.attach()
    return service, dispatcher, board


async def test_one_post_per_local_day_at_local_time(database):
    clock = FakeClock(at(2026, 6, 1, 6, 0))  # 08:00 in Berlin (CEST)
    service, dispatcher, board = service_on(database, clock)
    _, due = await service.setup(
        GUILD,
        channel_id=CHANNEL,
        local_time="09:00",
        timezone="Europe/Berlin",
        source="curated",
        mode="post",
        owner_id=OWNER,
    )
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


async def test_a_crash_right_after_posting_does_not_post_twice(database, monkeypatch):
    clock = FakeClock(at(2026, 6, 1, 7, 0))
    service, dispatcher, board = service_on(database, clock)
    await service.setup(
        GUILD,
        channel_id=CHANNEL,
        local_time="09:00",
        timezone="Europe/Berlin",
        source="curated",
        mode="post",
        owner_id=OWNER,
    )
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


async def test_after_downtime_the_missed_day_posts_once_if_still_that_day(database):
    clock = FakeClock(at(2026, 6, 1, 5, 0))
    service, dispatcher, board = service_on(database, clock)
    await service.setup(
        GUILD,
        channel_id=CHANNEL,
        local_time="09:00",
        timezone="Europe/Berlin",
        source="curated",
        mode="post",
        owner_id=OWNER,
    )
    clock.current = at(2026, 6, 1, 15, 0)  # down through 09:00, back at 17:00 the same day
    await dispatcher.run_due()
    assert len(board.posts) == 1
    clock.current = at(2026, 6, 4, 12, 0)  # down for days: only today's comes
    await dispatcher.run_due()
    await dispatcher.run_due()
    assert len(board.posts) == 2
    dates = [p.local_date for p in await database.daily.archive(GUILD)]
    assert dates == ["2026-06-04", "2026-06-01"]


async def test_collect_mode_reveals_entries_with_the_next_prompt(database):
    clock = FakeClock(at(2026, 6, 1, 7, 0))
    service, dispatcher, board = service_on(database, clock)
    await service.setup(
        GUILD,
        channel_id=CHANNEL,
        local_time="09:00",
        timezone="Europe/Berlin",
        source="curated",
        mode="collect",
        owner_id=OWNER,
    )
    await dispatcher.run_due()
    submitted = await service.submit(GUILD, ALICE, "Alice", "alice's poem")
    assert not submitted.shown and [p[0] for p in board.posts] == ["prompt"]
    clock.current = at(2026, 6, 2, 7, 0)
    await dispatcher.run_due()
    assert [p[0] for p in board.posts] == ["prompt", "prompt", "reveal"]
    assert board.posts[-1][2] == "alice's poem"


async def test_hearts_one_each_not_your_own_and_taken_back(database):
    clock = FakeClock(at(2026, 6, 1, 7, 0))
    service, dispatcher, _ = service_on(database, clock)
    await service.setup(
        GUILD,
        channel_id=CHANNEL,
        local_time="09:00",
        timezone="Europe/Berlin",
        source="curated",
        mode="post",
        owner_id=OWNER,
    )
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


async def test_a_gone_channel_pauses_the_schedule_and_tells_its_owner(database):
    clock = FakeClock(at(2026, 6, 1, 7, 0))
    board = Board()
    board.gone = True
    service, dispatcher, _ = service_on(database, clock, board)
    await service.setup(
        GUILD,
        channel_id=CHANNEL,
        local_time="09:00",
        timezone="Europe/Berlin",
        source="curated",
        mode="post",
        owner_id=OWNER,
    )
    await dispatcher.run_due()
    schedule = await database.daily.schedule(GUILD)
    assert schedule is not None and schedule.paused
    assert board.told and board.told[0][0] == OWNER and "paused" in board.told[0][1]
    assert await database.timers.get("daily.post", str(GUILD)) is None
