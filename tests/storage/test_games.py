"""GameRepository: one open game per channel, compare-and-swap moves, the anthology, and what
erasing an author does to the games and poems they wrote in."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.storage import (
    ANTHOLOGY_USER_ID,
    REMOVED_LINE,
    ChannelBusy,
    Database,
    GameLine,
    GameRow,
    InvalidText,
    TooLong,
)
from bot.storage.errors import IntegrityViolation
from tests.storage.factories import new_generation

GUILD, OTHER_GUILD = 900, 901
CHANNEL, OTHER_CHANNEL = 10, 11
ALICE, BOB, CAROL = 1, 2, 3


def line(position: int, author_id: int | None, text: str, **extra: Any) -> GameLine:
    names = {ALICE: "Alice", BOB: "Bob", CAROL: "Carol"}
    name = "Inkwell" if extra.get("by_ai") else names.get(author_id or 0, "?")
    return GameLine(position, author_id, extra.pop("author_name", name), text, **extra)


async def start(db: Database, channel: int = CHANNEL, guild: int | None = GUILD) -> GameRow:
    return await db.games.create(guild, channel, ALICE, "round-robin", "free", {"turn": 0})


async def run(db: Database, game: GameRow, *lines: GameLine) -> GameRow:
    """Start the game and add ``lines`` in one move."""
    saved = await db.games.save(
        game.id, game.version, status="running", state={"turn": len(lines)}, new_lines=lines
    )
    assert saved is not None
    return saved


async def finished_poem(
    db: Database, *lines: GameLine, channel: int = CHANNEL, guild: int | None = GUILD
) -> tuple[GameRow, int]:
    """A game played to the end with ``lines``; returns it and its poem's id."""
    game = await run(db, await start(db, channel, guild), *lines[:-1])
    result = await db.games.finish(
        game.id,
        game.version,
        state={"done": True},
        new_lines=lines[-1:],
        poem=new_generation(user_name="Inkwell anthology", prompt="Our poem", text="ignored"),
    )
    assert result is not None
    return result[0], result[1].id


# --- create and one game per channel --------------------------------------------------------------


async def test_create_opens_a_lobby_at_version_zero(db: Database) -> None:
    game = await start(db)
    assert (game.status, game.version, game.host_id, game.guild_id) == ("lobby", 0, ALICE, GUILD)
    assert game.state == {"turn": 0} and game.lines == () and game.poem_id is None
    assert await db.games.get(game.id) == game
    assert await db.games.open_in_channel(CHANNEL) == game
    assert await db.games.get(game.id + 1) is None


async def test_a_second_game_in_the_same_channel_is_refused(db: Database) -> None:
    first = await start(db)
    with pytest.raises(ChannelBusy) as refused:
        await start(db)
    assert "/poemgame status" in refused.value.user_message
    assert await start(db, OTHER_CHANNEL)  # other channels are free
    # The refusal wrote nothing: the first game is still the channel's one.
    assert await db.games.open_in_channel(CHANNEL) == first
    assert len(await db.games.open_games()) == 2


async def test_two_starts_at_once_make_one_game(db: Database) -> None:
    results = await asyncio.gather(start(db), start(db), return_exceptions=True)
    assert sorted(type(result).__name__ for result in results) == ["ChannelBusy", "GameRow"]


async def test_a_new_game_may_start_once_the_last_one_ended(db: Database) -> None:
    cancelled = await start(db)
    assert await db.games.save(cancelled.id, 0, status="cancelled", state={}) is not None
    finished, _ = await finished_poem(db, line(0, ALICE, "one"))
    assert await db.games.open_in_channel(CHANNEL) is None
    third = await start(db)
    assert third.id not in (cancelled.id, finished.id)
    assert [game.id for game in await db.games.open_games()] == [third.id]
    assert await db.games.open_in_channel(CHANNEL) == third


# --- compare-and-swap -----------------------------------------------------------------------------


