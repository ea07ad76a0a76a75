"""`python -m bot db backup PATH`: an online SQLite backup, checked before it is kept."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.storage import Database
from bot.storage.backup import BackupFailed, backup_sqlite
from tests.storage.factories import TickingClock, add_piece

pytestmark = pytest.mark.sqlite_only


def _config(tmp_path: Path, source: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f"[storage]\ndatabase = '{source}'\n")
    return config


def _count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


async def test_a_backup_taken_while_the_bot_writes_is_whole_and_opens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "inkwell.db"
    target = tmp_path / "backups" / "inkwell-backup.db"
    target.parent.mkdir()
    db = await Database.open(source, clock=TickingClock())
    try:
        for user in range(40):
            await add_piece(db, user_id=user)
        writing = True

        async def keep_writing() -> int:
            written = 0
            while writing:
                await add_piece(db, user_id=1000 + written)
                written += 1
            return written

        writer = asyncio.create_task(keep_writing())
        await asyncio.sleep(0.05)
        config = _config(tmp_path, source)
        code = await asyncio.to_thread(main, ["--config", str(config), "db", "backup", str(target)])
        writing = False
        written = await writer
    finally:
        await db.close()

    assert code == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "integrity check ok" in out and str(target) in out
    assert written > 0  # the bot kept writing during the backup
    backed_up = _count(target, "generations")
    assert 40 <= backed_up <= 40 + written
    # One self-contained file: nothing left beside it, and no temporary copy.
    assert sorted(path.name for path in target.parent.iterdir()) == [target.name]
    copy = await Database.open(target, clock=TickingClock())
    try:
        assert (await copy.generations.get(1)) is not None
    finally:
        await copy.close()


async def _fill(path: Path, pieces: int) -> None:
    db = await Database.open(path, clock=TickingClock())
    try:
        for user in range(pieces):
            await add_piece(db, user_id=user, text="words " * 200)
    finally:
        await db.close()


def test_a_copy_that_fails_its_check_never_replaces_a_good_backup(tmp_path: Path) -> None:
    source = tmp_path / "inkwell.db"
    asyncio.run(_fill(source, 300))
    target = tmp_path / "backup.db"
    good = backup_sqlite(source, target)
    assert good.rows["generations"] == 300

    damaged = tmp_path / "damaged.db"
    data = bytearray(source.read_bytes())
    page = 4096
    for offset in range(page * 3, len(data) - page, page * 7):  # scribble on some pages
        data[offset + 8 : offset + 200] = b"\xff" * 192
    damaged.write_bytes(bytes(data))
    with pytest.raises(BackupFailed, match="Nothing was written"):
        backup_sqlite(damaged, target)
    assert _count(target, "generations") == 300  # the good backup is untouched
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(".")) == []


def test_kind_errors_for_a_missing_folder_the_database_itself_or_postgres(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "inkwell.db"
    asyncio.run(_fill(source, 0))
    config = _config(tmp_path, source)
    missing = tmp_path / "nowhere" / "backup.db"
    assert main(["--config", str(config), "db", "backup", str(missing)]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert not missing.parent.exists()
    assert main(["--config", str(config), "db", "backup", str(source)]) == 1
    assert "another file" in capsys.readouterr().err
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    assert (
        main(
            ["--config", str(config), "db", "backup", "--from", str(empty), str(tmp_path / "b2.db")]
        )
        == 1
    )
    assert "not an Inkwell database" in capsys.readouterr().err
    assert main(["--config", str(config), "db", "backup", str(tmp_path)]) == 1
    assert "is a folder" in capsys.readouterr().err
    postgres = tmp_path / "pg.toml"
    postgres.write_text("[storage]\nurl = 'postgresql://inkwell@localhost/inkwell'\n")
    assert main(["--config", str(postgres), "db", "backup", str(tmp_path / "b.db")]) == 2
    assert "pg_dump" in capsys.readouterr().err
