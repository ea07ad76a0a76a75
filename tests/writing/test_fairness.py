"""The fairness gate's rules, on a real database (the state all processes share)."""

import asyncio

import pytest

from bot.errors import ServiceBusy
from bot.storage import Database
from bot.writing.fairness import FairnessGate, RateLimited

GUILD_A, GUILD_B = 10, 20
ALICE, BOB, CAROL, DAN = ("user", 1), ("user", 2), ("user", 3), ("user", 4)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def database(tmp_path):
    db = await Database.open(tmp_path / "fair.db")
    try:
        yield db
    finally:
        await db.close()


async def test_one_generation_in_flight_per_user_and_others_unaffected(database):
    gate = FairnessGate(database, clock=Clock())
    async with gate.slot(ALICE, GUILD_A, cooldown_seconds=0):
        with pytest.raises(RateLimited, match="still writing your previous piece"):
            async with gate.slot(ALICE, GUILD_B, cooldown_seconds=0):
                pass
        async with gate.slot(BOB, GUILD_A, cooldown_seconds=0):
            assert await gate.in_flight(BOB)
    assert not await gate.in_flight(ALICE)


async def test_cooldown_starts_when_the_generation_ends(database):
    clock = Clock()
    gate = FairnessGate(database, clock=clock)
    async with gate.slot(ALICE, GUILD_A, cooldown_seconds=10):
        clock.now += 30  # a long generation does not use up the cooldown
    clock.now += 8.5
    with pytest.raises(RateLimited, match="wait 2 more seconds"):
        async with gate.slot(ALICE, GUILD_A, cooldown_seconds=10):
            pass
    clock.now += 1.6
    async with gate.slot(ALICE, GUILD_A, cooldown_seconds=10):
        pass


async def test_a_cooldown_in_one_guild_does_not_block_the_user_in_another(database):
    gate = FairnessGate(database, clock=Clock())
    async with gate.slot(ALICE, GUILD_A, cooldown_seconds=600):
        pass
    with pytest.raises(RateLimited):
        async with gate.slot(ALICE, GUILD_A, cooldown_seconds=600):
            pass
    async with gate.slot(ALICE, GUILD_B, cooldown_seconds=600):  # another server's own
        pass
    async with gate.slot(ALICE, None, cooldown_seconds=600):  # and direct messages too
        pass


async def test_a_failed_generation_frees_the_slot_without_a_cooldown(database):
    gate = FairnessGate(database, clock=Clock())
    with pytest.raises(ValueError):
        async with gate.slot(ALICE, GUILD_A, cooldown_seconds=60):
            raise ValueError("boom")
    async with gate.slot(ALICE, GUILD_A, cooldown_seconds=60):  # "try again" really works
        pass


async def test_a_cancelled_piece_gives_its_slot_back(database):
    gate = FairnessGate(database, clock=Clock())
    started = asyncio.Event()

    async def piece() -> None:
        async with gate.slot(ALICE, GUILD_A, cooldown_seconds=60):
            started.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(piece())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not await gate.in_flight(ALICE)
    async with gate.slot(ALICE, GUILD_A, cooldown_seconds=60):  # and no cooldown either
        pass


async def test_a_guild_holds_at_most_its_share_and_others_still_get_in(database):
    gate = FairnessGate(database, clock=Clock(), max_per_guild=2)
    async with gate.slot(ALICE, GUILD_A, 0), gate.slot(BOB, GUILD_A, 0):
        with pytest.raises(ServiceBusy, match="already has 2 pieces"):
            async with gate.slot(CAROL, GUILD_A, 0):
                pass
        async with gate.slot(CAROL, GUILD_B, 0), gate.slot(DAN, None, 0):  # others, and DMs
            pass
    async with gate.slot(CAROL, GUILD_A, 0):  # the share is free again once pieces end
        pass


async def test_a_refused_request_takes_no_share_of_its_guild(database):
    gate = FairnessGate(database, clock=Clock(), max_per_guild=1)
    async with gate.slot(ALICE, GUILD_A, 0):
        for _ in range(3):
            with pytest.raises(RateLimited):
                async with gate.slot(ALICE, GUILD_A, 0):
                    pass
    async with gate.slot(BOB, GUILD_A, 0):
        pass


