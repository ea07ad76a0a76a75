"""The console front end with a real tiny model and a real SQLite database."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import GenerationSettings, ModelSettings
from bot.console.app import Console
from bot.console.parsing import parse_line, parse_options
from bot.errors import InvalidRequest
from bot.generation.service import GenerationService
from bot.storage import CONSOLE_USER_ID, Database
from bot.writing.fairness import FairnessGate
from bot.writing.flow import WriteFlow
from bot.writing.pieces import WritingService

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def console(tiny_gpt2_dir, tmp_path):
    generation = GenerationService(
        ModelSettings(name=str(tiny_gpt2_dir)),
        GenerationSettings(max_new_tokens_cap=32, max_prompt_tokens=96),
    )
    await generation.start()
    database = await Database.open(tmp_path / "inkwell.db")
    out = io.StringIO()
    flow = WriteFlow(
        WritingService(generation), database, FairnessGate(database), cooldown_seconds=0
    )
    try:
        yield Console(flow, database, out=out), out, database
    finally:
        await generation.close()
        await database.close()


def piece_ids(text: str) -> list[int]:
    return [int(found) for found in re.findall(r"piece #(\d+) \(/save", text)]


async def test_poem_save_favorites_and_export_write_both_files(console, tmp_path):
    shell, out, database = console
    folder = tmp_path / "exports"
    # Seed 13: a haiku the content filter passes (seed 11 writes a listed word, so it would
    # be rewritten with seed 12).
    lines = ["/poem topic:harbour lights form:haiku seed:13", "/save", "/save", "/favorites"]
    ok = await shell.run_lines([*lines, f"/export {folder}"])
    text = out.getvalue()
    assert ok, text
    assert "⭐ Saved as favourite #1" in text and "already in your favourites (#1)" in text
    assert "#1 · Haiku: harbour lights — by console" in text
    markdown, data = sorted(folder.iterdir(), key=lambda path: path.suffix, reverse=True)
    assert (markdown.suffix, data.suffix) == (".md", ".json")
    assert str(markdown) in text and str(data) in text
    document = json.loads(data.read_text())
    piece = document["favorites"][0]["piece"]
    assert piece["seed"] == 13 and piece["prompt"] == "harbour lights"
    assert "**Seed:** 13" in markdown.read_text() and piece["text"] in markdown.read_text()
    assert (await database.favorites.list(CONSOLE_USER_ID, 10, 0))[0].piece.seed == 13


async def test_export_defaults_to_the_current_folder(console, tmp_path, monkeypatch):
    shell, _, _ = console
    monkeypatch.chdir(tmp_path)
    assert await shell.run_lines(["/continue The lamp flickered seed:2", "/save", "/export"])
    written = sorted(path.suffix for path in tmp_path.glob("inkwell-favorites-*"))
    assert written == [".json", ".md"]


async def test_favorites_show_remove_and_remix_keep_the_seed(console):
    shell, out, database = console
    assert await shell.run_lines(["/story premise:a lost key genre:mystery seed:5", "/save"])
    (first,) = piece_ids(out.getvalue())
    ok = await shell.run_lines(
        [
            "/favorites show 1",
            f"/remix {first} temperature:1.4 top_k:10",
            "/favorites remove #1",
            "/favorites",
        ]
    )
    text = out.getvalue()
    assert ok, text
    assert "Favourite #1 · Story (mystery): a lost key" in text
    assert "seed 5" in text and "prompt: a lost key" in text and "asked for by console" in text
    remixed = await database.generations.get(piece_ids(text)[-1])
    assert remixed.seed == 5 and remixed.parent_id == first
    assert remixed.params["temperature"] == 1.4 and remixed.params["top_k"] == 10
    assert "Removed favourite #1" in text and "No favourites yet" in text


async def test_saved_prompts_round_trip(console):
    shell, out, database = console
    ok = await shell.run_lines(
        [
            "/prompts save name:rain text:autumn rain on tin form:poem poem_form:haiku",
            "/prompts list",
            "/prompts use RAIN",
            "/prompts rename old:rain new:drizzle",
            "/prompts delete drizzle",
            "/prompts list",
        ]
    )
    text = out.getvalue()
    assert ok, text
    assert "Saved “rain” (poem (haiku))" in text
    assert "rain — poem (haiku): autumn rain on tin" in text
    assert "✍  Haiku: autumn rain on tin" in text
    assert "Renamed “rain” to “drizzle”" in text and "Deleted your saved prompt" in text
    assert "No saved prompts yet" in text
    assert await database.prompts.count(CONSOLE_USER_ID) == 0


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/save", "no piece to save yet"),
        ("/favorites show", "needs a positive whole number"),
        ("/favorites show 99", "You have no favourite #99"),
        ("/favorites sort", "/favorites has no 'sort'"),
        ("/remix 5 temperature:9", "/remix temperature must be between 0 and 2"),
        ("/remix 12345", "can't find piece #12345"),
        ("/prompts save name:x text:y", "needs form:"),
        ("/prompts save name:x text:y form:sonnet", "form must be one of"),
        ("/prompts save name:x text:y form:poem genre:horror", "can't have a genre"),
        ("/prompts use nothing", "don't have a saved prompt called “nothing”"),
        ("/export", "No favourites to export yet"),
        ("/dance", "I don't know the command /dance"),
    ],
)
async def test_bad_input_gets_a_kind_message(console, line, message):
    shell, out, _ = console
    ok = await shell.execute(line)
    assert message in out.getvalue()
    assert ok == (line == "/export")  # nothing to export is not an error


def test_parse_options_only_splits_on_known_keys():
    assert parse_options("/x", "a time: of rain name:b", ("name",), "text") == {
        "text": "a time: of rain",
        "name": "b",
    }
    assert parse_line("/poem autumn form:haiku") == ("poem", {"topic": "autumn", "form": "haiku"})
    with pytest.raises(InvalidRequest, match="got name: twice"):
        parse_options("/x", "name:a name:b", ("name",), None)
    with pytest.raises(InvalidRequest, match="doesn't take 'stray'"):
        parse_options("/prompts list", "stray", (), None)


def test_cli_once_help_and_a_bad_command(tiny_gpt2_dir, tmp_path):
    config = tmp_path / "inkwell.toml"
    database = tmp_path / "data" / "console.db"
    config.write_text(f'[storage]\ndatabase = "{database.as_posix()}"\n', encoding="utf-8")
    env = {
        **os.environ,
        "INKWELL_CONFIG": str(config),
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(REPO),
    }

    def start(line: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "console", "--once", line, "--model", str(tiny_gpt2_dir)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    helped, failed = start("/help"), start("/favorites explode")
    help_out, help_err = helped.communicate(timeout=120)
    bad_out, _ = failed.communicate(timeout=120)
    assert helped.returncode == 0, help_err
    for command in ("/poem", "/save", "/favorites", "/export", "/prompts save", "/remix"):
        assert command in help_out
    assert failed.returncode == 1
    assert "⚠ /favorites has no 'explode'" in bad_out
    assert database.is_file()  # the console opened the configured database


@pytest.mark.parametrize("raw", ["99999999999999999999", "²", "-3", "0", "x"])
def test_numbers_out_of_range_or_odd_digits_are_refused_kindly(raw):
    from bot.console.parsing import number_option

    with pytest.raises(InvalidRequest, match="positive whole number"):
        number_option("/favorites show", raw)