async def test_save_bumps_the_version_and_adds_lines_in_order(db: Database) -> None:
    game = await run(db, await start(db), line(1, BOB, "second"), line(0, ALICE, "first"))
    assert (game.status, game.version, game.state) == ("running", 1, {"turn": 2})
    assert game.finished_at is None and game.updated_at > game.created_at
    assert [(ln.position, ln.text) for ln in game.lines] == [(0, "first"), (1, "second")]
    assert game.lines[1] == GameLine(1, BOB, "Bob", "second", by_ai=False, removed=False)
    assert await db.games.get(game.id) == game


async def test_two_saves_from_one_version_exactly_one_wins(db: Database) -> None:
    game = await run(db, await start(db))

    async def move(author: int, text: str) -> GameRow | None:
        return await db.games.save(
            game.id,
            game.version,
            status="running",
            state={"by": author},
            new_lines=[line(0, author, text)],
        )

    results = await asyncio.gather(move(ALICE, "alice's"), move(BOB, "bob's"))
    winners = [result for result in results if result is not None]
    assert len(winners) == 1
    stored = await db.games.get(game.id)
    assert stored is not None and stored.version == game.version + 1
    # The loser's line and state were not written.
    assert [ln.text for ln in stored.lines] == [winners[0].lines[0].text]
    assert stored.state == winners[0].state
    # Sequentially too: a stale version is refused.
    assert await db.games.save(game.id, game.version, status="running", state={}) is None


async def test_save_on_an_ended_game_returns_none_and_writes_nothing(db: Database) -> None:
    finished, _ = await finished_poem(db, line(0, ALICE, "one"))
    late = await db.games.save(
        finished.id,
        finished.version,
        status="running",
        state={"late": 1},
        new_lines=[line(1, BOB, "late")],
    )
    assert late is None
    assert await db.games.get(finished.id) == finished
    cancelled = await start(db)
    cancelled = await db.games.save(cancelled.id, 0, status="cancelled", state={})
    assert cancelled is not None and cancelled.finished_at is not None
    assert await db.games.save(cancelled.id, cancelled.version, status="lobby", state={}) is None


async def test_a_taken_position_fails_the_whole_move(db: Database) -> None:
    game = await run(db, await start(db), line(0, ALICE, "first"))
    with pytest.raises(IntegrityViolation):
        await db.games.save(
            game.id,
            game.version,
            status="running",
            state={"turn": 9},
            new_lines=[line(1, BOB, "fine"), line(0, BOB, "overwrites alice")],
        )
    assert await db.games.get(game.id) == game  # no version bump, no line, old state


async def test_set_message_keeps_the_version(db: Database) -> None:
    game = await start(db)
    assert await db.games.set_message(game.id, 555)
    stored = await db.games.get(game.id)
    assert stored is not None and (stored.message_id, stored.version) == (555, 0)
    assert await db.games.save(game.id, 0, status="running", state={}) is not None
    assert not await db.games.set_message(game.id + 100, 1)


async def test_open_games_lists_lobbies_and_running_games_with_their_lines(db: Database) -> None:
    lobby = await start(db)
    running = await run(
        db, await start(db, OTHER_CHANNEL), line(0, BOB, "b"), line(1, None, "ai", by_ai=True)
    )
    await finished_poem(db, line(0, ALICE, "done"), channel=12)
    assert await db.games.open_games() == [lobby, running]
    assert running.lines[1].by_ai and running.lines[1].author_name == "Inkwell"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("x" * 201, TooLong),
        ("", InvalidText),
        ("   ", InvalidText),
        ("two\nlines", InvalidText),
        ("sneaky\u2028break", InvalidText),
    ],
)
async def test_lines_are_checked_before_anything_is_written(
    db: Database, text: str, error: type[Exception]
) -> None:
    game = await start(db)
    with pytest.raises(error):
        await db.games.save(game.id, 0, status="running", state={}, new_lines=[line(0, BOB, text)])
    assert await db.games.get(game.id) == game


