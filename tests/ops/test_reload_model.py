"""``python -m bot reload-model`` against a real ``python -m bot run`` whose model failed to
load (garbage in its config.json): the bot connects anyway, /poem is refused privately, the
heartbeat says why; once the file is fixed the CLI makes the running bot load it, and /poem
writes. No restart in between."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.cogs.test_shutdown import REPO, start_bot, stopped
from tests.fakediscord.fixtures import fake_discord  # noqa: F401  (pytest fixture)
from tests.ops.test_health import health
from tests.ops.test_running_bot import written_by_ai
from tests.tiny_models import build_tiny_gpt2


def write_config(tmp_path: Path, model_dir: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[model]\nname = "{model_dir}"\n'
        "[generation]\nmax_new_tokens_cap = 48\nmax_prompt_tokens = 96\n"
        "[discord]\ncooldown_seconds = 0.0\nshutdown_grace_seconds = 5\n"
        f'[storage]\ndatabase = "{tmp_path / "bot.db"}"\n'
        '[logging]\nlevel = "INFO"\n'
        f'[health]\nheartbeat_file = "{tmp_path / "heartbeat.json"}"\n'
        "heartbeat_interval = 0.5\nstale_after = 5.0\n"
    )
    return config


def last_beat(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


async def connected_beat(path: Path, within: float = 20.0) -> dict:
    """The first beat that says the bot is connected (READY comes a moment after the guilds)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        beat = await asyncio.to_thread(last_beat, path)
        if beat.get("discord") == "connected":
            return beat
        assert asyncio.get_running_loop().time() < deadline, beat
        await asyncio.sleep(0.2)


def reload_model(config: Path, *args: str) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("INKWELL_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "reload-model", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


async def test_reload_model_from_the_command_line_wakes_a_resting_bot(fake_discord, tmp_path):  # noqa: F811
    model = build_tiny_gpt2(tmp_path / "model")
    good = (model / "config.json").read_text()
    (model / "config.json").write_text("{ half a file")
    config = write_config(tmp_path, model)
    process = await start_bot(fake_discord, config, ignore_eos=False)
    try:
        poem = await fake_discord.slash("poem", {"topic": "rain", "seed": 1}, user="alice")
        answer = await poem.wait_private_answer(timeout=30)
        assert "writer is resting" in answer["content"]
        beat = await connected_beat(tmp_path / "heartbeat.json")  # up, though resting
        assert beat["model_state"] == "resting" and "config.json" in beat["model_reason"]
        code, said = await asyncio.to_thread(health, config)
        assert code == 0 and "the writer rests: Could not load model" in said, said

        # Still broken: the CLI says so, and exits 1.
        code, output = await asyncio.to_thread(reload_model, config, "--wait", "60")
        assert code == 1 and "still could not be loaded" in output, output

        (model / "config.json").write_text(good)
        code, output = await asyncio.to_thread(reload_model, config, "--wait", "60")
        assert code == 0 and "The model is loaded" in output, output

        poem = await fake_discord.slash("poem", {"topic": "rain", "seed": 1}, user="alice")
        await fake_discord.wait_for(lambda: written_by_ai(poem), timeout=60)
        process.send_signal(signal.SIGTERM)
        code, printed = await stopped(process)
    finally:
        if process.returncode is None:
            process.kill()
    assert code == 0, printed
    assert "Reload signal received" in printed


def test_reload_model_without_a_running_bot_says_so(tmp_path):
    config = write_config(tmp_path, tmp_path / "model")
    code, output = reload_model(config)
    assert code == 1 and "is the bot running?" in output, output
