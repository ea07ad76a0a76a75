"""Two real ``python -m bot run`` processes, each holding one of two shards of the fake
Discord, on one SQLite database and one model server (``python -m bot serve``).

Each interaction reaches only the process whose shard holds its guild, as on Discord; what
the processes must agree on lives in the database: a user writing in one shard's guild is
told to wait in the other's, and the prompt of the day is posted once."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

from tests.cogs.test_daily_e2e import prompts_in
from tests.cogs.test_shutdown import start_bot, stopped
from tests.fakediscord import FakeDiscord, FakeGuild
from tests.generation.remote.model_server import model_server, relay

SHARDS = 2


def shard_config(tmp_path: Path, base_url: str, shard: int) -> Path:
    config = tmp_path / f"shard-{shard}.toml"
    config.write_text(
        f'[model]\nname = "{tmp_path / "no-model-here"}"\nbackend = "openai"\n'
        f'base_url = "{base_url}"\n'
        "[generation]\nmax_new_tokens_cap = 48\nmax_prompt_tokens = 96\n"
        f"[discord]\ncooldown_seconds = 0.0\nshard_count = {SHARDS}\nshard_ids = [{shard}]\n"
        f'[storage]\ndatabase = "{tmp_path / "shared.db"}"\n'
        '[logging]\nlevel = "INFO"\n'
    )
    return config


def token_of(shard: int) -> str:
    return f"token-of-shard-{shard}"


def posted_by(server: FakeDiscord, channel) -> set[str]:
    """Whose bot token posted messages in ``channel``."""
    route = "POST /channels/{channel_id}/messages"
    return {
        r.headers.get("Authorization", "")
        for r in server.requests_to(route)
        if r.path == f"/channels/{channel.id}/messages"
    }


def text_channel(guild: FakeGuild):
    return next(c for c in guild.channels if c.type == 0)


def finished(handle) -> str:
    final = handle.final_message()
    return (final.content or "") if final is not None else ""


def callbacks(handle) -> int:
    return sum(1 for r in handle.responses() if r.path.endswith("/callback"))


async def poem(server: FakeDiscord, guild: FakeGuild, user: str, topic: str):
    return await server.slash(
        "poem", {"topic": topic, "seed": 3}, user=user, guild=guild, channel=text_channel(guild)
    )


async def test_two_processes_with_a_shard_each_answer_once_and_post_the_daily_prompt_once(
    tmp_path, tiny_gpt2_dir
):
    async with FakeDiscord(shard_count=SHARDS) as server:
        first_guild, second_guild = server.world.guilds
        with model_server(tmp_path, tiny_gpt2_dir, max_new_tokens_cap=48) as api:
            async with relay(api) as peer:
                processes: list[asyncio.subprocess.Process] = []
                try:
                    for shard in range(SHARDS):
                        config = shard_config(tmp_path, peer.url, shard)
                        started = start_bot(
                            server,
                            config,
                            ignore_eos=False,
                            shard=(shard, SHARDS),
                            token=token_of(shard),  # to tell whose requests are whose
                        )
                        processes.append(await started)
                    await check_the_processes_share_the_work(
                        server, peer, first_guild, second_guild
                    )
                    for process in processes:
                        process.send_signal(signal.SIGTERM)
                    results = [await stopped(process) for process in processes]
                finally:
                    for process in processes:
                        if process.returncode is None:
                            process.kill()
                            with contextlib.suppress(ProcessLookupError):
                                await process.wait()
    for code, output in results:
        assert code == 0, output
        assert "Traceback" not in output, output
    # Each process saw only its own shard's guild.
    assert "to 1 guild(s)" in results[0][1] and "to 1 guild(s)" in results[1][1]
    # Neither process published commands: that is `python -m bot sync`'s job, run once.
    assert not server.requests_to("PUT /applications/{app_id}/commands")
    assert not server.requests_to("PUT /applications/{app_id}/guilds/{guild_id}/commands")


async def check_the_processes_share_the_work(server, peer, first_guild, second_guild) -> None:
    sessions = server.gateway.live_sessions()
    assert sorted(s.shard for s in sessions) == [(0, SHARDS), (1, SHARDS)]

    # One poem in each shard's guild, at once: each answered once, by its own shard.
    handles = [
        await poem(server, first_guild, "alice", "rain"),
        await poem(server, second_guild, "bob", "snow"),
    ]
    for handle in handles:
        await server.wait_for(lambda h=handle: "Written by AI" in finished(h), timeout=60)
    assert [callbacks(h) for h in handles] == [1, 1]

    # Alice's piece in the first guild is held at the model server; in the second guild
    # (the other process) she is told to wait, not given a second piece.
    peer.hold = asyncio.Event()
    held = await poem(server, first_guild, "alice", "tides")
    await server.wait_for(lambda: peer.held == 1, timeout=30)
    again = await poem(server, second_guild, "alice", "dunes")
    refusal = await again.wait_private_answer(timeout=15)
    assert "still writing your previous piece" in refusal["content"], refusal
    assert peer.held == 1  # her second request never reached the model
    peer.hold.set()
    await server.wait_for(lambda: "Written by AI" in finished(held), timeout=60)
    after = await poem(server, second_guild, "alice", "dunes")  # her slot is free again
    await server.wait_for(lambda: "Written by AI" in finished(after), timeout=60)
    assert [callbacks(h) for h in (held, again, after)] == [1, 1, 1]

    # The prompt of the day in the second guild: its time has passed today, so it posts at
    # once, and only once, although both processes run the clock on one timers table.
    channel = text_channel(second_guild)
    setup = await server.slash(
        "daily setup",
        {"channel": channel, "time": "00:00", "timezone": "UTC", "source": "curated"},
        user="mod",
        guild=second_guild,
        channel=channel,
    )
    await setup.wait_callback(timeout=15)
    await server.wait_for(lambda: len(prompts_in(server, channel)) == 1, timeout=30)
    await asyncio.sleep(3)  # several ticks of both clocks
    assert len(prompts_in(server, channel)) == 1
    assert callbacks(setup) == 1
    # Posted by the process whose shard holds the guild, which has its channels and settings.
    assert posted_by(server, channel) == {f"Bot {token_of(1)}"}
    assert prompts_in(server, text_channel(first_guild)) == []
