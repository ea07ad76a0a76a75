"""/owner's own text: the ids it accepts, and a blocklist that always fits one message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.errors import InvalidRequest
from bot.storage.blocklist import MAX_REASON_CHARS, Block
from cogs.owner import blocked_lines, parse_target

ID = 1577903085345308675


@pytest.mark.parametrize("text", [str(ID), f"<@{ID}>", f"<@!{ID}>", f"  {ID} "])
def test_an_id_or_a_pasted_mention_is_read(text: str) -> None:
    assert parse_target(text) == ID


@pytest.mark.parametrize(
    "text", ["", "@everyone", f"<@{ID}", f"{ID}>", "12345", "9" * 21, f"<@&{ID}>", f"{ID} {ID}"]
)
def test_anything_else_is_refused_kindly(text: str) -> None:
    with pytest.raises(InvalidRequest, match="isn't a Discord id"):
        parse_target(text)


def test_a_long_blocklist_is_cut_to_one_message_and_says_how_many_more() -> None:
    when = datetime(2026, 12, 3, tzinfo=UTC)
    blocks = [Block("user", ID + n, "r" * MAX_REASON_CHARS, when) for n in range(60)]
    text = blocked_lines(blocks)
    assert len(text) <= 2000
    shown = text.count("• user")
    assert 0 < shown < 60 and f"…and {60 - shown} more" in text
    two = blocked_lines(blocks[:2])
    assert two.count("• user") == 2 and "more" not in two
    assert blocked_lines([]) == "Nobody is blocked."
