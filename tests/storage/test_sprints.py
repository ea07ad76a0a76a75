"""Sprints in SQLite: one open sprint per channel, forward-only status steps, member counts
that close with the results, stats, and erasure and export of a member's sprint rows."""

from __future__ import annotations

import pytest

from bot.storage import SprintBusy, SprintStats


async def make(db, channel_id: int = 7, status: str = "running"):
    return await db.sprints.create(
        guild_id=1,
        channel_id=channel_id,
        starter_id=100,
        starter_name="Ada",
        status=status,
        minutes=10,
        starts_at=1000.0,
        ends_at=1600.0,
        joined_at=1000.0,
    )


async def test_one_open_sprint_per_channel_and_the_starter_is_its_first_member(db):
    sprint = await make(db)
    assert sprint.status == "running" and sprint.is_open
    assert [m.user_id for m in await db.sprints.members(sprint.id)] == [100]
    with pytest.raises(SprintBusy):
        await make(db)
    other = await make(db, channel_id=8)  # several channels at once
    assert (await db.sprints.open_in_channel(8)).id == other.id
    assert await db.sprints.advance(sprint.id, ["running"], "cancelled")
    again = await make(db)  # the channel is free once it ended
    assert again.id != sprint.id
    assert {s.id for s in await db.sprints.open_sprints()} == {other.id, again.id}


async def test_status_steps_are_compare_and_swap(db):
    sprint = await make(db, status="waiting")
    assert await db.sprints.advance(sprint.id, ["waiting"], "running")
    assert not await db.sprints.advance(sprint.id, ["waiting"], "running")  # taken already
    assert await db.sprints.advance(
        sprint.id, ["running"], "counting", ended_at=1600.0, count_until=1720.0
    )
    assert await db.sprints.advance(sprint.id, ["counting"], "finished")
    done = await db.sprints.get(sprint.id)
    assert done.ended_at == 1600.0 and done.count_until == 1720.0 and done.finished_at
    assert not await db.sprints.advance(sprint.id, ["waiting", "running", "counting"], "cancelled")
    with pytest.raises(ValueError):
        await db.sprints.advance(sprint.id, ["nonsense"], "finished")


async def test_counts_close_when_the_results_are_in(db):
    sprint = await make(db)
    await db.sprints.join(sprint.id, 200, "Bo", 50, 1100.0)
    # Joining again sets the starting words, not the time they joined.
    member = await db.sprints.join(sprint.id, 200, "Bo", 80, 1500.0)
    assert member.starting_words == 80 and member.joined_at == 1100.0
    assert await db.sprints.set_words(sprint.id, 200, 400)
    assert await db.sprints.mark_left(sprint.id, 200, 1300.0)
    assert not await db.sprints.mark_left(sprint.id, 200, 1400.0)
    assert await db.sprints.active_count(sprint.id) == 1
    await db.sprints.advance(sprint.id, ["running"], "finished")
    assert not await db.sprints.set_words(sprint.id, 200, 500)
    assert (await db.sprints.member(sprint.id, 200)).words == 400


async def test_stats_are_stored_per_member_and_guild(db):
    row = SprintStats(100, 1, 2, 900, 35.0, 600, 60.0)
    await db.sprints.save_stats([row])
    assert await db.sprints.stats(100, 1) == row
    assert await db.sprints.stats(100, None) is None
    await db.sprints.save_stats([SprintStats(100, 1, 3, 1000, 40.0, 600, 60.0)])
    assert (await db.sprints.stats(100, 1)).sprints == 3


async def test_erasure_takes_the_members_counts_and_stats_and_their_prompt(db):
    sprint = await make(db)
    await db.sprints.set_prompt(sprint.id, "my own words", by_starter=True)
    await db.sprints.join(sprint.id, 200, "Bo", 0, 1000.0)
    await db.sprints.save_stats([SprintStats(100, 1, 1, 10, 1.0, 10, 10.0)])
    exported = await db.users.export(100)
    assert exported["sprints"][0]["sprint_id"] == sprint.id
    assert exported["sprint_stats"][0]["words"] == 10
    await db.sprints.advance(sprint.id, ["running"], "finished")
    await db.users.delete_all(100)
    assert [m.user_id for m in await db.sprints.members(sprint.id)] == [200]
    assert await db.sprints.stats(100, 1) is None
    kept = await db.sprints.get(sprint.id)
    assert kept.prompt is None and kept.starter_id == 0


def row_for_text():
    """A sprint row for rendering tests."""
    from datetime import UTC, datetime

    from bot.storage import SprintRow

    return SprintRow(
        1,
        1,
        7,
        100,
        None,
        False,
        "finished",
        30,
        0.0,
        1800.0,
        1800.0,
        1920.0,
        None,
        None,
        datetime.now(UTC),
        None,
    )
