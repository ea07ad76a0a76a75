"""The model fails to load, for real (a tiny checkpoint with a broken config.json): the bot
still connects, /poem is answered privately that the writer rests, /stats (owner, or Manage
Server for its own guild) says why, and the owner's /owner reload-model brings the writer back
once the files are fixed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.clock.dispatcher import Dispatcher
from bot.generation.service import GenerationService
from bot.ops.model_state import RestingGeneration
from bot.ops.recent import RecentWindow, WindowedGeneration
from bot.ops.stats import Vitals
from bot.storage import Database
from bot.writing.fairness import FairnessGate
from bot.writing.flow import WriteFlow
from bot.writing.pieces import WritingService
from cogs.client import InkwellBot
from tests.cogs.conftest import stack_settings
from tests.cogs.test_discord_e2e import finished
from tests.fakediscord import EPHEMERAL, run_client
from tests.fakediscord.fixtures import fake_discord  # noqa: F401  (pytest fixture)
from tests.tiny_models import build_tiny_gpt2


def break_config(model: Path) -> str:
    """Garbage in config.json, as a half-copied checkpoint has; returns what was there."""
    config = model / "config.json"
    good = config.read_text()
    config.write_text("{ this is not json")
    return good


def fields(embed: dict) -> dict[str, str]:
    return {field["name"]: field["value"] for field in embed["fields"]}


async def stats_of(server, user: str) -> dict:
    handle = await server.slash("stats", user=user)
    answer = await handle.wait_private_answer(timeout=10)
    assert answer["flags"] & EPHEMERAL
    return answer


@pytest.fixture
async def resting_bot(fake_discord, tmp_path):  # noqa: F811
    model = build_tiny_gpt2(tmp_path / "model")
    good = break_config(model)
    settings = stack_settings(str(model))
    recent = RecentWindow()
    generation = RestingGeneration(
        WindowedGeneration(GenerationService(settings.model, settings.generation), recent)
    )
    await generation.start()  # fails inside, and must not raise
    database = await Database.open(tmp_path / "inkwell.db")
    flow = WriteFlow(
        WritingService(generation),
        database,
        FairnessGate(database, max_per_guild=settings.generation.max_per_guild),
        cooldown_seconds=0.0,
    )
    bot = InkwellBot(
        settings=settings,
        flow=flow,
        database=database,
        clock=Dispatcher(database),
        vitals=Vitals(
            settings=settings,
            database=database,
            recent=recent,
            model=generation,
            health=generation.health,
        ),
        guild_ready_timeout=0.05,
    )
    try:
        # Every logger whose errors would be a bug here; bot.ops.model_state's are expected.
        loggers = ("discord", "cogs", "bot.writing", "bot.storage", "bot.generation")
        async with run_client(bot, fake_discord, error_loggers=loggers) as running:
            await running.tree.sync()
            yield running, model, good
    finally:
        await flow.close(1)
        await generation.close()
        await database.close()


async def test_a_model_that_fails_to_load_rests_and_comes_back_on_reload(
    resting_bot,
    fake_discord,  # noqa: F811
):
    bot, model, good = resting_bot
    server = fake_discord
    poem = await server.slash("poem", {"topic": "rain", "seed": 3}, user="alice")
    answer = await poem.wait_private_answer(timeout=10)
    assert poem.callback().json["type"] == 4  # answered at once, never deferred publicly
    assert answer["flags"] & EPHEMERAL and "writer is resting" in answer["content"]
    assert "reload-model" in answer["content"]  # the hint
    alice = server.user("alice").id
    assert await bot.database.generations.count_for_user(alice) == 0  # nothing else was done
    score = await server.slash("score", {"text": "rain on the roof"}, user="alice")
    assert "writer is resting" in (await score.wait_private_answer(timeout=10))["content"]
    game = await server.slash("poemgame start", {"lines": 4, "ai": True}, user="alice")
    assert "writer is resting" in (await game.wait_private_answer(timeout=10))["content"]
    assert await bot.database.games.open_in_channel(server.channel.id) is None
    help_answer = await (await server.slash("help", user="alice")).wait_private_answer()
    assert "resting" in help_answer["embeds"][0]["description"]

    shown = fields((await stats_of(server, "owner"))["embeds"][0])
    assert shown["Writer"].startswith("😴 resting: Could not load model")
    assert "config.json" in shown["Writer"]  # what is wrong, to fix it

    # Not an owner: refused, and the reload too.
    refused = await stats_of(server, "alice")
    assert "Manage Server" in refused["content"]
    denied = await (await server.slash("owner reload-model", user="mod")).wait_private_answer()
    assert "owner" in denied["content"]

    # Still broken: the owner's reload says why.
    again = await server.slash("owner reload-model", user="owner")
    await server.wait_for(lambda: bool(again.followups()), timeout=30)
    assert "still could not be loaded" in again.followups()[-1].content

    (model / "config.json").write_text(good)
    fixed = await server.slash("owner reload-model", user="owner")
    await server.wait_for(lambda: bool(fixed.followups()), timeout=60)
    assert fixed.followups()[-1].ephemeral
    assert "loaded again" in fixed.followups()[-1].content

    poem = await server.slash("poem", {"topic": "rain", "seed": 3}, user="alice")
    await finished(poem, server)
    shown = fields((await stats_of(server, "owner"))["embeds"][0])
    assert "writing" in shown["Writer"]
    assert "1 piece(s)" in shown["Latency (last hour)"]
    assert server.unhandled == []


async def test_stats_for_a_manage_server_member_counts_their_guild_only(
    resting_bot,
    fake_discord,  # noqa: F811
):
    bot, _, _ = resting_bot
    server = fake_discord
    guild = server.guild.id
    await bot.database.games.create(guild, 11, 100, "round-robin", "free", {})
    await bot.database.games.create(guild + 1, 21, 100, "round-robin", "free", {})
    await bot.database.games.create(guild + 2, 31, 100, "round-robin", "free", {})

    mod = fields((await stats_of(server, "mod"))["embeds"][0])
    assert mod["Running in this server"].startswith("1 game(s) · 0 sprint(s)")
    owner = fields((await stats_of(server, "owner"))["embeds"][0])
    assert owner["Running in all servers"].startswith("3 game(s)")
    assert "resting" in owner["Writer"]
    assert owner["Errors (last hour)"] == "0"
