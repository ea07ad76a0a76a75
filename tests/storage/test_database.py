"""Database lifecycle and transactions on the one shared connection."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.storage import Database, NameTaken, StorageError, default_database_path
from tests.storage.factories import add_piece


class Boom(Exception):
    pass


async def test_open_creates_parent_folders(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "inkwell.db"
    async with await Database.open(path) as db:
        assert db.path == path
        assert await db.integrity_check() == "ok"
    assert path.exists()


async def test_transaction_commits(db: Database) -> None:
    async with db.transaction():
        piece = await add_piece(db)
        await db.favorites.add(222, piece.id)
    assert await db.favorites.count(222) == 1


async def test_transaction_rolls_back_everything_on_error(db: Database) -> None:
    with pytest.raises(Boom):
        async with db.transaction():
            piece = await add_piece(db)
            await db.favorites.add(222, piece.id)
            await db.prompts.save(222, "keep?", "text", "poem")
            raise Boom
    assert await db.generations.count_for_user(111) == 0
    assert await db.favorites.count(222) == 0
    assert await db.prompts.count(222) == 0


async def test_failed_call_inside_transaction_undoes_only_itself(db: Database) -> None:
    await db.prompts.save(1, "taken", "old", "poem")
    async with db.transaction():
        await add_piece(db)
        with pytest.raises(NameTaken):
            await db.prompts.save(1, "TAKEN", "new", "poem")
        await db.prompts.save(1, "other", "text", "poem")
    assert (await db.prompts.get(1, "taken")).text == "old"  # type: ignore[union-attr]
    assert await db.prompts.count(1) == 2
    assert await db.generations.count_for_user(111) == 1


async def test_cancelled_transaction_rolls_back(db: Database) -> None:
    started = asyncio.Event()

    async def slow_action() -> None:
        async with db.transaction():
            await add_piece(db)
            started.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(slow_action())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await db.generations.count_for_user(111) == 0
    await add_piece(db)  # the connection is usable again
    assert await db.generations.count_for_user(111) == 1


async def test_other_tasks_never_see_uncommitted_rows(db: Database) -> None:
    inside = asyncio.Event()
    seen: list[int] = []

    async def writer() -> None:
        async with db.transaction():
            await add_piece(db)
            inside.set()
            await asyncio.sleep(0.05)
            raise Boom

    async def reader() -> None:
        await inside.wait()
        seen.append(await db.generations.count_for_user(111))

    results = await asyncio.gather(writer(), reader(), return_exceptions=True)
    assert isinstance(results[0], Boom)
    assert seen == [0]


async def test_concurrent_transactions_do_not_interleave(db: Database) -> None:
    async def action(user_id: int) -> None:
        async with db.transaction():
            piece = await add_piece(db, user_id=user_id)
            await asyncio.sleep(0)
            await db.favorites.add(user_id, piece.id)
            await asyncio.sleep(0)
            await db.prompts.save(user_id, "mine", "text", "poem")

    await asyncio.gather(*(action(user_id) for user_id in range(1, 21)))
    for user_id in range(1, 21):
        assert await db.generations.count_for_user(user_id) == 1
        assert await db.favorites.count(user_id) == 1
        assert await db.prompts.count(user_id) == 1


async def test_close_is_idempotent_and_later_calls_fail_kindly(db_path: Path) -> None:
    db = await Database.open(db_path)
    await db.close()
    await db.close()
    with pytest.raises(StorageError, match="shutting down"):
        await db.generations.get(1)


async def test_close_waits_for_a_running_transaction(db_path: Path) -> None:
    db = await Database.open(db_path)
    inside = asyncio.Event()

    async def action() -> None:
        async with db.transaction():
            inside.set()
            await asyncio.sleep(0.05)
            await add_piece(db)

    task = asyncio.create_task(action())
    await inside.wait()
    await db.close()
    await task
    async with await Database.open(db_path) as reopened:
        assert await reopened.generations.count_for_user(111) == 1


def test_default_path_is_data_folder_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert default_database_path() == tmp_path.resolve() / "data" / "inkwell.db"
    assert default_database_path(Path("/srv/inkwell")) == Path("/srv/inkwell/data/inkwell.db")


@pytest.mark.sqlite_only  # a second program holding SQLite's write lock
async def test_cancelled_while_waiting_for_another_writer(db: Database, db_path: Path) -> None:
    """Cancelled during BEGIN (blocked on another process's lock): no orphan transaction."""
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        task = asyncio.create_task(add_piece(db))
        await asyncio.sleep(0.1)  # now waiting in busy_timeout
        task.cancel()
    finally:
        other.execute("COMMIT")
        other.close()
    with pytest.raises(asyncio.CancelledError):
        await task
    await add_piece(db, text="after")
    pieces = await db.generations.list_for_user(111)
    assert [p.text for p in pieces] == ["after"]


async def test_after_commit_runs_in_commit_order_and_only_for_what_committed(
    db: Database,
) -> None:
    executor = db._executor
    ran: list[str] = []
    with pytest.raises(RuntimeError, match="inside transaction"):
        executor.after_commit(lambda: ran.append("outside"))
    async with db.transaction():
        executor.after_commit(lambda: ran.append("first"))
        async with db.transaction():
            executor.after_commit(lambda: ran.append("kept savepoint"))
        with pytest.raises(Boom):
            async with db.transaction():
                executor.after_commit(lambda: ran.append("undone savepoint"))
                raise Boom
        assert ran == []  # nothing before the COMMIT
    with pytest.raises(Boom):
        async with db.transaction():
            executor.after_commit(lambda: ran.append("rolled back"))
            raise Boom
    assert ran == ["first", "kept savepoint"]


async def test_reads_never_queue_behind_a_write_waiting_for_the_lock(db_path) -> None:
    import asyncio
    import sqlite3
    import time

    from tests.storage.factories import add_piece

    db = await Database.open(db_path)
    try:
        piece = await add_piece(db, user_id=1)
        await db.prompts.save(1, "rain", "autumn rain", "poem", {})
        other = sqlite3.connect(db_path, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")  # another program, writing for a while
            waiting = asyncio.create_task(db.favorites.add(2, piece.id))
            await asyncio.sleep(0.2)  # our own write now waits on busy_timeout
            started = time.perf_counter()
            assert await db.generations.get(piece.id) == piece
            assert (await db.prompts.get(1, "rain")) is not None
            assert await db.favorites.count(2) == 0
            assert time.perf_counter() - started < 1.0
            assert not waiting.done()
        finally:
            other.rollback()
            other.close()
        assert (await waiting).created
        assert await db.favorites.count(2) == 1  # the reader sees what was committed
    finally:
        await db.close()
