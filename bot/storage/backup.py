"""`python -m bot db backup PATH`: an online copy of the SQLite database, checked before kept.

SQLite's backup API copies a consistent snapshot page by page while the bot keeps running
(WAL readers and writers carry on). The copy is written beside the target under a temporary
name, passes ``PRAGMA integrity_check``, and only then replaces the target, so a failed or
interrupted backup never leaves a half-written file where a good one is expected.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.errors import InkwellError


@dataclass(frozen=True)
class Backup:
    """What a backup wrote: where, its size, its schema version and its tables' row counts."""

    path: Path
    bytes: int
    schema_version: int
    rows: dict[str, int]


class BackupFailed(InkwellError):
    """The backup could not be made; nothing was left at the target."""


def backup_sqlite(source: Path, target: Path) -> Backup:
    """Copy ``source`` to ``target`` while others use it; raises ``BackupFailed``."""
    if not source.is_file():
        raise BackupFailed(f"There is no database at {source} to back up.")
    if target.exists() and target.resolve() == source.resolve():
        raise BackupFailed("The backup must go to another file than the database itself.")
    if not target.parent.is_dir():
        raise BackupFailed(f"The folder {target.parent} does not exist.")
    if target.is_dir():
        raise BackupFailed(f"{target} is a folder; name the backup file inside it.")
    partial: Path | None = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(handle)
        partial = Path(temporary)
        _copy(source, partial)
        backup = _checked(partial, target)
        os.replace(partial, target)
        _sync_folder(target.parent)
        return backup
    except (sqlite3.Error, OSError) as error:
        message = f"The backup failed: {error}. Nothing was written to {target}."
        raise BackupFailed(message) from error
    finally:
        if partial is not None:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()


def _sync_folder(folder: Path) -> None:
    # The rename is durable only once the folder's entry is on disk.
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _copy(source: Path, partial: Path) -> None:
    # Read-only: a backup must never create, migrate or lock the bot's database for writing.
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        writer = sqlite3.connect(partial)
        try:
            # One step: in WAL mode the reader never blocks the bot's writers, while a copy in
            # small steps restarts whenever they write and may never finish on a busy bot.
            reader.backup(writer)
            # The copy is one self-contained file: no -wal beside it to lose.
            writer.execute("PRAGMA journal_mode=DELETE")
            writer.commit()
        finally:
            writer.close()
    finally:
        reader.close()
    with open(partial, "rb") as copied:
        os.fsync(copied.fileno())


def _checked(partial: Path, target: Path) -> Backup:
    connection = sqlite3.connect(f"{partial.resolve().as_uri()}?mode=ro", uri=True)
    try:
        verdict = [row[0] for row in connection.execute("PRAGMA integrity_check(3)")]
        if verdict != ["ok"]:
            found = " ".join("; ".join(verdict).split())[:300]
            raise BackupFailed(
                f"The copy failed its integrity check ({found}). Nothing was written to {target}."
            )
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            raise BackupFailed(
                f"The database is not an Inkwell database (it has no schema version). "
                f"Nothing was written to {target}."
            )
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        rows = {
            name: connection.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]
            for name in tables
        }
    finally:
        connection.close()
    return Backup(path=target, bytes=partial.stat().st_size, schema_version=version, rows=rows)
