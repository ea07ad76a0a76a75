"""Storage faults on Discord end to end: the disk fills up (a real, size-limited tmpfs) or
another program holds SQLite's write lock past busy_timeout. Each member is told kindly and
privately that nothing was saved, a finished piece is still shown (marked as not saved),
nothing is half written, and once the fault is gone the bot saves again."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sqlite3
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.generation.jobs import Job
from bot.generation.types import GenerationRequest
from tests.cogs.conftest import Stack, build_stack
from tests.cogs.test_discord_e2e import ERROR_LOGGERS, finished, synced
from tests.cogs.test_write_flow_e2e import shown_to
from tests.fakediscord.client import run_client

FULL = "Inkwell's storage is full. Nothing was saved"
BUSY = "busy with another program. Nothing was saved"
SLOTS = "SELECT count(*) FROM writing_slots"
TMPFS_SIZE = "16m"  # room for the migrated database and its WAL, and little else


@contextlib.contextmanager
def tmpfs(directory: Path) -> Iterator[Path]:
    """A size-limited tmpfs mounted on ``directory``, or a skip that says why there is none."""
    directory.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs here ({mounted.stderr.strip() or mounted.returncode}); "
            "tests/storage/test_storage_faults.py still provokes SQLITE_FULL via max_page_count"
        )
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False)


class FullDisk:
    """Fills the filesystem under the database with one file; ``free()`` deletes it."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.filler = database.parent / "filler"

    def fill(self) -> None:
        # An emptied WAL must grow for the next write: SQLite otherwise reuses the space it
        # already has in the file, and a small change would not notice the disk is full.
        with contextlib.closing(sqlite3.connect(self.database, timeout=10)) as other:
            busy, _, _ = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0, "the WAL could not be emptied"
        chunk = b"\0" * 65536
        with self.filler.open("wb", buffering=0) as file:
            while True:
                try:
                    file.write(chunk)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
        # The last partial chunk: the disk is full to the byte.
        with self.filler.open("ab", buffering=0) as file, contextlib.suppress(OSError):
            while True:
                file.write(b"\0" * 512)
        assert os.statvfs(self.filler).f_bavail == 0

    def free(self) -> None:
        self.filler.unlink()


def rows(path: Path, sql: str) -> int:
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as other:
        return int(other.execute(sql).fetchone()[0])


def sound(path: Path) -> None:
    """Nothing half written: the file is intact and no row points at one that is missing."""
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as other:
        assert other.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert other.execute("PRAGMA foreign_key_check").fetchall() == []


@contextlib.asynccontextmanager
async def stack_on(directory: Path, model_dir: Path, server) -> AsyncIterator[Stack]:
    async with build_stack(model_dir, directory, server) as built:
        yield built


def unexpected(server) -> list[str]:
    """Errors the bot logged other than storage's own report of the fault and the background
    timers' (which retry on their own)."""
    return [
        record.getMessage()
        for record in server.client_errors
        if not record.name.startswith("bot.storage")
        and not (record.name == "bot.clock.dispatcher" and "trying again" in record.getMessage())
    ]


def fill_at_first_token(stack: Stack, disk: FullDisk, monkeypatch: pytest.MonkeyPatch) -> None:
    """The next piece fills the disk as it starts writing, on the engine's thread: the disk
    fills up while a piece is being written, after its slot was taken."""
    prepare = stack.generation.prepare
    armed = threading.Event()
    armed.set()

    def prepare_and_arm(request: GenerationRequest) -> Job:
        job = prepare(request)
        stop = job.stop

        def filling(text: str) -> int | None:
            if armed.is_set():
                armed.clear()
                disk.fill()
            return None if stop is None else stop(text)

        job.stop = filling
        return job

    monkeypatch.setattr(stack.generation, "prepare", prepare_and_arm)


async def said(server, handle) -> str:
    await server.wait_for(lambda: handle.callback() is not None and bool(shown_to(handle)), 20)
    return shown_to(handle)


async def save_prompt(server, user: str):
    options = {"name": "moon", "text": "the moon", "form": "poem"}
    return await server.slash("prompts save", options, user=user)


