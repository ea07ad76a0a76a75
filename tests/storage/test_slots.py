"""Writing slots on both databases: a race for one slot or one guild's last share has one
winner, also between two processes' connections."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.storage import Database
from tests.storage.factories import TickingClock

NOW = 1_000_000.0


async def test_a_slot_is_taken_renewed_and_released(db: Database) -> None:
    slot = ("user", 7)
    assert await db.slots.take(slot, "a", lease="a1", now=NOW, lease_seconds=60) is None
    refused = await db.slots.take(slot, "b", lease="b1", now=NOW + 1, lease_seconds=60)
    assert refused is not None and refused.reason == "in_flight"
    assert await db.slots.renew(slot, "a1", now=NOW + 50, lease_seconds=60)
    assert not await db.slots.renew(slot, "b1", now=NOW + 50, lease_seconds=60)
    # Renewed: still held after the first lease would have run out.
    assert await db.slots.holder_of(slot, now=NOW + 100) == "a"
    await db.slots.release(slot, "a1", now=NOW + 100, cooldown_until=NOW + 130, cooldown_guild_id=5)
    assert await db.slots.holder_of(slot, now=NOW + 100) is None
    refused = await db.slots.take(
        slot, "b", lease="b2", now=NOW + 110, lease_seconds=60, cooldown_guild_id=5
    )
    assert refused is not None and refused.reason == "cooldown" and refused.wait == 20
    # Elsewhere, or for something that ignores cooldowns (erasing data), it is free.
    assert (
        await db.slots.take(
            slot,
            "b",
            lease="b3",
            now=NOW + 110,
            lease_seconds=60,
            cooldown_guild_id=5,
            check_cooldown=False,
        )
        is None
    )


async def test_one_process_releasing_never_frees_another_s_slot(db: Database) -> None:
    slot = ("game", 3)
    assert await db.slots.take(slot, "a", lease="first", now=NOW, lease_seconds=10) is None
    # The first lease ran out and the slot was taken again, even by the same process: the
    # first taking's late renewal and release must leave the second's alone.
    assert await db.slots.take(slot, "a", lease="second", now=NOW + 11, lease_seconds=10) is None
    assert not await db.slots.renew(slot, "first", now=NOW + 12, lease_seconds=10)
    await db.slots.release(slot, "first", now=NOW + 12)
    assert await db.slots.holder_of(slot, now=NOW + 12) == "a"
    await db.slots.release(slot, "second", now=NOW + 12)
    assert await db.slots.holder_of(slot, now=NOW + 12) is None


async def test_two_connections_racing_for_slots_and_a_guild_share_win_once(
    db_target: Path | str,
) -> None:
    first = await Database.open(db_target, clock=TickingClock())
    second = await Database.open(db_target, clock=TickingClock())
    try:
        # Twenty users, each asking through both processes at once: one slot each.
        users = [("user", n) for n in range(20)]
        results = await asyncio.gather(
            *(
                db.slots.take(slot, name, lease=f"{name}{slot[1]}", now=NOW, lease_seconds=60)
                for slot in users
                for db, name in ((first, "first"), (second, "second"))
            )
        )
        assert sum(result is None for result in results) == 20
        holders = [await first.slots.holder_of(slot, now=NOW) for slot in users]
        assert None not in holders
        # Ten more users in one guild capped at 3, racing: exactly 3 get in.
        more = [("user", 100 + n) for n in range(10)]
        results = await asyncio.gather(
            *(
                (first if n % 2 else second).slots.take(
                    slot,
                    "p",
                    lease=str(n),
                    now=NOW,
                    lease_seconds=60,
                    guild_id=42,
                    max_per_guild=3,
                )
                for n, slot in enumerate(more)
            )
        )
        assert sum(result is None for result in results) == 3
        assert {r.reason for r in results if r is not None} == {"guild_full"}
    finally:
        await first.close()
        await second.close()


async def test_an_erasure_is_remembered_for_pieces_started_before_it(db: Database) -> None:
    before = TickingClock()().timestamp() - 60
    assert not await db.users.erased_since(7, before)
    await db.users.delete_all(7)
    assert await db.users.erased_since(7, before)  # a piece started a minute ago
    assert not await db.users.erased_since(7, before + 3600)  # one started after the erase
    assert not await db.users.erased_since(8, before)
