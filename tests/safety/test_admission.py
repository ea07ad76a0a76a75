"""The door's decisions: sliding windows per member and server, the blocklist snapshot, and
owners, who are never refused. A real SQLite blocklist; a hand-turned clock for the windows."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.safety import admission as admission_module
from bot.safety.admission import (
    BLOCKED_GUILD,
    BLOCKED_USER,
    WINDOW_SECONDS,
    Admission,
    BlockedIds,
    SlidingWindow,
)
from bot.storage import Database


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_window_allows_its_limit_then_says_how_long_to_wait() -> None:
    clock = Clock()
    window = SlidingWindow(3, clock)
    assert [window.take("alice") for _ in range(3)] == [None, None, None]
    clock.now += 20
    wait = window.take("alice")
    assert wait == pytest.approx(WINDOW_SECONDS - 20)
    assert window.take("bob") is None  # each key has its own window


def test_refusals_are_not_counted_so_the_oldest_command_frees_a_place() -> None:
    clock = Clock()
    window = SlidingWindow(2, clock)
    window.take("alice")
    clock.now += 30
    window.take("alice")
    for _ in range(50):  # hammering while refused changes nothing
        assert window.take("alice") is not None
    clock.now += 30  # the first is a minute old
    assert window.take("alice") is None
    assert window.take("alice") == pytest.approx(30)


def test_zero_means_no_limit() -> None:
    window = SlidingWindow(0, Clock())
    assert all(window.take("alice") is None for _ in range(10_000))


def test_keys_whose_window_emptied_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admission_module, "SWEEP_EVERY", 10)
    clock = Clock()
    window = SlidingWindow(5, clock)
    for member in range(9):
        window.take(member)
    assert len(window) == 9
    clock.now += WINDOW_SECONDS
    window.take("late")  # the tenth taking sweeps
    assert len(window) == 1


def admission(blocked: BlockedIds, clock: Clock, owners: tuple[int, ...] = (1,)) -> Admission:
    return Admission(blocked, per_user=2, per_guild=3, owners=lambda: owners, clock=clock)


async def test_blocks_come_from_the_database_and_refresh_on_a_schedule(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "inkwell.db") as database:
        clock = Clock()
        blocked = BlockedIds(database.blocklist.all, clock)
        assert blocked.is_stale()  # never read
        await database.blocklist.block("user", 42, "spam")
        await database.blocklist.block("guild", 7)
        await blocked.refresh()
        assert not blocked.is_stale()
        assert blocked.refusal(42, None) == BLOCKED_USER
        assert blocked.refusal(5, 7) == BLOCKED_GUILD
        assert blocked.refusal(5, 8) is None
        await database.blocklist.unblock("user", 42)
        assert blocked.refusal(42, None) == BLOCKED_USER  # until it is read again
        clock.now += admission_module.BLOCKLIST_REFRESH_SECONDS
        assert blocked.is_stale()
        await blocked.refresh()
        assert blocked.refusal(42, None) is None


async def test_a_failed_refresh_keeps_the_last_blocklist(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "inkwell.db")
    await database.blocklist.block("user", 42)
    blocked = BlockedIds(database.blocklist.all, Clock())
    await blocked.refresh()
    await database.close()
    with pytest.raises(Exception):  # noqa: B017  (whatever a closed database raises)
        await blocked.refresh()
    assert blocked.refusal(42, None) == BLOCKED_USER


async def test_owners_pass_everything_and_blocked_members_pass_nothing(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "inkwell.db") as database:
        await database.blocklist.block("user", 42)
        await database.blocklist.block("guild", 7)
        clock = Clock()
        blocked = BlockedIds(database.blocklist.all, clock)
        await blocked.refresh()
        door = admission(blocked, clock, owners=(1,))
        assert all(door.check(1, 7) is None for _ in range(10))  # owner, blocked guild
        refused = door.check(42, None, counted=False)  # even autocomplete
        assert refused is not None and refused.reason == "blocked"
        in_guild = door.check(5, 7)
        assert in_guild is not None and in_guild.text == BLOCKED_GUILD


def test_a_member_over_their_limit_is_told_to_wait_and_others_go_on() -> None:
    clock = Clock()
    door = admission(BlockedIds(_nothing, clock), clock)
    assert door.check(10, 100) is None and door.check(10, 100) is None
    refused = door.check(10, 100)
    assert refused is not None and refused.reason == "limited"
    assert "2 commands a minute" in refused.text and "60 seconds" in refused.text
    assert door.check(11, 100) is None  # the server's third


def test_a_busy_server_refuses_its_members_without_using_up_their_own_limit() -> None:
    clock = Clock()
    door = admission(BlockedIds(_nothing, clock), clock)
    for member in (10, 11, 12):
        assert door.check(member, 100) is None
    refused = door.check(13, 100)
    assert refused is not None and "This server" in refused.text
    assert door.check(13, 200) is None and door.check(13, 200) is None  # still two of its own
    assert door.check(14, None) is None  # direct messages have no server limit


def test_autocomplete_is_never_counted() -> None:
    clock = Clock()
    door = admission(BlockedIds(_nothing, clock), clock)
    for _ in range(100):
        assert door.check(10, 100, counted=False) is None
    assert door.check(10, 100) is None


async def _nothing() -> list:
    return []
