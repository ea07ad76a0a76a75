"""SIGTERM and SIGINT against a real ``python -m bot run`` process and the fake Discord."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.fakediscord import EPHEMERAL
from tests.tiny_models import build_tiny_gpt2

REPO = Path(__file__).resolve().parents[2]
STOPPED_TEXT = "had to restart before this piece was finished"


def write_config(tmp_path: Path, model_dir: Path, grace: float) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[model]\nname = "{model_dir}"\n'
        "[generation]\nmax_new_tokens_cap = 4000\nmax_prompt_tokens = 96\n"
        f"[discord]\ncooldown_seconds = 0.0\nshutdown_grace_seconds = {grace}\n"
        f'[storage]\ndatabase = "{tmp_path / "bot.db"}"\n'
        '[logging]\nlevel = "INFO"\n'
    )
    return config


async def start_bot(
    server,
    config: Path,
    *,
    ignore_eos: bool,
    shard: tuple[int, int] | None = None,
    token: str = "test-token",
) -> asyncio.subprocess.Process:
    """``python -m bot run`` on ``config``, once it is connected (with ``shard``: once the
    session of that ``(shard_id, shard_count)`` is)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "INKWELL_DISCORD_TOKEN": token,
        "INKWELL_TEST_IGNORE_EOS": "1" if ignore_eos else "0",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.cogs.bot_process",
        server.rest_base,
        str(server.gateway_url),
        str(config),
        env=env,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    # Read its output as it comes: a bot logging at DEBUG fills a pipe nobody reads, and then
    # every thread that logs (aiosqlite's too) blocks on the write.
    assert process.stdout is not None
    printed = bytearray()
    _OUTPUT[process.pid] = (asyncio.create_task(_drain(process.stdout, printed)), printed)
    try:
        await server.wait_for(
            lambda: any(
                shard is None or session.shard == shard
                for session in server.gateway.live_sessions()
            ),
            timeout=60,
        )
        await asyncio.sleep(0.5)  # READY, then the guild: let the client take them in
    except TimeoutError:
        if process.returncode is None:
            process.kill()
        _, output = await stopped(process)
        raise AssertionError(f"the bot never connected:\n{output}") from None
    except BaseException:
        process.kill()
        raise
    return process


async def stopped(process: asyncio.subprocess.Process, timeout: float = 60) -> tuple[int, str]:  # noqa: ASYNC109
    """Wait for a ``start_bot`` process to end; its exit code and everything it printed."""
    await asyncio.wait_for(process.wait(), timeout)
    drain, printed = _OUTPUT.pop(process.pid)
    await asyncio.wait_for(drain, timeout)
    assert process.returncode is not None
    return process.returncode, printed.decode(errors="replace")


# What each running start_bot process printed so far, by pid, and the task reading it.
_OUTPUT: dict[int, tuple[asyncio.Task[None], bytearray]] = {}


async def _drain(stream: asyncio.StreamReader, into: bytearray) -> None:
    while chunk := await stream.read(65536):
        into.extend(chunk)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_stop_signal_stops_unfinished_pieces_with_a_message_and_exits_0(
    fake_discord, tmp_path, signum
):
    # A context long enough that the piece (4,000 tokens, end token ignored) takes seconds,
    # far longer than the grace: it must be stopped, not finish by luck.
    model = build_tiny_gpt2(tmp_path / "long-context", n_positions=4096)
    config = write_config(tmp_path, model, grace=1.5)
    process = await start_bot(fake_discord, config, ignore_eos=True)
    try:
        long_piece = await fake_discord.slash(
            "generate", {"prompt": "A very long tale", "max_tokens": 4000, "seed": 1}, user="alice"
        )
        await long_piece.wait_callback(timeout=10)
        # Streaming has begun: the reply shows text, not just "thinking…".
        await fake_discord.wait_for(
            lambda: any("▌" in (r.json or {}).get("content", "") for r in long_piece.responses()),
            timeout=20,
        )
        process.send_signal(signum)
        await asyncio.sleep(0.1)
        late = await fake_discord.slash("poem", {"topic": "too late"}, user="bob")
        code, output = await stopped(process)
    finally:
        if process.returncode is None:
            process.kill()
    assert code == 0, output
    final = long_piece.final_message()
    assert final is not None and STOPPED_TEXT in final.content, output
    callback = late.callback()
    assert callback is not None and callback.json["data"]["flags"] & EPHEMERAL
    assert "restarting" in callback.json["data"]["content"]


async def test_a_piece_that_finishes_within_the_grace_is_delivered_whole(fake_discord, tmp_path):
    model = build_tiny_gpt2(tmp_path / "long-context", n_positions=4096)
    config = write_config(tmp_path, model, grace=30)
    process = await start_bot(fake_discord, config, ignore_eos=True)
    try:
        piece = await fake_discord.slash(
            "generate", {"prompt": "A short tale", "max_tokens": 2500, "seed": 2}, user="alice"
        )
        await piece.wait_callback(timeout=10)
        # Signalled mid-piece: it must be allowed to finish, not be stopped.
        await fake_discord.wait_for(
            lambda: any("▌" in (r.json or {}).get("content", "") for r in piece.responses()),
            timeout=20,
        )
        process.send_signal(signal.SIGTERM)
        code, output = await stopped(process)
    finally:
        if process.returncode is None:
            process.kill()
    assert code == 0, output
    # A long piece is split over messages: the attribution closes the last one.
    shown = [piece.final_message(), *piece.followups()]
    texts = [message.content for message in shown if message is not None]
    assert texts and "Written by AI" in texts[-1], output
    assert not any(STOPPED_TEXT in text for text in texts)
