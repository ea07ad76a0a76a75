"""Migrations: order, atomicity, version bookkeeping, and refusing newer databases."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bot.storage import Database, StorageError, upgrade
from bot.storage.migrate import MIGRATIONS_DIR, discover, split_statements
from tests.storage.factories import new_generation

LATEST = len(discover())


def tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}


def user_version(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def copy_migrations(tmp_path: Path, extra: dict[str, str]) -> Path:
    """The real migrations plus `extra` files, in a scratch folder."""
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, folder)
    for name, sql in extra.items():
        (folder / name).write_text(sql, encoding="utf-8")
    return folder


def test_migrations_folder_is_found_from_the_package() -> None:
    migrations = discover()
    assert migrations, "no migration files shipped"
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert migrations[0].path.name == "0001_initial.sql"


async def test_upgrade_creates_and_records_version(db_path: Path) -> None:
    assert await upgrade(db_path) == (0, LATEST)
    assert user_version(db_path) == LATEST
    assert {"generations", "favorites", "saved_prompts", "guild_settings"} <= tables(db_path)


async def test_reopening_is_a_no_op(db_path: Path) -> None:
    await upgrade(db_path)
    assert await upgrade(db_path) == (LATEST, LATEST)
    db = await Database.open(db_path)
    assert await db.schema_version() == LATEST
    await db.close()


async def test_upgrading_a_version_1_database_keeps_its_data(db_path: Path, tmp_path: Path) -> None:
    """A file written by the first release, with data in every table, upgraded to now."""
    first_release = tmp_path / "v1"
    first_release.mkdir()
    shutil.copy(MIGRATIONS_DIR / "0001_initial.sql", first_release)
    assert await upgrade(db_path, migrations_dir=first_release) == (0, 1)
    at = "2024-05-01T12:00:00.000000+00:00"
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute("PRAGMA foreign_keys = ON")
        for piece_id, user_id, parent_id in [(1, 111, None), (2, 222, 1)]:
            conn.execute(
                "INSERT INTO generations (id, user_id, user_name, guild_id, channel_id, form,"
                " poem_form, genre, prompt, params, seed, model, text, parent_id, created_at)"
                " VALUES (?, ?, 'Ada', 900, 901, 'poem', 'haiku', NULL, 'autumn rain',"
                " '{\"temperature\": 0.8}', 7, 'tiny', 'rain on the roof', ?, ?)",
                (piece_id, user_id, parent_id, at),
            )
        conn.execute(
            "INSERT INTO favorites (user_id, generation_id, created_at) VALUES (222, 1, ?)", (at,)
        )
        conn.execute(
            "INSERT INTO saved_prompts (user_id, name, name_key, text, form, options,"
            " created_at, updated_at) VALUES (111, 'Sea', 'sea', 'the sea', 'poem', '{}', ?, ?)",
            (at, at),
        )
        conn.execute(
            "INSERT INTO guild_settings (guild_id, temperature, updated_at) VALUES (900, 0.5, ?)",
            (at,),
        )
        conn.execute("INSERT INTO guild_allowed_channels VALUES (900, 901)")

    async with await Database.open(db_path) as db:
        assert await db.schema_version() == LATEST
        assert await db.integrity_check() == "ok"
        old = await db.generations.get(1)
        child = await db.generations.get(2)
        assert old is not None and child is not None
        assert (old.prompt, old.text, old.params["temperature"]) == (
            "autumn rain",
            "rain on the roof",
            0.8,
        )
        assert (old.prompt_author_id, old.prompt_redacted) == (None, False)
        assert child.parent_id == 1
        assert await db.favorites.stars(1) == 1
        assert (await db.prompts.get(111, "sea")) is not None
        settings = db.guild_settings.cached(900)
        assert settings.temperature == 0.5 and settings.allowed_channel_ids == {901}
        # The new parts work on the old data: the timers table, and erasing a prompt's author.
        assert await db.timers.schedule("turn", "g", 1.0, {}) is not None
        quoting = await db.generations.add(
            new_generation(user_id=222, prompt="autumn rain", parent_id=1, prompt_author_id=111)
        )
        counts = await db.users.delete_all(111)
        assert (counts.generations, counts.redacted_prompts) == (1, 1)
        kept = await db.generations.get(quoting.id)
        assert kept is not None and kept.prompt == "" and kept.prompt_redacted
        assert (await db.generations.get(2)).parent_id is None  # type: ignore[union-attr]


async def test_migrations_apply_in_order(db_path: Path, tmp_path: Path) -> None:
    # 0003 depends on 0002's table, so running out of order would fail.
    folder = copy_migrations(
        tmp_path,
        {
            f"{LATEST + 1:04d}_add_notes.sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY);",
            f"{LATEST + 2:04d}_note_body.sql": "ALTER TABLE notes ADD COLUMN body TEXT;",
        },
    )
    await upgrade(db_path)
    assert await upgrade(db_path, migrations_dir=folder) == (LATEST, LATEST + 2)
    with closing(sqlite3.connect(db_path)) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(notes)")]
    assert columns == ["id", "body"]


async def test_failing_migration_leaves_previous_version(db_path: Path, tmp_path: Path) -> None:
    broken = f"{LATEST + 1:04d}_broken.sql"
    folder = copy_migrations(
        tmp_path,
        {broken: "CREATE TABLE half_done (x);\nINSERT INTO no_such_table VALUES (1);\n"},
    )
    await upgrade(db_path)
    with pytest.raises(StorageError) as caught:
        await Database.open(db_path, migrations_dir=folder)
    assert broken in str(caught.value)
    assert f"version {LATEST}" in caught.value.user_message
    assert user_version(db_path) == LATEST
    assert "half_done" not in tables(db_path)
    # And the real code still opens it fine afterwards.
    db = await Database.open(db_path)
    assert await db.integrity_check() == "ok"
    await db.close()


async def test_a_failing_migration_in_one_run_keeps_the_ones_before_it(
    db_path: Path, tmp_path: Path
) -> None:
    # One run (one write lock) applies every pending file; each is still its own unit.
    folder = copy_migrations(tmp_path, {f"{LATEST + 1:04d}_broken.sql": "SELECT * FROM nowhere;"})
    with pytest.raises(StorageError) as caught:
        await upgrade(db_path, migrations_dir=folder)
    assert f"left unchanged at schema version {LATEST}" in caught.value.user_message
    assert user_version(db_path) == LATEST
    assert {"generations", "timers"} <= tables(db_path)


async def test_failure_in_first_migration_leaves_empty_database(
    db_path: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "0001_bad.sql").write_text("CREATE TABLE a (x); CREATE TABLE a (x);")
    with pytest.raises(StorageError):
        await upgrade(db_path, migrations_dir=folder)
    assert user_version(db_path) == 0
    assert tables(db_path) == set()


async def test_migration_may_not_commit_by_itself(db_path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "0001_sneaky.sql").write_text("CREATE TABLE a (x); COMMIT; CREATE TABLE b (x);")
    with pytest.raises(StorageError, match="must not contain BEGIN/COMMIT"):
        await upgrade(db_path, migrations_dir=folder)
    assert user_version(db_path) == 0


async def test_migration_leaving_broken_references_is_refused(
    db_path: Path, tmp_path: Path
) -> None:
    folder = copy_migrations(
        tmp_path,
        {
            f"{LATEST + 1:04d}_dangling.sql": (
                "INSERT INTO favorites (user_id, generation_id, created_at)"
                " VALUES (1, 999, '2024-01-01T00:00:00+00:00');"
            )
        },
    )
    await upgrade(db_path)
    with pytest.raises(StorageError, match="broken reference"):
        await upgrade(db_path, migrations_dir=folder)
    assert user_version(db_path) == LATEST


async def test_newer_database_is_refused(db_path: Path) -> None:
    await upgrade(db_path)
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST + 5}")
    with pytest.raises(StorageError) as caught:
        await Database.open(db_path)
    message = caught.value.user_message
    assert str(LATEST + 5) in message
    assert str(LATEST) in message
    assert "upgrade Inkwell" in message
    with pytest.raises(StorageError):
        await upgrade(db_path)
    assert user_version(db_path) == LATEST + 5


@pytest.fixture
def garbage_file(db_path: Path) -> Path:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is a text file, not SQLite" * 100)
    return db_path


async def test_file_that_is_not_a_database(garbage_file: Path) -> None:
    with pytest.raises(StorageError, match="not an Inkwell database"):
        await Database.open(garbage_file)


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["0001_a.sql", "0003_c.sql"], "expected 0002"),
        (["0001_a.sql", "0001_b.sql", "0002_c.sql"], "repeats version 0001"),
        (["0002_a.sql"], "expected 0001"),
        (["0001_a.sql", "2_b.sql"], "must be named like"),
        (["0001_Has Space.sql"], "must be named like"),
    ],
)
def test_badly_numbered_migrations_are_refused(
    tmp_path: Path, names: list[str], message: str
) -> None:
    for name in names:
        (tmp_path / name).write_text("SELECT 1;")
    with pytest.raises(StorageError, match=message):
        discover(tmp_path)


def test_other_files_in_the_folder_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "README.md").write_text("notes")
    assert [m.name for m in discover(tmp_path)] == ["a"]


def test_split_respects_strings_comments_and_triggers() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE t (x TEXT DEFAULT 'a;b');
    /* block; comment */ INSERT INTO t VALUES ('it''s; fine');
    CREATE TRIGGER tr AFTER INSERT ON t BEGIN
        UPDATE t SET x = 'y;z' WHERE rowid = new.rowid;
        SELECT 1;
    END;
    SELECT 2
    """
    statements = split_statements(script)
    assert len(statements) == 4
    assert statements[1].endswith("VALUES ('it''s; fine');")
    assert statements[2].startswith("CREATE TRIGGER") and statements[2].endswith("END;")
    assert statements[3] == "SELECT 2;"
    # Every piece is something SQLite can run on its own.
    with closing(sqlite3.connect(":memory:")) as conn:
        for statement in statements:
            conn.execute(statement)
        conn.execute("INSERT INTO t VALUES ('fires the trigger')")
        rows = conn.execute("SELECT x FROM t ORDER BY rowid").fetchall()
    assert rows == [("it's; fine",), ("y;z",)]


