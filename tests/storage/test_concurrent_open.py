"""Several processes opening one new database at once (the bot and `db upgrade` runs):
nobody fails with "database is locked", and exactly one of them migrates the file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from bot.storage import Database
from bot.storage.migrate import discover

REPO_ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 6
ROUNDS = 8
LATEST = len(discover())


def start_racers(path: Path) -> list[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return [
        subprocess.Popen(
            [sys.executable, "-m", "tests.storage.open_racer", str(path), mode],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mode in ("upgrade", "open") * (PROCESSES // 2)
    ]


def race(path: Path) -> list[tuple[int, int]]:
    """Start the racers, let them all go at once, and return what each reported."""
    racers = start_racers(path)
    try:
        for racer in racers:  # every one imported and waiting
            assert racer.stdout is not None and racer.stdout.readline() == "ready\n"
        for racer in racers:
            assert racer.stdin is not None
            racer.stdin.write("go\n")
            racer.stdin.flush()
        results = [(*racer.communicate(timeout=30), racer.returncode) for racer in racers]
    finally:
        for racer in racers:
            if racer.poll() is None:
                racer.kill()
    for _, err, code in results:
        assert code == 0, err
    return [(int(out.split()[0]), int(out.split()[1])) for out, _, _ in results]


def test_processes_racing_on_a_new_file_migrate_it_exactly_once(tmp_path):
    for round_number in range(ROUNDS):
        reports = race(tmp_path / f"race-{round_number}.db")
        # One process upgraded the new file all the way; every other one found it done (a
        # migration run twice would also have failed its CREATE TABLE: every exit code was 0).
        assert sorted(reports) == sorted([(0, LATEST)] + [(LATEST, LATEST)] * (PROCESSES - 1))


async def test_opening_waits_while_another_program_writes_to_the_new_file(tmp_path):
    """Switching a new file to WAL fails at once, without waiting on busy_timeout, while
    another connection holds its write lock (what a racing process does while it creates
    the file). Opening must wait for the lock instead of failing with "database is locked"."""
    path = tmp_path / "new.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.5, other.execute, ("COMMIT",))
        release.start()
        started = time.monotonic()
        async with await Database.open(path) as database:
            waited = time.monotonic() - started
            assert await database.schema_version() == LATEST
        release.join()
    finally:
        other.close()
    assert waited >= 0.4
