"""deploy/: the Dockerfile, docker-compose.yml and the systemd unit parse, and every command
they run is a real ``python -m bot`` command."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from bot.__main__ import build_parser
from bot.config import STORAGE_URL_ENV_VAR, load_settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def cli_args(command: list[str]) -> list[str]:
    """The arguments after ``python -m bot``; fails for anything else."""
    assert command[1:3] == ["-m", "bot"] and command[0].endswith("python"), command
    return command[3:]


def assert_real_cli_command(command: list[str]) -> None:
    args = build_parser().parse_args(cli_args(command))  # SystemExit on a bad command
    assert args.command


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) in order, continuation lines joined, comments dropped."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n(?:\s*#.*\n)*", " ", text)
    instructions = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_the_dockerfile_is_multi_stage_non_root_and_runs_real_commands():
    steps = dockerfile()
    stages = [i for i, (keyword, _) in enumerate(steps) if keyword == "FROM"]
    assert len(stages) >= 2
    final = steps[stages[-1] :]
    assert any(k == "COPY" and a.startswith("--from=build") for k, a in final)
    users = [a for k, a in final if k == "USER"]
    assert users and users[-1] not in ("root", "0")
    (volume,) = [json.loads(a) for k, a in final if k == "VOLUME"]
    assert "/cache" in volume
    env = " ".join(a for k, a in final if k == "ENV")
    assert "XDG_CACHE_HOME=/cache" in env
    (healthcheck,) = [a for k, a in final if k == "HEALTHCHECK"]
    options, command = healthcheck.split("CMD", 1)
    assert "--start-period" in options
    assert_real_cli_command(json.loads(command))
    assert cli_args(json.loads(command)) == ["health"]
    (cmd,) = [json.loads(a) for k, a in final if k == "CMD"]
    assert cli_args(cmd) == ["run"]
    assert any(k == "ARG" and a == "TORCH_SPEC=torch==2.13.0" for k, a in steps)


def test_the_image_config_is_valid_and_survives_in_the_volumes():
    settings = load_settings(DEPLOY / "config.docker.toml")
    assert settings.model.cache_dir.startswith("/cache")
    assert settings.storage.database.startswith("/app/data/")
    assert settings.health.heartbeat_file.startswith("/app/data/")
    assert settings.metrics.enabled and settings.logging.format == "json"


def test_compose_runs_inkwell_on_postgresql_with_the_url_from_the_environment():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:")
    inkwell = services["inkwell"]
    assert inkwell["build"]["dockerfile"] == "deploy/Dockerfile"
    assert inkwell["depends_on"]["postgres"]["condition"] == "service_healthy"
    environment = inkwell["environment"]
    url = environment[STORAGE_URL_ENV_VAR]
    assert url.startswith("postgresql://") and ":" not in url.split("@")[0].removeprefix(
        "postgresql://"
    ), "the password belongs in PGPASSWORD, not the URL"
    assert "INKWELL_DISCORD_TOKEN" in environment and "PGPASSWORD" in environment
    assert any(volume.endswith(":/cache") for volume in inkwell["volumes"])
    test = inkwell["healthcheck"]["test"]
    assert test[0] == "CMD"
    assert_real_cli_command(test[1:])
    assert set(compose["volumes"]) >= {"postgres-data", "model-cache", "inkwell-data"}


def systemd_unit() -> dict[str, dict[str, list[str]]]:
    """Sections -> key -> values (a key may repeat, as systemd allows)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for number, line in enumerate(
        (DEPLOY / "inkwell.service").read_text(encoding="utf-8").splitlines(), 1
    ):
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None and "=" in line, f"line {number}: {line!r}"
        key, _, value = line.partition("=")
        assert re.fullmatch(r"[A-Za-z]+", key), f"line {number}: bad key {key!r}"
        current.setdefault(key, []).append(value)
    return sections


def test_the_systemd_unit_restarts_on_failure_and_reads_the_token_from_a_file():
    unit = systemd_unit()
    assert set(unit) == {"Unit", "Service", "Install"}
    service = unit["Service"]
    assert service["Restart"] == ["on-failure"]
    assert service["EnvironmentFile"] and not any(
        "TOKEN" in value for value in service.get("Environment", [])
    ), "the token comes from the EnvironmentFile only"
    assert service["User"] != ["root"]
    assert int(service["TimeoutStopSec"][0]) > 20  # longer than the shutdown grace
    for key in ("ExecStart", "ExecStartPre"):
        assert_real_cli_command(shlex.split(service[key][0]))
    assert cli_args(shlex.split(service["ExecStart"][0])) == ["run"]
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def test_storage_url_from_the_environment_replaces_the_file(monkeypatch, tmp_path):
    monkeypatch.setenv(STORAGE_URL_ENV_VAR, "postgresql://inkwell@db/inkwell")
    assert load_settings(DEPLOY / "config.docker.toml").storage.url == (
        "postgresql://inkwell@db/inkwell"
    )
    monkeypatch.setenv(STORAGE_URL_ENV_VAR, "mysql://nope")
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match=r"storage\.url"):
        load_settings(DEPLOY / "config.docker.toml")
