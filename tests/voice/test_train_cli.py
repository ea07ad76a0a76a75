"""`python -m bot train` for real: from a guild's texts (only consenting authors reach the
corpus file) and from a file, on a tiny GPT-2 named in the config as users name models."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.storage import Database
from tests.storage.factories import add_piece

GUILD = 900
ALICE, BOB = 1, 2
POEMS = [f"the harbour lamp {n} burns over the water, and the boats come home" for n in range(12)]


@pytest.fixture(autouse=True)
def root_logger_kept() -> Iterator[None]:
    """`python -m bot train`, run in-process, configures logging: put the root logger back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def config(tmp_path: Path, model: Path) -> Path:
    path = tmp_path / "inkwell.toml"
    path.write_text(
        f'[model]\nname = "{model}"\ncache_dir = "{tmp_path / "cache"}"\n'
        f'[storage]\ndatabase = "{tmp_path / "inkwell.db"}"\n'
        f'[voice]\nadapters_dir = "{tmp_path / "voices"}"\n'
    )
    return path


async def seed_guild(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "inkwell.db") as db:
        await db.voices.set_consent(ALICE, True)
        for n, text in enumerate(POEMS):
            piece = await add_piece(db, user_id=ALICE, guild_id=GUILD, text=text)
            await db.favorites.add(BOB, piece.id)
            if n < 3:
                secret = await add_piece(db, user_id=BOB, guild_id=GUILD, text=f"bob's secret {n}")
                await db.favorites.add(ALICE, secret.id)


def test_a_guild_corpus_holds_only_consenting_authors(tiny_gpt2_dir, tmp_path, capsys):
    asyncio.run(seed_guild(tmp_path))
    code = main(
        [
            "--config",
            str(config(tmp_path, tiny_gpt2_dir)),
            "train",
            "--guild",
            str(GUILD),
            "--source",
            "favorites",
            "--out",
            "harbour",
            "--dry-run",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "12 pieces by 1 consenting author; 3 left out" in out
    lines = (tmp_path / "voices" / "harbour" / "corpus.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 12 and all(r["authors"] == [ALICE] for r in records)
    assert not any("secret" in r["text"] for r in records)


def test_training_a_guild_voice_saves_the_adapter_its_card_and_its_record(
    tiny_gpt2_dir, tmp_path, capsys
):
    asyncio.run(seed_guild(tmp_path))
    code = main(
        [
            "--config",
            str(config(tmp_path, tiny_gpt2_dir)),
            "train",
            "--guild",
            str(GUILD),
            "--out",
            "harbour",
            "--max-steps",
            "8",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    folder = tmp_path / "voices" / "harbour"
    card = json.loads((folder / "card.json").read_text())
    assert card["authors"] == 1 and card["pieces"] == 12 and card["steps"] == 8
    assert card["perplexity_after"] < card["perplexity_before"]
    assert len(card["samples_before"]) == len(card["samples_after"]) == 3
    assert "Built from 1 author as of" in out and "sample 3, after" in out
    assert (folder / "adapter_model.safetensors").exists()
    # The corpus names who wrote what; it goes once the adapter is trained.
    assert not (folder / "corpus.jsonl").exists() and not (folder / "checkpoint").exists()
    asyncio.run(withdraw_and_check(tmp_path))


async def withdraw_and_check(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "inkwell.db") as db:
        record = await db.voices.adapter("harbour")
        assert record is not None and record.authors == 1 and record.guild_id == GUILD
        await db.voices.set_consent(ALICE, False)
        marked = await db.voices.adapter("harbour")
        assert marked is not None and marked.needs_retraining


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"text": "one"}', "not json"], "line 2: not JSON"),
        (['{"poem": "one"}'], 'line 1: needs a "text" string'),
        (['{"text": "a"}'] * 3, "at least 4"),
    ],
)
def test_a_bad_corpus_file_is_refused_with_its_line(
    tiny_gpt2_dir, tmp_path, capsys, lines, message
):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("\n".join(lines) + "\n")
    code = main(
        [
            "--config",
            str(config(tmp_path, tiny_gpt2_dir)),
            "train",
            "--file",
            str(corpus),
            "--out",
            "x",
            "--max-steps",
            "1",
        ]
    )
    assert code == 1 and message in capsys.readouterr().err


def test_a_bad_adapter_name_is_refused(tiny_gpt2_dir, tmp_path, capsys):
    code = main(
        [
            "--config",
            str(config(tmp_path, tiny_gpt2_dir)),
            "train",
            "--file",
            str(tmp_path / "none.jsonl"),
            "--out",
            "../escape",
        ]
    )
    assert code == 1 and "can't be an adapter's name" in capsys.readouterr().err


def test_the_console_writes_in_a_trained_voice(tiny_gpt2_dir, tmp_path, capfd):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps({"text": t}) + "\n" for t in POEMS))
    settings = str(config(tmp_path, tiny_gpt2_dir))
    assert (
        main(
            [
                "--config",
                settings,
                "train",
                "--file",
                str(corpus),
                "--out",
                "harbour",
                "--max-steps",
                "6",
            ]
        )
        == 0
    )
    capfd.readouterr()
    line = "/poem topic:the harbour seed:5"
    assert main(["--config", settings, "console", "--once", line, "--adapter", "harbour"]) == 0
    voiced = capfd.readouterr().out
    assert main(["--config", settings, "console", "--once", line]) == 0
    base = capfd.readouterr().out
    assert "voice harbour" in voiced and "voice harbour" not in base
    assert main(["--config", settings, "console", "--once", line, "--adapter", "nobody"]) != 0