async def test_hold_blocks_pieces_and_is_refused_while_one_runs(database):
    gate = FairnessGate(database, clock=Clock())
    async with gate.hold(ALICE, "busy"):
        with pytest.raises(RateLimited):
            async with gate.slot(ALICE, GUILD_A, 0):
                pass
    async with gate.slot(ALICE, GUILD_A, 0):
        with pytest.raises(RateLimited, match="busy"):
            async with gate.hold(ALICE, "busy"):
                pass
    async with gate.slot(ALICE, GUILD_A, cooldown_seconds=0):  # nothing left held
        pass


async def test_two_processes_gates_share_the_rules(tmp_path):
    """Each its own connection to one file, as two bot processes (one per shard group)."""
    clock = Clock()
    first = await Database.open(tmp_path / "shared.db")
    second = await Database.open(tmp_path / "shared.db")
    try:
        here = FairnessGate(first, clock=clock, max_per_guild=1)
        there = FairnessGate(second, clock=clock, max_per_guild=1)
        async with here.slot(ALICE, GUILD_A, cooldown_seconds=30):
            with pytest.raises(RateLimited, match="still writing"):
                async with there.slot(ALICE, GUILD_B, 0):  # the same user, another shard
                    pass
            with pytest.raises(ServiceBusy):
                async with there.slot(BOB, GUILD_A, 0):  # the guild's share is used up
                    pass
        with pytest.raises(RateLimited, match="more second"):
            async with there.slot(ALICE, GUILD_A, 0):
                pass
    finally:
        await first.close()
        await second.close()


async def test_a_crashed_process_leaves_slots_that_expire_or_are_recovered(database):
    clock = Clock()
    crashed = FairnessGate(database, clock=clock, holder="host/shards 0 of 2")
    # What a process that died mid-piece leaves: a slot row nobody renews.
    await database.slots.take(ALICE, crashed.holder, lease="a", now=clock(), lease_seconds=60)
    await database.slots.take(BOB, crashed.holder, lease="b", now=clock(), lease_seconds=60)
    other = FairnessGate(database, clock=clock)
    with pytest.raises(RateLimited):
        async with other.slot(ALICE, GUILD_A, 0):
            pass
    clock.now += 61  # the lease ran out: anyone may take it
    async with other.slot(ALICE, GUILD_A, 0):
        pass
    # Bob's is freed at once when the process starts again under its name.
    restarted = FairnessGate(database, clock=clock, holder="host/shards 0 of 2")
    clock.now -= 61
    assert await restarted.recover() == 1
    async with other.slot(BOB, GUILD_A, 0):
        pass


async def test_a_long_piece_keeps_its_slot_by_renewing_the_lease(database):
    gate = FairnessGate(database, lease_seconds=0.3)
    async with gate.slot(ALICE, GUILD_A, 0):
        await asyncio.sleep(1.0)  # three leases long: only renewals keep it
        other = FairnessGate(database)
        with pytest.raises(RateLimited):
            async with other.slot(ALICE, GUILD_A, 0):
                pass


async def test_erasing_my_data_is_not_held_back_by_my_cooldown(database):
    gate = FairnessGate(database, clock=Clock())
    async with gate.slot(ALICE, None, cooldown_seconds=600):  # a piece in direct messages
        pass
    async with gate.hold(ALICE, "busy"):  # the erase goes ahead at once
        pass


async def test_a_request_cancelled_while_its_slot_is_taken_leaves_no_slot(database):
    gate = FairnessGate(database, clock=Clock())
    for _ in range(5):
        entering = asyncio.create_task(gate.slot(ALICE, GUILD_A, 0).__aenter__())
        await asyncio.sleep(0)  # the take is under way
        entering.cancel()
        with pytest.raises(asyncio.CancelledError):
            await entering
        await gate.drain()
        assert not await gate.in_flight(ALICE)
