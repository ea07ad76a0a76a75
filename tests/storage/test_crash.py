"""SIGKILL a writer mid-run: every acknowledged commit must survive, intact."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.storage import Database

REPO_ROOT = Path(__file__).resolve().parents[2]
ACKS_BEFORE_KILL = 40
TIMEOUT_S = 15.0
NEWLINE = b"\n"

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def start_writer(db_path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.storage.crash_writer", str(db_path)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def read_acks_then_kill(proc: subprocess.Popen[bytes], wanted: int) -> list[tuple[int, ...]]:
    """Collect acknowledgement lines; SIGKILL after `wanted`; keep what was already sent."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buffer = b""
    deadline = time.monotonic() + TIMEOUT_S
    killed = False
    while True:
        if not killed and buffer.count(NEWLINE) >= wanted:
            os.kill(proc.pid, signal.SIGKILL)
            killed = True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            proc.kill()
            pytest.fail(f"writer too slow; got {buffer.count(NEWLINE)} acks")
        ready, _, _ = select.select([fd], [], [], remaining)
        chunk = os.read(fd, 65536) if ready else b""
        if ready and not chunk:  # EOF: the writer is gone
            break
        buffer += chunk
    proc.wait(timeout=5)
    assert killed, f"writer exited by itself: {proc.stderr.read().decode()}"  # type: ignore[union-attr]
    assert proc.returncode == -signal.SIGKILL
    # A line without its newline was cut off mid-write: not an acknowledgement.
    lines = buffer.split(NEWLINE)[:-1]
    return [tuple(int(part) for part in line.split()) for line in lines]


async def test_acknowledged_commits_survive_sigkill(tmp_path: Path) -> None:
    db_path = tmp_path / "crash.db"
    with start_writer(db_path) as proc:  # closes the pipes afterwards
        acks = read_acks_then_kill(proc, ACKS_BEFORE_KILL)
    assert len(acks) >= ACKS_BEFORE_KILL
    assert [ack[0] for ack in acks] == list(range(1, len(acks) + 1))

    db = await Database.open(db_path)
    try:
        assert await db.integrity_check() == "ok"
        for user, generation_id, favorite_id, prompt_id in acks:
            piece = await db.generations.get(generation_id)
            assert piece is not None and piece.user_id == user
            favorite = await db.favorites.get(user, favorite_id)
            assert favorite is not None and favorite.piece.id == generation_id
            prompt = await db.prompts.get(user, f"prompt {user}")
            assert prompt is not None and prompt.id == prompt_id
        # Atomicity: a transaction cut off by the kill left nothing behind, so every
        # stored piece has exactly its favourite and its prompt.
        survivors = acks[-1][0] + 1  # at most one commit after the last ack we read
        users = range(1, survivors + 1)
        stored = [await db.generations.count_for_user(u) for u in users]
        favorites = [await db.favorites.count(u) for u in users]
        prompts = [await db.prompts.count(u) for u in users]
        assert stored == favorites == prompts
        assert sum(stored) in (len(acks), len(acks) + 1)
    finally:
        await db.close()
