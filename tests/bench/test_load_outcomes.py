"""The load test reads outcomes from the texts users are shown: those texts come from the bot's
own modules here, so a reworded refusal cannot turn a limit or a bug into an "ok"."""

from __future__ import annotations

from bench.load_outcomes import BUSY, ERROR, LIMITED, OK, REFUSED, classify
from bot.errors import ServiceBusy
from bot.safety.admission import BLOCKED_USER, guild_limit_text, user_limit_text
from cogs.errors import APOLOGY


def shown(text: str) -> list[str]:
    return [f"⚠️ {text}"]  # how report_error and the gate both start a refusal


def test_the_limits_answers_are_limited_not_ok() -> None:
    assert classify(shown(user_limit_text(20, 12.5))) == LIMITED
    assert classify(shown(guild_limit_text(600, 0.2))) == LIMITED


def test_busy_bugs_refusals_and_pieces_are_told_apart() -> None:
    assert classify(shown(ServiceBusy().user_message)) == BUSY
    assert classify(shown(APOLOGY)) == ERROR
    assert classify(shown(BLOCKED_USER)) == REFUSED  # the load never blocks anyone
    assert classify(["Written by AI · a poem"]) == OK