async def test_a_long_name_and_the_longest_line_are_handled(db: Database) -> None:
    game = await start(db)
    with pytest.raises(TooLong):
        await db.games.save(
            game.id,
            0,
            status="running",
            state={},
            new_lines=[line(0, BOB, "ok", author_name="n" * 65)],
        )
    saved = await db.games.save(
        game.id, 0, status="running", state={}, new_lines=[line(0, BOB, "x" * 200)]
    )
    assert saved is not None and saved.lines[0].text == "x" * 200


# --- finish ---------------------------------------------------------------------------------------


async def test_finish_stores_the_poem_its_lines_and_the_link(db: Database) -> None:
    game = await run(db, await start(db), line(0, ALICE, "rain"), line(1, None, "on", by_ai=True))
    result = await db.games.finish(
        game.id,
        game.version,
        state={"done": True},
        new_lines=[line(2, BOB, "tin")],
        poem=new_generation(user_id=ALICE, guild_id=5, text="whatever", prompt="Tin Roof"),
    )
    assert result is not None
    finished, poem = result
    assert (finished.status, finished.poem_id, finished.version) == ("finished", poem.id, 2)
    assert finished.finished_at is not None
    assert (poem.user_id, poem.text, poem.guild_id) == (ANTHOLOGY_USER_ID, "rain\non\ntin", GUILD)
    assert poem.prompt == "Tin Roof"
    assert await db.games.get(game.id) == finished
    assert await db.generations.get(poem.id) == poem
    # Stale or repeated finishes write nothing.
    again = await db.games.finish(
        game.id, game.version, state={}, new_lines=[], poem=new_generation()
    )
    assert again is None
    assert await db.games.anthology_count(GUILD) == 1


async def test_a_failed_finish_leaves_nothing(db: Database) -> None:
    game = await run(db, await start(db), line(0, ALICE, "rain"))
    with pytest.raises(IntegrityViolation):
        await db.games.finish(
            game.id,
            game.version,
            state={"done": True},
            new_lines=[line(1, BOB, "ok"), line(0, BOB, "duplicate")],
            poem=new_generation(),
        )
    assert await db.games.get(game.id) == game
    assert await db.generations.count_for_user(ANTHOLOGY_USER_ID) == 0
    assert await db.games.anthology_count(GUILD) == 0


# --- the anthology --------------------------------------------------------------------------------


async def test_anthology_pages_newest_first_within_one_guild(db: Database) -> None:
    ids = []
    for number in range(5):
        _, poem_id = await finished_poem(db, line(0, ALICE, f"poem {number}"), line(1, BOB, "end"))
        ids.append(poem_id)
    await finished_poem(db, line(0, ALICE, "elsewhere"), guild=OTHER_GUILD)
    await finished_poem(db, line(0, ALICE, "console"), guild=None)
    await run(db, await start(db), line(0, ALICE, "unfinished"))

    first = await db.games.anthology(GUILD, before_id=None, limit=2)
    second = await db.games.anthology(GUILD, before_id=first[-1].record.id, limit=2)
    third = await db.games.anthology(GUILD, before_id=second[-1].record.id, limit=2)
    assert [p.record.id for p in first + second + third] == ids[::-1]
    assert [ln.text for ln in first[0].lines] == ["poem 4", "end"]
    assert (first[0].mode, first[0].form) == ("round-robin", "free")
    assert await db.games.anthology_count(GUILD) == 5
    console = await db.games.anthology(None, before_id=None, limit=10)
    assert [p.lines[0].text for p in console] == ["console"]
    with pytest.raises(ValueError):
        await db.games.anthology(GUILD, before_id=None, limit=0)


async def test_anthology_poem_finds_only_game_poems(db: Database) -> None:
    game, poem_id = await finished_poem(db, line(0, ALICE, "a"), line(1, BOB, "b"))
    poem = await db.games.anthology_poem(poem_id)
    assert poem is not None and poem.game_id == game.id and poem.record.text == "a\nb"
    assert [ln.author_name for ln in poem.lines] == ["Alice", "Bob"]
    ordinary = await db.generations.add(new_generation())
    assert await db.games.anthology_poem(ordinary.id) is None


