"""Stored ideas: what a channel has seen per pool and cycle, lookups, export and erasure."""

from __future__ import annotations

import pytest

from bot.storage import Database, NewIdea, NotFound
from bot.storage.errors import IntegrityViolation


def idea(**overrides) -> NewIdea:
    fields = {
        "channel_id": 901,
        "user_id": 111,
        "guild_id": 900,
        "source": "curated",
        "curated_key": "fable-01",
        "pool": "genre=*;theme=*",
        "text": "A tortoise races again.",
        "form": "story",
        "genre": "fable",
    }
    return NewIdea(**{**fields, **overrides})


async def test_an_idea_is_stored_and_read_back(db: Database) -> None:
    stored = await db.ideas.add(idea(requested="curated", cycle=2))
    again = await db.ideas.get(stored.id)
    assert again == stored
    assert (stored.source, stored.requested, stored.cycle, stored.form) == (
        "curated",
        "curated",
        2,
        "story",
    )
    assert await db.ideas.get(stored.id + 1) is None
    with pytest.raises(NotFound, match="no longer stored"):
        await db.ideas.require(stored.id + 1)


async def test_pool_state_is_the_latest_cycle_of_that_pool_in_that_channel(db: Database) -> None:
    assert (await db.ideas.pool_state(901, "genre=*;theme=*")).cycle == 0
    await db.ideas.add(idea(curated_key="fable-01"))
    await db.ideas.add(idea(curated_key="fable-02"))
    await db.ideas.add(idea(curated_key="fable-03", cycle=1))
    await db.ideas.add(idea(curated_key="fable-04", pool="genre=fable;theme=*"))
    await db.ideas.add(idea(curated_key="fable-05", channel_id=902))
    await db.ideas.add(idea(source="ai", curated_key=None, text="An AI idea.", cycle=1))
    state = await db.ideas.pool_state(901, "genre=*;theme=*")
    # Seen: every curated prompt the channel got since the cycle began, under any filter.
    assert state.cycle == 1 and state.seen == {"fable-03", "fable-04"}
    other = await db.ideas.pool_state(901, "genre=fable;theme=*")
    assert other.cycle == 0 and other.seen == {"fable-01", "fable-02", "fable-03", "fable-04"}
    assert await db.ideas.recent_keys(901, 3) == ["fable-04", "fable-03", "fable-02"]


async def test_the_schema_refuses_inconsistent_ideas(db: Database) -> None:
    with pytest.raises(IntegrityViolation):
        await db.ideas.add(idea(source="ai"))  # an AI idea has no curated key
    with pytest.raises(IntegrityViolation):
        await db.ideas.add(idea(curated_key=None))
    with pytest.raises(IntegrityViolation):
        await db.ideas.add(idea(form="essay"))


async def test_a_users_ideas_are_exported_and_erased_with_their_data(db: Database) -> None:
    mine = await db.ideas.add(idea())
    theirs = await db.ideas.add(idea(user_id=222, curated_key="fable-09"))
    exported = await db.users.export(111)
    assert [entry["id"] for entry in exported["ideas"]] == [mine.id]
    assert exported["ideas"][0]["text"] == "A tortoise races again."
    assert [i.id for i in await db.ideas.of_user(111)] == [mine.id]
    generated = await db.ideas.add(
        idea(source="ai", curated_key=None, text="A tortoise and the sea, again.")
    )
    await db.users.delete_all(111)
    # The curated idea stays (the channel still counts it as seen, its buttons still work)
    # but no longer names them; the AI idea, which may echo what they typed, is gone.
    kept = await db.ideas.get(mine.id)
    assert kept is not None and kept.user_id == 0 and kept.text == mine.text
    assert "fable-01" in (await db.ideas.pool_state(901, "genre=*;theme=*")).seen
    assert await db.ideas.get(generated.id) is None
    assert await db.ideas.get(theirs.id) == theirs
    assert (await db.users.export(111))["ideas"] == []
    assert await db.ideas.of_user(111) == []


async def test_a_prompt_seen_under_another_filter_counts_as_seen(db: Database) -> None:
    # Drawn under genre:horror first, then plain /idea: the plain pool has seen it too.
    await db.ideas.add(idea(curated_key="horror-09", pool="genre=horror;theme=*"))
    assert "horror-09" in (await db.ideas.pool_state(901, "genre=*;theme=*")).seen
    # A later cycle of the plain pool counts only what came since that cycle began.
    await db.ideas.add(idea(curated_key="fable-01", cycle=1))
    await db.ideas.add(idea(curated_key="horror-10", pool="genre=horror;theme=*"))
    state = await db.ideas.pool_state(901, "genre=*;theme=*")
    assert state.cycle == 1 and state.seen == {"fable-01", "horror-10"}
