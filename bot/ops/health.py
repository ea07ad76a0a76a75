"""``python -m bot health``: is this Inkwell healthy? One line of answer, and an exit code
for Docker's HEALTHCHECK and systemd.

Checked in order, stopping at the first failure:
1. the configuration loads (``bot.__main__`` does this before anything else);
2. the database opens, read-only, and is at the schema version this code expects (a
   database not yet migrated, or migrated by newer code, is unhealthy);
3. unless the heartbeat is off (``health.heartbeat_file = ""``) or skipped (``--no-bot``):
   the running bot's heartbeat exists, is younger than ``health.stale_after``, says the bot
   is running and connected to Discord.
Nothing here writes: a health check must never create the database it is checking.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from bot.ops.heartbeat import RUNNING, read_beat
from bot.storage.migrate import discover

DATABASE_TIMEOUT = 5.0


class Unhealthy(Exception):
    """One check failed; the message says which and why, in one line."""


@dataclass(frozen=True)
class Report:
    """What the checks found when all passed."""

    schema_version: int
    heartbeat: str  # "pid 12 connected, beat 3 s ago", or why it was not checked


def check(settings: Settings, *, bot: bool = True, now: float | None = None) -> Report:
    """Run the checks; raises ``Unhealthy`` with the first failure."""
    version = _check_database(settings)
    if not bot:
        heartbeat = "bot not checked (--no-bot)"
    elif not settings.health.heartbeat_file:
        heartbeat = "bot not checked (health.heartbeat_file is off)"
    else:
        heartbeat = _check_heartbeat(settings, time.time() if now is None else now)
    return Report(schema_version=version, heartbeat=heartbeat)


def _check_database(settings: Settings) -> int:
    dialect = "postgresql" if settings.storage.url else "sqlite"
    expected = len(discover(None, dialect))
    if settings.storage.url:
        version = asyncio.run(_postgres_version(settings.storage.url))
        where = "the PostgreSQL database"
    else:
        version = _sqlite_version(Path(settings.storage.database))
        where = settings.storage.database
    if version < expected:
        raise Unhealthy(
            f"{where} is at schema version {version}, this code needs {expected}: "
            "the bot upgrades it at start, or run `python -m bot db upgrade`"
        )
    if version > expected:
        raise Unhealthy(
            f"{where} is at schema version {version}, newer than this code ({expected}): "
            "run the newer Inkwell"
        )
    return version


def _sqlite_version(path: Path) -> int:
    if not path.is_file():
        raise Unhealthy(f"no database at {path} (the bot creates it at start)")
    try:
        # mode=ro: never create or change the file; a busy writer is waited for briefly.
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with sqlite3.connect(uri, uri=True, timeout=DATABASE_TIMEOUT) as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error as error:
        raise Unhealthy(f"the database {path} cannot be read: {error}") from None


async def _postgres_version(url: str) -> int:
    import asyncpg

    from bot.storage.migrate_postgres import schema_version
    from bot.storage.postgres import redact

    try:
        conn = await asyncpg.connect(url, timeout=DATABASE_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        raise Unhealthy(f"cannot connect to {redact(url)}: {error}") from None
    try:
        return await schema_version(conn)
    finally:
        await conn.close()


def _check_heartbeat(settings: Settings, now: float) -> str:
    path = Path(settings.health.heartbeat_file)
    try:
        beat = read_beat(path)
    except FileNotFoundError:
        raise Unhealthy(f"no heartbeat at {path}: the bot is not running (yet)") from None
    except (OSError, ValueError) as error:
        raise Unhealthy(f"the heartbeat {path} cannot be read: {error}") from None
    age = now - float(beat["time"])
    pid = beat.get("pid", "?")
    if beat.get("state") != RUNNING:
        raise Unhealthy(f"the bot (pid {pid}) stopped {age:.0f} s ago")
    if age > settings.health.stale_after:
        raise Unhealthy(
            f"the heartbeat is {age:.0f} s old (limit {settings.health.stale_after:g} s): "
            f"the bot (pid {pid}) is stuck or gone"
        )
    if beat.get("discord") != "connected":
        raise Unhealthy(f"the bot (pid {pid}) is not connected to Discord: {beat.get('discord')}")
    line = f"bot pid {pid} connected, beat {max(age, 0):.0f} s ago"
    # Still healthy (it serves everything else, and a restart would not fix the files), but
    # said, so a monitor reading the line sees it: see `python -m bot reload-model`.
    if beat.get("model_state") == "resting":
        line += f"; the writer rests: {beat.get('model_reason')}"
    return line
