"""The log filter on real loggers and handlers: what discord.py writes at DEBUG, redacted.

The end-to-end check (the real client against the fake Discord, a real interaction) is
``test_token_never_appears_in_logs`` in tests/cogs/test_discord_e2e.py.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.log_redaction import REDACTED, RedactSecrets, install

BOT_TOKEN = "MTA4NzY1NDMyMTAxMjM0NTY3OA.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"
INTERACTION_TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OTpGWk5xYlpOUA-_x.y"


@pytest.fixture
def written() -> Iterator[tuple[io.StringIO, logging.Logger]]:
    """A root handler writing formatted records to a buffer, with the filter installed on it,
    and a child logger whose records propagate to it (as discord.http's do)."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    logger = logging.getLogger("discord.http.redaction-test")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    redactor = install([BOT_TOKEN])
    try:
        yield buffer, logger
    finally:
        redactor.uninstall()
        root.removeHandler(handler)
        logger.setLevel(level)


@pytest.mark.parametrize(
    ("template", "args", "kept"),
    [
        (  # discord.http, at DEBUG, for a reply's edit
            "%s %s with %s has returned %s",
            (
                "PATCH",
                f"https://discord.com/api/v10/webhooks/1234567890/{INTERACTION_TOKEN}"
                "/messages/@original",
                '{"content": "hi"}',
                200,
            ),
            "/webhooks/1234567890/[redacted]/messages/@original",
        ),
        (  # the interaction callback
            "%s %s has received %s",
            (
                "POST",
                f"https://discord.com/api/v10/interactions/987/{INTERACTION_TOKEN}/callback"
                "?with_response=true",
                {},
            ),
            "/interactions/987/[redacted]/callback?with_response=true",
        ),
        (  # discord.webhook.async_
            "Webhook ID %s with %s %s has returned status code %s",
            (1234, "POST", f"https://discord.com/api/v10/webhooks/1234/{INTERACTION_TOKEN}", 200),
            "/webhooks/1234/[redacted] has returned",
        ),
        (  # discord.gateway: the INTERACTION_CREATE event as a dict
            "For Shard ID %s: WebSocket Event: %s",
            (None, {"t": "INTERACTION_CREATE", "d": {"id": "987", "token": INTERACTION_TOKEN}}),
            "'token': '[redacted]'",
        ),
        (  # the same payload as JSON text
            "Received %s",
            (f'{{"t": "INTERACTION_CREATE", "d": {{"token": "{INTERACTION_TOKEN}"}}}}',),
            '"token": "[redacted]"',
        ),
        (  # a header dump with the bot token
            "headers: %s",
            ({"Authorization": f"Bot {BOT_TOKEN}", "User-Agent": "DiscordBot"},),
            "'Authorization': 'Bot [redacted]'",
        ),
        ("Authorization: Bot %s", ("some.other-secret_value",), "Authorization: Bot [redacted]"),
        ("token in plain text: %s.", (BOT_TOKEN,), "token in plain text: [redacted]."),
    ],
)
def test_tokens_in_messages_and_their_arguments_are_redacted(written, template, args, kept):
    buffer, logger = written
    logger.debug(template, *args)
    output = buffer.getvalue()
    assert INTERACTION_TOKEN not in output and BOT_TOKEN not in output
    assert "some.other-secret_value" not in output
    assert kept in output, output


def test_a_known_secret_is_redacted_in_tracebacks_too(written):
    buffer, logger = written
    try:
        raise RuntimeError(f"login failed for {BOT_TOKEN[:30]}…{BOT_TOKEN}")
    except RuntimeError:
        logger.exception("could not start")
    output = buffer.getvalue()
    assert "Traceback" in output and "RuntimeError" in output
    assert BOT_TOKEN not in output and f"…{REDACTED}" in output


def test_ordinary_text_and_routes_without_tokens_are_left_alone(written):
    buffer, logger = written
    lines = [
        "GET https://discord.com/api/v10/channels/123/messages has returned 200",
        "POST https://discord.com/api/v10/applications/42/commands has returned 201",
        "Loaded gpt2 v1.2.3 (e.g. with top-p 0.9) in 1.5 s",
        "token count 12, max_new_tokens 400",
    ]
    for line in lines:
        logger.info("%s", line)
    assert buffer.getvalue().splitlines() == [
        f"discord.http.redaction-test INFO {line}" for line in lines
    ]


def test_records_from_any_logger_are_redacted_by_the_handler():
    # A filter on the "discord" logger would miss records made by "discord.http"; the handler
    # sees them all.
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    discord_logger = logging.getLogger("discord")
    discord_logger.addHandler(handler)
    child = logging.getLogger("discord.gateway.redaction-test")
    child.setLevel(logging.DEBUG)
    redactor = install([BOT_TOKEN], loggers=["discord"])
    try:
        child.debug("token %s", BOT_TOKEN)
    finally:
        redactor.uninstall()
        discord_logger.removeHandler(handler)
        child.setLevel(logging.NOTSET)
    assert buffer.getvalue() == f"token {REDACTED}\n"
    assert redactor not in handler.filters


def test_install_ignores_missing_secrets_and_never_drops_a_record():
    redactor = RedactSecrets([None, "", "s3cret-value"])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "a %s b", ("s3cret-value",), None)
    assert redactor.filter(record) is True
    assert record.getMessage() == f"a {REDACTED} b"
    broken = logging.LogRecord("x", logging.INFO, __file__, 1, "a %s %s", ("one",), None)
    assert redactor.filter(broken) is True  # left for the handler to report
