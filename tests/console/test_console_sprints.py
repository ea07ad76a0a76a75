"""Writing sprints in the console: /sprint start minutes:1 runs on the clock, with named seats."""

from __future__ import annotations

import io

import pytest

from bot.console.app import Console
from bot.console.sprints import console_sprints
from bot.storage import Database
from tests.clock.test_dispatcher import FakeClock


class _NoFlow:
    """The console's flow, for the commands these tests don't use."""

    writing = None


@pytest.fixture
async def console(tmp_path):
    database = await Database.open(tmp_path / "inkwell.db")
    out = io.StringIO()
    clock = FakeClock(1_700_000_000.0)
    sprints = console_sprints(None, database, out, clock=clock)
    shell = Console(_NoFlow(), database, out=out, sprints=sprints)  # type: ignore[arg-type]
    try:
        yield shell, out, clock, database, sprints
    finally:
        await database.close()


async def test_a_one_minute_sprint_with_a_second_writer(console):
    shell, out, clock, database, _ = console
    for line in [
        "/sprint start minutes:1 prompt:the sea at night",
        "/as alice /sprint join starting_words:1000",
        "/as alice /sprint wc words:5000",
        "/sprint wrote words:40",
        "/sprint status",
    ]:
        await shell.execute(line)
    text = out.getvalue()
    assert "console started a 1-minute sprint (#1)" in text and "the sea at night" in text
    assert "alice joined (starting at 1,000 words)" in text
    assert "words a minute" in text  # alice's 4,000 in a minute is refused
    assert "console: 40 words written this sprint." in text
    assert "Writers: console, alice" in text

    clock.current += 60
    await shell.execute("/as alice /sprint wc words:1050")
    assert "Pens down!" in out.getvalue()
    clock.current += 120
    await shell.execute("/sprint stats")
    text = out.getvalue()
    assert "Sprint #1 results" in text
    assert "🥇 alice — 50 words" in text and "🥈 console — 40 words" in text
    assert text.count("Sprint #1 results") == 1
    assert "console: 1 sprint, 40 words" in text
    assert (await database.sprints.stats(0, None)).best_words == 40


async def test_unknown_actions_and_bad_numbers_are_explained(console):
    shell, out, *_ = console
    assert not await shell.execute("/sprint dance")
    assert not await shell.execute("/sprint start minutes:500")
    assert not await shell.execute("/sprint wc words:lots")
    text = out.getvalue()
    assert "Try /sprint start" in text and "1 to 120 minutes" in text
    assert "no sprint in this channel" in text or "whole number" in text


async def test_at_the_prompt_the_clock_runs_by_itself(console):
    import asyncio

    shell, out, _, _, sprints = console
    await shell.execute("/sprint start minutes:1")
    await shell.execute("/sprint wrote words:30")
    sprints.run_clock()  # as the interactive prompt does; each tick moves the fake clock 1 s
    try:
        for _ in range(3000):  # up to 30 s of real time
            if "Sprint #1 results" in out.getvalue():
                break
            await asyncio.sleep(0.01)
    finally:
        await sprints.close()
    text = out.getvalue()
    assert "Pens down!" in text and "console — 30 words" in text
