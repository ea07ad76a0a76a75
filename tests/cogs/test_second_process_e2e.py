"""A second ``python -m bot run`` with the same token and database refuses to start, so no
reply is ever doubled; the shards of one bot, each in a process of its own, are allowed."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.__main__ import ALREADY_RUNNING
from tests.cogs.test_shutdown import REPO, start_bot, stopped, write_config
from tests.fakediscord import FakeDiscord

TOKEN = "same-token-for-both"


async def run_to_exit(server: FakeDiscord, config: Path, token: str = TOKEN) -> tuple[int, str]:
    """``python -m bot run`` that is expected to end by itself: its exit code and output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.cogs.bot_process",
        server.rest_base,
        str(server.gateway_url),
        str(config),
        env={**os.environ, "PYTHONPATH": str(REPO), "INKWELL_DISCORD_TOKEN": token},
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")


def sharded_config(tmp_path: Path, model_dir: Path, count: int, ids: list[int]) -> Path:
    base = write_config(tmp_path, model_dir, grace=1.0).read_text()
    config = tmp_path / f"shards-{'-'.join(map(str, ids))}.toml"
    sharding = f"shard_count = {count}\nshard_ids = {ids}\n"
    config.write_text(base.replace("[discord]\n", f"[discord]\n{sharding}"))
    return config


async def test_a_second_process_is_refused_and_a_killed_one_blocks_nothing(
    fake_discord, tmp_path, tiny_gpt2_dir
):
    config = write_config(tmp_path, tiny_gpt2_dir, grace=1.0)
    first = await start_bot(fake_discord, config, ignore_eos=False, token=TOKEN)
    try:
        code, output = await run_to_exit(fake_discord, config)
        assert code == ALREADY_RUNNING, output
        assert "already holds the whole bot" in output and "Traceback" not in output
        assert TOKEN not in output
        # It never connected: the first process's session is the only one there ever was.
        assert fake_discord.gateway.identify_count == 1
        assert len(fake_discord.gateway.live_sessions()) == 1
    finally:
        first.send_signal(signal.SIGKILL)  # dies holding the lock
        await stopped(first)
    # The kernel dropped the dead process's lock: the next start is not blocked.
    again = await start_bot(fake_discord, config, ignore_eos=False, token=TOKEN)
    again.send_signal(signal.SIGTERM)
    code, output = await stopped(again)
    assert code == 0, output


async def test_shards_of_one_bot_start_side_by_side_but_an_overlapping_group_does_not(
    tmp_path, tiny_gpt2_dir
):
    async with FakeDiscord(shard_count=2) as server:
        processes = []
        try:
            for shard in (0, 1):
                config = sharded_config(tmp_path, tiny_gpt2_dir, 2, [shard])
                processes.append(
                    await start_bot(server, config, ignore_eos=False, shard=(shard, 2), token=TOKEN)
                )
            overlapping = sharded_config(tmp_path, tiny_gpt2_dir, 2, [1])
            code, output = await run_to_exit(server, overlapping)
            assert code == ALREADY_RUNNING and "already holds shard 1" in output, output
            code, output = await run_to_exit(server, write_config(tmp_path, tiny_gpt2_dir, 1.0))
            assert code == ALREADY_RUNNING, output  # an unsharded bot overlaps every shard
            assert server.gateway.identify_count == 2
            for process in processes:
                process.send_signal(signal.SIGTERM)
            results = [await stopped(process) for process in processes]
        finally:
            for process in processes:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
    assert [code for code, _ in results] == [0, 0], results
