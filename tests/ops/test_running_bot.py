"""A real ``python -m bot run`` process against the fake Discord, with everything from the
Operations part on: the heartbeat ``python -m bot health`` reads, the metrics endpoint scraped
after a real /poem and a button click, and JSON logs at DEBUG with one line per interaction
and no token in them."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import time
from pathlib import Path

import aiohttp

from tests.cogs.test_shutdown import start_bot, stopped
from tests.fakediscord.fixtures import fake_discord  # noqa: F401  (pytest fixture)
from tests.ops.test_health import health
from tests.ops.test_metrics import samples_of

BOT_TOKEN = "test-token"  # what tests.cogs.test_shutdown.start_bot hands the process


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(tmp_path: Path, model_dir: Path, port: int) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[model]\nname = "{model_dir}"\n'
        "[generation]\nmax_new_tokens_cap = 48\nmax_prompt_tokens = 96\n"
        "[discord]\ncooldown_seconds = 0.0\nshutdown_grace_seconds = 5\n"
        f'[storage]\ndatabase = "{tmp_path / "bot.db"}"\n'
        '[logging]\nlevel = "DEBUG"\nformat = "json"\n'
        f"[metrics]\nenabled = true\nport = {port}\n"
        f'[health]\nheartbeat_file = "{tmp_path / "heartbeat.json"}"\n'
        "heartbeat_interval = 0.5\nstale_after = 5.0\n"
    )
    return config


async def until_healthy(config: Path, within: float = 30.0) -> str:
    deadline = time.monotonic() + within
    while True:
        code, output = await asyncio.to_thread(health, config)
        if code == 0 or time.monotonic() > deadline:
            assert code == 0, output
            return output
        await asyncio.sleep(0.3)


async def scrape(port: int) -> dict:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        return samples_of(await response.text())


def written_by_ai(handle) -> bool:
    final = handle.final_message()
    messages = ([final] if final else []) + handle.followups()
    return any("Written by AI" in (m.content or "") for m in messages)


async def test_health_metrics_and_logs_of_a_running_bot(fake_discord, tiny_gpt2_dir, tmp_path):  # noqa: F811
    port = free_port()
    config = write_config(tmp_path, tiny_gpt2_dir, port)
    code, output = await asyncio.to_thread(health, config)
    assert code == 1 and "no database" in output  # nothing has run yet
    process = await start_bot(fake_discord, config, ignore_eos=False)
    try:
        assert "connected" in await until_healthy(config)
        poem = await fake_discord.slash("poem", {"topic": "rain", "seed": 1}, user="alice")
        await fake_discord.wait_for(lambda: written_by_ai(poem), timeout=60)
        final = poem.final_message()
        assert final is not None
        piece = int(re.search(r"piece #(\d+)", final.content).group(1))
        save = await fake_discord.click(final, f"inkwell:save:{piece}", user="bob")
        await fake_discord.wait_for(lambda: bool(save.followups()), timeout=20)
        await asyncio.sleep(0.3)  # the success line is written just after the reply
        samples = await scrape(port)
        process.send_signal(signal.SIGTERM)
        code, output = await stopped(process)
    finally:
        if process.returncode is None:
            process.kill()
    assert code == 0, output

    # Metrics: the real work shows in the scrape.
    ok = (("command", "poem"), ("outcome", "ok"))
    assert samples[("inkwell_commands_total", ok)] == 1
    assert samples[("inkwell_command_seconds_count", (("command", "poem"),))] == 1
    saved = (("command", "inkwell:save"), ("outcome", "ok"))
    assert samples[("inkwell_commands_total", saved)] == 1
    assert samples[("inkwell_generation_seconds_count", (("outcome", "ok"),))] == 1
    assert samples[("inkwell_generation_tokens_total", (("kind", "generated"),))] > 0

    # After a clean stop the heartbeat says so.
    code, said = await asyncio.to_thread(health, config)
    assert code == 1 and "stopped" in said, said

    # Logs: every line is JSON, with one line per interaction, and no token anywhere.
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    interactions = [line for line in lines if line.get("event") == "interaction"]
    names = [(line["kind"], line["name"], line["outcome"]) for line in interactions]
    assert names == [("command", "poem", "ok"), ("button", "inkwell:save", "ok")], names
    assert all(isinstance(line["latency_ms"], int) for line in interactions)
    assert interactions[0]["user_id"] == poem.user.id and interactions[0]["guild_id"]
    assert any(line["level"] == "DEBUG" for line in lines)  # DEBUG is on: routes are logged
    assert BOT_TOKEN not in output
    assert poem.token not in output and save.token not in output
    assert "[redacted]" in output
