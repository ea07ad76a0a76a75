"""Counts for /stats: open games and sprints and unpaused schedules, per guild and in all,
on both databases."""

from __future__ import annotations

from bot.storage.activity import ActivityCounts


async def sprint(db, guild_id: int | None, channel_id: int, status: str = "running"):
    return await db.sprints.create(
        guild_id=guild_id,
        channel_id=channel_id,
        starter_id=100,
        starter_name="Ada",
        status=status,
        minutes=10,
        starts_at=1000.0,
        ends_at=1600.0,
        joined_at=1000.0,
    )


async def schedule(db, guild_id: int) -> None:
    await db.daily.set_schedule(
        guild_id,
        channel_id=guild_id * 10,
        local_time="09:00",
        timezone="UTC",
        source="any",
        mode="post",
        owner_id=100,
    )


async def test_counts_what_is_open_per_guild_and_everywhere(db):
    assert await db.activity.counts() == ActivityCounts(0, 0, 0)
    lobby = await db.games.create(1, 11, 100, "round-robin", "free", {})
    await db.games.create(2, 21, 100, "round-robin", "free", {})
    ended = await db.games.create(1, 12, 100, "round-robin", "free", {})
    assert await db.games.save(ended.id, ended.version, status="cancelled", state={}) is not None
    await sprint(db, 1, 13)
    await sprint(db, None, 31, status="waiting")  # a DM sprint counts only in all
    done = await sprint(db, 1, 14)
    assert await db.sprints.advance(done.id, ["running"], "finished")
    await schedule(db, 1)
    await schedule(db, 2)
    assert await db.daily.set_paused(2, True, "channel gone")

    assert await db.activity.counts(1) == ActivityCounts(games=1, sprints=1, schedules=1)
    assert await db.activity.counts(2) == ActivityCounts(games=1, sprints=0, schedules=0)
    assert await db.activity.counts(3) == ActivityCounts(0, 0, 0)
    assert await db.activity.counts() == ActivityCounts(games=2, sprints=2, schedules=1)
    assert lobby.status == "lobby"
