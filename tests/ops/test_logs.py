"""Structured logs: the level and the format the config names, one line per interaction,
and secrets redacted in JSON as in text."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from bot.config import LoggingSettings
from bot.ops.interactions import InteractionLog, component_name
from bot.ops.logs import setup_logging
from bot.ops.metrics import Metrics

BOT_TOKEN = "MTA4NzY1NDMyMTAxMjM0NTY3OA.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"
INTERACTION_TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5OmFiY2RlZmdoaWprbG1ub3A"


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    """The root logger as it was, afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield io.StringIO()
    for handler in root.handlers:
        for each in list(handler.filters):
            handler.removeFilter(each)
    root.handlers[:] = handlers
    root.setLevel(level)
    if logging.lastResort is not None:
        for each in list(logging.lastResort.filters):
            logging.lastResort.removeFilter(each)


def configure(stream: io.StringIO, level: str = "INFO", fmt: str = "json") -> None:
    setup_logging(LoggingSettings(level=level, format=fmt), [BOT_TOKEN], stream=stream)


def test_json_lines_carry_the_interaction_fields(written):
    configure(written)
    InteractionLog().finished(
        kind="command", name="poem", user_id=1, guild_id=2, outcome="ok", seconds=0.8123
    )
    (line,) = [json.loads(each) for each in written.getvalue().splitlines()]
    assert line["level"] == "INFO" and line["logger"] == "bot.ops.interactions"
    assert line["message"] == "command poem user=1 guild=2 outcome=ok latency_ms=812"
    assert {k: line[k] for k in ("event", "kind", "name", "user_id", "guild_id")} == {
        "event": "interaction",
        "kind": "command",
        "name": "poem",
        "user_id": 1,
        "guild_id": 2,
    }
    assert line["outcome"] == "ok" and line["latency_ms"] == 812
    assert line["time"].endswith("+00:00")


def test_text_lines_say_the_same_in_words(written):
    configure(written, fmt="text")
    InteractionLog().finished(
        kind="button", name="inkwell:save", user_id=1, guild_id=None, outcome="refused", seconds=0
    )
    line = written.getvalue().strip()
    assert line.endswith(
        "INFO    bot.ops.interactions: button inkwell:save user=1 guild=None outcome=refused "
        "latency_ms=0"
    )


def test_the_level_controls_what_is_written_and_setting_up_again_does_not_double(written):
    configure(written, level="WARNING")
    configure(written, level="WARNING")
    logging.getLogger("bot.x").info("quiet")
    logging.getLogger("bot.x").warning("loud")
    lines = written.getvalue().splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["loud"]


def test_tokens_never_reach_json_output_in_messages_fields_or_tracebacks(written):
    configure(written, level="DEBUG")
    logging.getLogger("discord.http").debug(
        "PATCH https://discord.com/api/v10/webhooks/123/%s/messages/@original", INTERACTION_TOKEN
    )
    logging.getLogger("discord.gateway").debug(
        "For Shard ID None: WebSocket Event: %s", {"t": "INTERACTION_CREATE", "token": "abc"}
    )
    logging.getLogger("bot.x").info(
        "with fields", extra={"fields": {"header": f"Bot {BOT_TOKEN}", "n": 3}}
    )
    try:
        raise RuntimeError(f"Authorization: Bot {BOT_TOKEN}")
    except RuntimeError:
        logging.getLogger("bot.x").exception("failed")
    output = written.getvalue()
    assert BOT_TOKEN not in output and INTERACTION_TOKEN not in output and "'abc'" not in output
    lines = [json.loads(line) for line in output.splitlines()]
    assert lines[0]["message"].endswith("/webhooks/123/[redacted]/messages/@original")
    assert "'token': '[redacted]'" in lines[1]["message"]
    assert lines[2]["header"] == "Bot [redacted]" and lines[2]["n"] == 3
    assert "RuntimeError" in lines[3]["exc"] and "[redacted]" in lines[3]["exc"]


def test_interactions_are_counted_in_the_metrics_by_name_and_outcome():
    metrics = Metrics(CollectorRegistry())
    journal = InteractionLog(metrics)
    for outcome in ("ok", "ok", "error"):
        journal.finished(
            kind="command", name="poem", user_id=1, guild_id=2, outcome=outcome, seconds=0.1
        )
    text = metrics.exposition().decode()
    assert 'inkwell_commands_total{command="poem",outcome="ok"} 2.0' in text
    assert 'inkwell_commands_total{command="poem",outcome="error"} 1.0' in text
    assert 'inkwell_command_seconds_count{command="poem"} 3.0' in text


def test_component_names_drop_the_ids():
    assert component_name("inkwell:regen:123") == "inkwell:regen"
    assert component_name("inkwell:vote:12:3") == "inkwell:vote"
    assert component_name("") == "?"
