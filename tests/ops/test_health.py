"""``python -m bot health`` as Docker and systemd run it: a real process, its exit code and
its one line, against healthy and unhealthy installations."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.ops.heartbeat import RUNNING, STOPPED, Heartbeat, read_beat, write_beat
from bot.storage import upgrade
from bot.storage.migrate import discover

REPO = Path(__file__).resolve().parents[2]
LATEST = len(discover())


def write_config(tmp_path: Path, *, heartbeat: bool = True, stale_after: float = 30.0) -> Path:
    beat = tmp_path / "heartbeat.json" if heartbeat else ""
    config = tmp_path / "config.toml"
    config.write_text(
        f"[storage]\ndatabase = '{tmp_path / 'inkwell.db'}'\n"
        f"[health]\nheartbeat_file = '{beat}'\nheartbeat_interval = 0.5\n"
        f"stale_after = {stale_after}\n",
        encoding="utf-8",
    )
    return config


def health(config: Path, *args: str) -> tuple[int, str]:
    """Exit code and everything printed, as Docker's HEALTHCHECK would see them."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("INKWELL_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "health", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
    )
    return done.returncode, done.stdout + done.stderr


def one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    return lines[0]


def migrated(tmp_path: Path) -> Path:
    asyncio.run(upgrade(tmp_path / "inkwell.db"))
    return tmp_path / "inkwell.db"


def beat(tmp_path: Path, **fields: object) -> None:
    entry = {"pid": 123, "time": time.time(), "state": RUNNING, "discord": "connected", **fields}
    write_beat(tmp_path / "heartbeat.json", entry)


def test_healthy_with_a_migrated_database_and_a_fresh_connected_heartbeat(tmp_path):
    migrated(tmp_path)
    beat(tmp_path)
    code, output = health(write_config(tmp_path))
    assert code == 0, output
    line = one_line(output)
    assert line.startswith("healthy:") and f"schema version {LATEST}" in line
    assert "pid 123 connected" in line


def test_no_bot_checks_only_the_configuration_and_the_database(tmp_path):
    migrated(tmp_path)
    code, output = health(write_config(tmp_path), "--no-bot")
    assert code == 0, output
    assert "bot not checked" in one_line(output)


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        pytest.param(lambda tmp: None, "no database at", id="no database"),
        pytest.param(
            lambda tmp: (tmp / "inkwell.db").write_bytes(b""), "schema version 0", id="not migrated"
        ),
        pytest.param(
            lambda tmp: (tmp / "inkwell.db").write_bytes(b"not a database" * 100),
            "cannot be read",
            id="not a database",
        ),
    ],
)
def test_a_database_that_is_missing_unmigrated_or_broken_is_unhealthy(tmp_path, setup, reason):
    setup(tmp_path)
    code, output = health(write_config(tmp_path, heartbeat=False))
    assert code == 1, output
    line = one_line(output)
    assert line.startswith("unhealthy:") and reason in line
    # The check never creates the database it checks.
    if reason == "no database at":
        assert not (tmp_path / "inkwell.db").exists()


def test_a_database_from_newer_code_is_unhealthy(tmp_path):
    import sqlite3

    with sqlite3.connect(migrated(tmp_path)) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    code, output = health(write_config(tmp_path, heartbeat=False))
    assert code == 1 and "newer than this code" in one_line(output)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        pytest.param(None, "no heartbeat at", id="bot never started"),
        pytest.param({"time": time.time() - 120}, "s old (limit 30 s)", id="stale"),
        pytest.param({"state": STOPPED}, "stopped", id="stopped"),
        pytest.param({"discord": "connecting"}, "not connected to Discord", id="disconnected"),
        pytest.param({"time": "yesterday"}, "cannot be read", id="garbled"),
    ],
)
def test_a_missing_stale_stopped_or_disconnected_heartbeat_is_unhealthy(tmp_path, fields, reason):
    migrated(tmp_path)
    if fields is not None:
        beat(tmp_path, **fields)
    code, output = health(write_config(tmp_path))
    assert code == 1, output
    line = one_line(output)
    assert line.startswith("unhealthy:") and reason in line, line


def test_a_bad_configuration_exits_2_naming_the_key(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[health]\nstale_after = 0.5\nheartbeat_interval = 1.0\n")
    code, output = health(config)
    assert code == 2 and "health.stale_after" in one_line(output)


async def test_the_heartbeat_beats_on_the_loop_and_its_last_beat_says_stopped(tmp_path):
    path = tmp_path / "beat" / "heartbeat.json"
    heartbeat = Heartbeat(path, 0.05, lambda: {"discord": "connected", "waiting": 2})
    heartbeat.start()
    await asyncio.sleep(0.01)
    first = read_beat(path)
    assert first["state"] == RUNNING and first["waiting"] == 2 and first["pid"] == os.getpid()
    await asyncio.sleep(0.2)
    assert read_beat(path)["time"] > first["time"]
    await heartbeat.close()
    assert read_beat(path)["state"] == STOPPED
    # Written whole each time: no temporary files are left beside it.
    assert [p.name for p in path.parent.iterdir()] == ["heartbeat.json"]
    json.loads(path.read_text())
