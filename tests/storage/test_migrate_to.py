"""`python -m bot db migrate-to`: an SQLite database copied into PostgreSQL for real."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.storage import Database
from tests.storage.factories import TickingClock, add_piece
from tests.storage.postgres_server import PostgresServer

pytestmark = pytest.mark.postgresql_only


async def _fill(path: Path) -> dict[str, int]:
    db = await Database.open(path, clock=TickingClock())
    try:
        parent = await add_piece(db, user_id=1)
        child = await add_piece(db, user_id=2, parent_id=parent.id, prompt_author_id=1)
        gone = await db.favorites.add(2, parent.id)
        await db.favorites.remove(2, gone.favorite.id)  # its id must never come back
        kept = await db.favorites.add(2, child.id)
        await db.prompts.save(1, "Mine", "text", "poem", {"k": "v"})
        await db.guild_settings.update(900, temperature=0.7)
        await db.guild_settings.allow_channel(900, 2**62)
        await db.guild_settings.add_blocked_word(900, "kraken", limit=10)
        await db.timers.schedule("daily", "900", 1_700_000_000.5, {"x": 1})
        return {"parent": parent.id, "child": child.id, "gone": gone.favorite.id,
                "kept": kept.favorite.id}  # fmt: skip
    finally:
        await db.close()


def _config(tmp_path: Path, source: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f"[storage]\ndatabase = '{source}'\n")
    return config


def test_copies_everything_keeps_ids_and_never_reuses_one(
    tmp_path: Path, postgres: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "inkwell.db"
    ids = asyncio.run(_fill(source))
    url = asyncio.run(postgres.create_database())
    config = _config(tmp_path, source)

    assert main(["--config", str(config), "db", "migrate-to", url]) == 0
    out = capsys.readouterr().out
    assert "generations" in out and "All 24 tables match" in out

    async def check() -> None:
        db = await Database.open(url, clock=TickingClock())
        try:
            child = await db.generations.get(ids["child"])
            assert child is not None and child.parent_id == ids["parent"]
            assert child.prompt_author_id == 1
            favorite = await db.favorites.get(2, ids["kept"])
            assert favorite is not None and favorite.piece.id == ids["child"]
            again = await db.favorites.add(2, ids["parent"])
            assert again.favorite.id > max(ids["gone"], ids["kept"])
            assert (await db.prompts.get(1, "mine")).options == {"k": "v"}  # type: ignore[union-attr]
            settings = db.guild_settings.cached(900)
            assert settings.temperature == 0.7 and settings.allowed_channel_ids == {2**62}
            assert settings.blocked_words == {"kraken"}
            timer = await db.timers.get("daily", "900")
            assert timer is not None and timer.due_at == 1_700_000_000.5
            piece = await add_piece(db, user_id=3)
            assert piece.id > ids["child"]
        finally:
            await db.close()

    asyncio.run(check())

    # A second copy would mix two databases: refused unless told, then replaced.
    assert main(["--config", str(config), "db", "migrate-to", url]) == 1
    assert "already holds Inkwell data" in capsys.readouterr().err
    assert main(["--config", str(config), "db", "migrate-to", url, "--replace"]) == 0
    assert "All 24 tables match" in capsys.readouterr().out
    asyncio.run(postgres.drop_database(url))


def test_an_outdated_source_or_a_file_url_is_refused(
    tmp_path: Path, postgres: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, tmp_path / "missing.db")
    url = asyncio.run(postgres.create_database())
    assert main(["--config", str(config), "db", "migrate-to", url]) == 1
    assert "no SQLite database" in capsys.readouterr().err
    assert main(["--config", str(config), "db", "migrate-to", "data/other.db"]) == 2
    asyncio.run(postgres.drop_database(url))