def test_split_rejects_an_unterminated_statement() -> None:
    with pytest.raises(StorageError, match="incomplete"):
        split_statements("CREATE TABLE t (x TEXT DEFAULT 'oops);", "0009_x.sql")


@pytest.mark.sqlite_only  # SQLite's pragmas
async def test_connection_settings(db: Database) -> None:
    """WAL + synchronous=FULL + foreign keys + 5 s busy timeout (see executor.connect)."""
    conn = db._executor.connection
    expected = {
        "journal_mode": "wal",
        "synchronous": 2,  # FULL
        "foreign_keys": 1,
        "busy_timeout": 5000,
    }
    for name, value in expected.items():
        async with conn.execute(f"PRAGMA {name}") as cursor:
            row = await cursor.fetchone()
        assert row is not None and row[0] == value, name


async def test_path_that_cannot_be_a_database(tmp_path: Path) -> None:
    folder = tmp_path / "a_folder.db"
    folder.mkdir()
    with pytest.raises(StorageError, match="couldn't open the database file"):
        await Database.open(folder)


async def test_timers_set_before_version_5_learn_their_guild(db_path: Path, tmp_path: Path) -> None:
    """So that after the upgrade each is fired by the process holding its guild's shard."""
    before = tmp_path / "v4"
    before.mkdir()
    for migration in sorted(MIGRATIONS_DIR.glob("000[1-4]_*.sql")):
        if not migration.name.endswith(".postgresql.sql"):
            shutil.copy(migration, before)
    assert await upgrade(db_path, migrations_dir=before) == (0, 4)
    at = "2024-05-01T12:00:00.000000+00:00"
    with closing(sqlite3.connect(db_path)) as conn, conn:
        game_id = conn.execute(
            "INSERT INTO games (guild_id, channel_id, host_id, mode, form, status, state,"
            " created_at, updated_at) VALUES (900, 901, 111, 'turns', 'free', 'running', '{}',"
            " ?, ?)",
            (at, at),
        ).lastrowid
        sprint_id = conn.execute(
            "INSERT INTO sprints (guild_id, channel_id, starter_id, status, minutes, starts_at,"
            " ends_at, created_at) VALUES (800, 801, 111, 'waiting', 5, 10.0, 310.0, ?)",
            (at,),
        ).lastrowid
    at = "2024-05-01T12:00:00.000000+00:00"
    with closing(sqlite3.connect(db_path)) as conn, conn:
        for kind, key in [
            ("daily.post", "700"),
            ("game.deadline", f"{game_id}:3"),
            ("sprint.end", str(sprint_id)),
            ("game.sweep", "all"),
        ]:
            conn.execute(
                "INSERT INTO timers (kind, key, due_at, payload, created_at)"
                " VALUES (?, ?, 5.0, '{}', ?)",
                (kind, key, at),
            )
    async with await Database.open(db_path) as upgraded:
        guilds = {t.kind: t.guild_id for t in await upgraded.timers.due(6.0, 10)}
    assert guilds == {
        "daily.post": 700,
        "game.deadline": 900,
        "sprint.end": 800,
        "game.sweep": None,
    }