async def test_a_full_disk_saves_nothing_and_says_so(
    tiny_gpt2_dir, tmp_path, fake_discord, monkeypatch
):
    server = fake_discord
    with tmpfs(tmp_path / "disk") as mounted:
        async with stack_on(mounted, tiny_gpt2_dir, server) as stack:
            path = stack.database.path
            disk = FullDisk(path)
            bot = stack.make_bot()
            async with run_client(
                bot, server, error_loggers=ERROR_LOGGERS, fail_on_error_logs=False
            ):
                await synced(bot)
                first = await server.slash("poem", {"topic": "tides"}, user="alice")
                piece = (await finished(first, server))[-1]
                piece_id = int(re.search(r"piece #(\d+)", piece.content).group(1))
                tables = ("generations", "favorites", "saved_prompts", "games")
                before = {t: rows(path, f"SELECT count(*) FROM {t}") for t in tables}

                fill_at_first_token(stack, disk, monkeypatch)
                poem = await server.slash("poem", {"topic": "full moon"}, user="bob")
                shown = (await finished(poem, server))[-1]
                assert os.statvfs(path).f_bavail == 0  # the disk did fill while it was written
                # The piece is still shown, marked as not saved and why, with no buttons.
                assert "Written by AI" in shown.content
                assert "I couldn't save this piece (Inkwell's storage is full)" in shown.content
                assert "piece #" not in shown.content and not shown.custom_ids()

                # Everything that writes says so, privately, while the disk stays full.
                star = await server.click(piece, f"inkwell:save:{piece_id}", user="bob")
                assert FULL in await said(server, star)
                assert FULL in await said(server, await save_prompt(server, "alice"))
                another = await server.slash("poem", {"topic": "ebb"}, user="alice")
                assert FULL in await said(server, another)
                game = await server.slash("poemgame start", {"lines": 3}, user="alice")
                assert FULL in await said(server, game)

                disk.free()
                for table, count in before.items():
                    assert rows(path, f"SELECT count(*) FROM {table}") == count, table
                sound(path)
                # Room again: the same actions save, and bob's slot was given back.
                assert FULL not in await said(server, await save_prompt(server, "alice"))
                assert await stack.database.prompts.count(server.user("alice").id) == 1
                star = await server.click(piece, f"inkwell:save:{piece_id}", user="bob")
                assert FULL not in await said(server, star)
                assert await stack.database.favorites.count(server.user("bob").id) == 1
                # The slot bob's unsaved piece held is given back once the disk has room.
                await server.wait_for(lambda: rows(path, SLOTS) == 0, 10)
                poem = await server.slash("poem", {"topic": "spring tide"}, user="bob")
                assert "piece #" in (await finished(poem, server))[-1].content
            assert unexpected(server) == []
            assert any("storage is full" in r.getMessage() for r in server.client_errors)


async def test_a_write_lock_held_past_busy_timeout_saves_nothing_and_says_so(stack):
    server = stack.server
    path = stack.database.path
    bot = stack.make_bot()
    async with run_client(bot, server, error_loggers=ERROR_LOGGERS, fail_on_error_logs=False):
        await synced(bot)
        release = threading.Event()
        holding = threading.Event()

        failed: list[BaseException] = []

        def other_program() -> None:
            try:
                other = sqlite3.connect(path, timeout=30, check_same_thread=False)
                try:
                    other.execute("BEGIN IMMEDIATE")
                    other.execute("INSERT INTO guild_allowed_channels VALUES (1, 2)")
                    holding.set()
                    release.wait(30)  # longer than the bot's 5 s busy_timeout
                finally:
                    other.rollback()
                    other.close()
            except BaseException as error:  # shown by the test, not lost in the thread
                failed.append(error)
                raise

        holder = threading.Thread(target=other_program)
        holder.start()
        try:
            assert holding.wait(30), failed
            prompt = await save_prompt(server, "bob")
            assert BUSY in await said(server, prompt)
            assert prompt.callback().json["type"] == 5  # acknowledged in time all the same
        finally:
            release.set()
            holder.join(10)
        assert await stack.database.prompts.count(server.user("bob").id) == 0
        sound(path)
        assert BUSY not in await said(server, await save_prompt(server, "bob"))
        assert await stack.database.prompts.count(server.user("bob").id) == 1
    assert unexpected(server) == []
