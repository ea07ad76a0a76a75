"""`python -m bot sync` and `db upgrade` through `bot.__main__.main`, as an operator runs them.

``main()`` calls ``asyncio.run`` itself, so these are plain tests and the fake Discord runs on
its own loop in a background thread.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.storage.migrate import discover
from tests.cogs.conftest import CORE_COMMANDS
from tests.fakediscord import FakeDiscord
from tests.fakediscord.threaded import serve_in_thread

LIBRARY_COMMANDS = frozenset({"favorites", "prompts", "remix", "halloffame", "privacy"})
# Each feature's commands, as a member sees them; a feature that ships adds its own here.
FEATURE_COMMANDS = frozenset(
    {
        "poemgame",
        "anthology",
        "check",
        "score",
        "sprint",
        "idea",
        "daily",
        "voice",
        "stats",
        "owner",
    }
)
EVERY_COMMAND = CORE_COMMANDS | LIBRARY_COMMANDS | FEATURE_COMMANDS
TOKEN = "fake.cli.token"
OTHER_GUILD = 4242


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The token from the environment; and the root logger as it was, since ``sync`` calls
    ``discord.utils.setup_logging`` (a handler on the root logger per call)."""
    monkeypatch.setenv("INKWELL_DISCORD_TOKEN", TOKEN)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.delenv("INKWELL_CONFIG", raising=False)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def fake() -> Iterator[FakeDiscord]:
    with serve_in_thread() as running:
        yield running.server
    assert not running.server.internal_errors, "\n".join(running.server.internal_errors)


def write_config(tmp_path: Path, *, dev_guild_id: int = 0) -> Path:
    """A config naming a model that does not exist: sync must never load the model."""
    path = tmp_path / "config.toml"
    path.write_text(
        f"[model]\nname = '{tmp_path / 'no-model-here'}'\n"
        f"[discord]\ndev_guild_id = {dev_guild_id}\n"
        f"[storage]\ndatabase = '{tmp_path / 'inkwell.db'}'\n",
        encoding="utf-8",
    )
    return path


def names(fake: FakeDiscord, scope: int | None) -> set[str]:
    return {command["name"] for command in fake.commands.list(scope)}


def summary(where: str) -> str:
    return f"Synced {len(EVERY_COMMAND)} commands to {where}: {', '.join(sorted(EVERY_COMMAND))}\n"


@pytest.mark.parametrize(
    ("args", "dev_guild", "target"),
    [
        pytest.param(["--guild", "GUILD"], OTHER_GUILD, "guild", id="--guild beats dev_guild_id"),
        pytest.param(["--global"], "GUILD", "global", id="--global beats dev_guild_id"),
        pytest.param([], "GUILD", "guild", id="default: dev_guild_id"),
        pytest.param([], 0, "global", id="default without dev guild: global"),
    ],
)
def test_sync_publishes_every_command_where_asked(
    fake: FakeDiscord,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    dev_guild: int | str,
    target: str,
) -> None:
    guild_id = fake.guild.id
    config = write_config(tmp_path, dev_guild_id=guild_id if dev_guild == "GUILD" else dev_guild)
    argv = ["--config", str(config), "sync", *(str(guild_id) if a == "GUILD" else a for a in args)]

    assert main(argv) == 0

    out = capsys.readouterr().out
    if target == "guild":
        assert names(fake, guild_id) == EVERY_COMMAND
        assert names(fake, None) == set()
        assert out == summary(f"server {guild_id}")
    else:
        assert names(fake, None) == EVERY_COMMAND
        assert names(fake, guild_id) == set()
        assert out == summary("all servers (may take up to an hour)")
    assert names(fake, OTHER_GUILD) == set()
    assert {r.headers.get("Authorization") for r in fake.requests} == {f"Bot {TOKEN}"}
    assert fake.unhandled == []


def test_sync_refuses_both_targets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), "sync", "--guild", "1", "--global"])
    assert exited.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_sync_without_a_token_says_which_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INKWELL_DISCORD_TOKEN")
    assert main(["--config", str(write_config(tmp_path)), "sync", "--global"]) == 1
    assert "INKWELL_DISCORD_TOKEN" in capsys.readouterr().err


def test_db_upgrade_then_up_to_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path)
    database = tmp_path / "inkwell.db"
    latest = discover()[-1].version

    assert main(["--config", str(config), "db", "upgrade"]) == 0
    assert capsys.readouterr().out == (f"Upgraded {database} from schema version 0 to {latest}.\n")
    assert database.is_file()

    assert main(["--config", str(config), "db", "upgrade"]) == 0
    assert capsys.readouterr().out == f"{database} is up to date (schema version {latest}).\n"


def test_db_migrate_to_wants_a_postgresql_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    assert main(["--config", str(config), "db", "migrate-to", "other.db"]) == 2
    assert "postgresql://" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--config", str(config), "db", "migrate-to"])  # the URL is required


def test_serve_takes_host_and_port_with_local_defaults() -> None:
    from bot.__main__ import build_parser

    args = build_parser().parse_args(["serve"])
    assert (args.command, args.host, args.port) == ("serve", "127.0.0.1", 8000)
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "9001"])
    assert (args.host, args.port) == ("0.0.0.0", 9001)


def test_serve_answers_openai_clients(tmp_path: Path, tiny_gpt2_dir) -> None:
    """The real `python -m bot serve` process (see tests/generation/remote for the API)."""
    import json
    import urllib.request

    from tests.generation.remote.model_server import model_server

    with model_server(tmp_path, tiny_gpt2_dir) as api:
        with urllib.request.urlopen(api + "/models", timeout=10) as response:
            served = json.load(response)["data"][0]["id"]
        body = json.dumps({"prompt": "Rain", "max_tokens": 3, "seed": 1}).encode()
        request = urllib.request.Request(
            api + "/completions", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.load(response)
    assert served == tiny_gpt2_dir.name
    assert answer["model"] == served and answer["choices"][0]["text"]


def test_block_list_and_unblock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(write_config(tmp_path))
    assert main(["--config", config, "block", "user", "42", "--reason", "spam"]) == 0
    assert main(["--config", config, "block", "guild", "7"]) == 0
    assert main(["--config", config, "block", "user", "42"]) == 0
    out = capsys.readouterr().out
    assert "Blocked user 42." in out and "Blocked guild 7." in out and "already blocked" in out
    assert main(["--config", config, "block", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split(" since ")[0] for line in listed] == ["user 42", "guild 7"]
    assert main(["--config", config, "unblock", "user", "42"]) == 0
    assert main(["--config", config, "unblock", "user", "42"]) == 0
    out = capsys.readouterr().out
    assert "Unblocked user 42." in out and "user 42 was not blocked." in out
    assert main(["--config", config, "block", "user", "0"]) == 2
    assert "positive number" in capsys.readouterr().err