async def test_anyone_in_the_poem_can_star_it(db: Database) -> None:
    _, poem_id = await finished_poem(db, line(0, ALICE, "a"), line(1, BOB, "b"))
    assert (await db.favorites.add(ALICE, poem_id)).created
    assert (await db.favorites.add(BOB, poem_id)).created
    hall = await db.favorites.hall_of_fame(GUILD)
    assert [(entry.piece.id, entry.stars) for entry in hall] == [(poem_id, 2)]


# --- privacy --------------------------------------------------------------------------------------


async def test_erasing_an_author_removes_their_lines_everywhere(db: Database) -> None:
    _, poem_id = await finished_poem(
        db, line(0, ALICE, "alice one"), line(1, BOB, "bob one"), line(2, ALICE, "alice two")
    )
    running = await run(
        db, await start(db, OTHER_CHANNEL), line(0, BOB, "bob"), line(1, ALICE, "alice")
    )
    counts = await db.users.delete_all(ALICE)
    assert counts.removed_lines == 3 and counts.total >= 3

    poem = await db.games.anthology_poem(poem_id)
    assert poem is not None
    assert poem.record.text == "(removed)\nbob one\n(removed)"
    assert poem.lines[0] == GameLine(0, None, REMOVED_LINE, REMOVED_LINE, removed=True)
    assert poem.lines[1] == line(1, BOB, "bob one")  # other authors untouched
    still_running = await db.games.get(running.id)
    assert still_running is not None
    assert [(ln.author_id, ln.text) for ln in still_running.lines] == [
        (BOB, "bob"),
        (None, REMOVED_LINE),
    ]
    # The game goes on: erasure is not a move (the version is unchanged).
    assert (still_running.status, still_running.version) == ("running", running.version)
    assert "alice" not in json.dumps(await db.users.export(ALICE)).lower()


async def test_erasing_the_host_keeps_the_games(db: Database) -> None:
    finished, poem_id = await finished_poem(db, line(0, BOB, "bob's only line"))
    open_game = await start(db, OTHER_CHANNEL)
    await db.users.delete_all(ALICE)  # Alice hosts both
    after = await db.games.get(finished.id)
    assert after is not None and after.poem_id == poem_id and after.host_id == ANTHOLOGY_USER_ID
    assert [ln.text for ln in after.lines] == ["bob's only line"]
    still_open = await db.games.get(open_game.id)
    assert still_open is not None and still_open.host_id == ALICE  # it still needs its host


async def test_the_poem_survives_erasing_every_author(db: Database) -> None:
    _, poem_id = await finished_poem(
        db, line(0, ALICE, "a"), line(1, None, "ai", by_ai=True), line(2, BOB, "b")
    )
    await db.favorites.add(ALICE, poem_id)
    await db.favorites.add(CAROL, poem_id)
    await db.users.delete_all(ALICE)
    await db.users.delete_all(BOB)
    piece = await db.generations.get(poem_id)
    assert piece is not None and piece.text == "(removed)\nai\n(removed)"
    assert await db.games.anthology_count(GUILD) == 1
    # Alice's star went with her data; Carol's stays.
    hall = await db.favorites.hall_of_fame(GUILD)
    assert [(entry.piece.id, entry.stars) for entry in hall] == [(poem_id, 1)]
    with pytest.raises(ValueError):
        await db.users.delete_all(ANTHOLOGY_USER_ID)


async def test_export_lists_the_users_lines(db: Database) -> None:
    finished, poem_id = await finished_poem(db, line(0, ALICE, "mine"), line(1, BOB, "his"))
    running = await run(db, await start(db, OTHER_CHANNEL), line(0, ALICE, "also mine"))
    data = await db.users.export(ALICE)
    json.dumps(data)
    assert [
        (entry["game_id"], entry["poem_id"], entry["position"], entry["text"])
        for entry in data["poem_lines"]
    ] == [(finished.id, poem_id, 0, "mine"), (running.id, None, 0, "also mine")]
    assert all(entry["created_at"] for entry in data["poem_lines"])
    assert "his" not in json.dumps(data["poem_lines"])
