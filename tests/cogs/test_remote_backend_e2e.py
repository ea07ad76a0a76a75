"""End to end over two real processes: ``python -m bot run`` with ``model.backend = "openai"``
writes a /poem through ``python -m bot serve`` (the tiny model), against the fake Discord."""

from __future__ import annotations

import signal

from tests.cogs.test_shutdown import start_bot, stopped
from tests.generation.remote.model_server import model_server, relay


def remote_config(tmp_path, base_url: str):
    config = tmp_path / "bot.toml"
    config.write_text(
        # A model that does not exist: the bot must never load one of its own.
        f'[model]\nname = "{tmp_path / "no-model-here"}"\nbackend = "openai"\n'
        f'base_url = "{base_url}"\n'
        "[generation]\nmax_new_tokens_cap = 48\nmax_prompt_tokens = 96\n"
        "[discord]\ncooldown_seconds = 0.0\n"
        f'[storage]\ndatabase = "{tmp_path / "bot.db"}"\n'
        '[logging]\nlevel = "INFO"\n'
    )
    return config


async def test_a_poem_is_written_on_the_model_server(fake_discord, tmp_path, tiny_gpt2_dir):
    with model_server(tmp_path, tiny_gpt2_dir, max_new_tokens_cap=48) as api:
        # Through a relay, to see that the bot really asked the server, and without /v1.
        async with relay(api) as peer:
            process = await start_bot(
                fake_discord, remote_config(tmp_path, peer.url), ignore_eos=False
            )
            try:
                poem = await fake_discord.slash(
                    "poem", {"topic": "autumn rain", "seed": 7}, user="alice"
                )
                await fake_discord.wait_for(lambda: "Written by AI" in finished(poem), timeout=60)
                process.send_signal(signal.SIGTERM)
                code, output = await stopped(process)
            finally:
                if process.returncode is None:
                    process.kill()
    assert code == 0, output
    content = finished(poem)
    assert content.startswith("**Poem: autumn rain**"), content
    # Attributed to the model the server serves (its directory's name), with the seed.
    assert f"Written by AI ({tiny_gpt2_dir.name})" in content and "seed 7" in content, content
    assert peer.posts >= 1 and set(peer.statuses) == {200}
    assert f"Model server {peer.url}/v1 serves {tiny_gpt2_dir.name}" in output


def finished(handle) -> str:
    final = handle.final_message()
    return (final.content or "") if final is not None else ""
