"""The write flow with a real tiny model and real SQLite: fairness, shutdown, and pieces that
are shown even when they cannot be stored."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sqlite3
import time
from collections.abc import AsyncIterator

import pytest

from bot.config import GenerationSettings, ModelSettings
from bot.errors import ServiceBusy
from bot.forms import Form, PieceSpec
from bot.generation.service import GenerationService
from bot.generation.types import SamplingParams
from bot.storage import Database
from bot.writing.destination import WriteUpdate
from bot.writing.drafts import Draft
from bot.writing.fairness import FairnessGate, RateLimited
from bot.writing.flow import NOT_SAVED, STOPPED, PieceStopped, ShuttingDown, WriteFlow
from bot.writing.pieces import WritingService
from bot.writing.requester import Requester
from tests.generation.stepping import write_every_token

GUILD = 77


class Recorded:
    """A destination that keeps what it was shown (the flow's protocol, fully implemented)."""

    def __init__(self) -> None:
        self.accepted = False
        self.updates: list[WriteUpdate] = []
        self.stopped: list[str] = []
        self.started = asyncio.Event()

    async def accept(self) -> None:
        self.accepted = True

    async def deliver(self, title: str, updates: AsyncIterator[WriteUpdate]) -> None:
        async for update in updates:
            self.updates.append(update)
            if update.text:
                self.started.set()
            if update.piece is not None:
                return

    async def stop(self, message: str) -> None:
        self.stopped.append(message)

    @property
    def final(self) -> WriteUpdate:
        assert self.updates and self.updates[-1].piece is not None
        return self.updates[-1]


@pytest.fixture
async def parts(tiny_gpt2_dir, tmp_path):
    generation = GenerationService(
        ModelSettings(name=str(tiny_gpt2_dir)),
        GenerationSettings(max_new_tokens_cap=400, max_prompt_tokens=96),
    )
    await generation.start()
    database = await Database.open(tmp_path / "flow.db")
    try:
        yield generation, database
    finally:
        await generation.close()
        await database.close()


def make_flow(parts, *, cooldown: float = 0.0, max_per_guild: int = 0) -> WriteFlow:
    generation, database = parts
    gate = FairnessGate(database, max_per_guild=max_per_guild)
    return WriteFlow(WritingService(generation), database, gate, cooldown_seconds=cooldown)


def draft(tokens: int = 8, seed: int = 1) -> Draft:
    spec = PieceSpec(form=Form.GENERATE, text="The sea at night")
    return Draft(spec, SamplingParams(max_new_tokens=tokens, seed=seed))


def member(user_id: int, guild_id: int | None = GUILD) -> Requester:
    return Requester.user(user_id, f"user{user_id}", guild_id=guild_id, channel_id=5)


async def test_a_piece_is_written_recorded_and_attributed(parts):
    flow = make_flow(parts)
    destination = Recorded()
    record = await flow.write(member(1), destination, draft())
    assert destination.accepted
    assert record is not None and destination.final.record == record
    assert record.user_id == 1 and record.guild_id == GUILD and record.channel_id == 5
    assert record.text == destination.final.piece.text


async def test_a_guild_cooldown_of_zero_cannot_shorten_the_operators(parts):
    _, database = parts
    await database.guild_settings.update(GUILD, cooldown_seconds=0)
    flow = make_flow(parts, cooldown=600)
    await flow.write(member(1), Recorded(), draft())
    with pytest.raises(RateLimited, match="wait"):
        await flow.write(member(1), Recorded(), draft())


async def test_a_guild_may_lengthen_the_cooldown_for_itself_only(parts):
    _, database = parts
    await database.guild_settings.update(GUILD, cooldown_seconds=3600)
    flow = make_flow(parts, cooldown=0)
    await flow.write(member(1), Recorded(), draft())
    with pytest.raises(RateLimited, match="wait 3600 more seconds"):
        await flow.write(member(1), Recorded(), draft())
    # The same user elsewhere is not held back by that server's choice.
    await flow.write(member(1, guild_id=GUILD + 1), Recorded(), draft())
    await flow.write(member(1, guild_id=None), Recorded(), draft())


async def test_a_game_is_not_held_back_by_a_persons_cooldown(parts):
    flow = make_flow(parts, cooldown=600)
    game = Requester.game(9, host_id=1, guild_id=GUILD, channel_id=5)
    first = await flow.write(game, Recorded(), draft())
    await flow.write(game, Recorded(), draft())
    # Filed under the host, who keeps their own cooldown.
    assert first is not None and first.user_id == 1
    await flow.write(member(1), Recorded(), draft())
    with pytest.raises(RateLimited):
        await flow.write(member(1), Recorded(), draft())


async def test_a_draft_that_is_not_recorded_is_shown_but_not_stored(parts):
    _, database = parts
    flow = make_flow(parts)
    destination = Recorded()
    unrecorded = dataclasses.replace(draft(), record=False)
    assert await flow.write(member(1), destination, unrecorded) is None
    assert destination.final.piece is not None and destination.final.unsaved_reason is None
    assert await database.generations.count_for_user(1) == 0


async def test_one_busy_guild_cannot_take_the_whole_writer(parts, monkeypatch):
    generation, _ = parts
    write_every_token(generation, monkeypatch)
    flow = make_flow(parts, max_per_guild=2)
    long_ones = [Recorded(), Recorded()]
    tasks = [
        asyncio.create_task(flow.write(member(n), long_ones[n], draft(tokens=300)))
        for n in range(2)
    ]
    await asyncio.wait_for(long_ones[0].started.wait(), 20)
    with pytest.raises(ServiceBusy, match="already has 2 pieces"):
        await flow.write(member(3), Recorded(), draft())
    other = Recorded()
    await flow.write(member(4, guild_id=GUILD + 1), other, draft())  # another server gets in
    assert other.final.record is not None
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_shutdown_refuses_new_work_and_stops_what_outlives_the_grace(parts, monkeypatch):
    generation, _ = parts
    write_every_token(generation, monkeypatch)
    flow = make_flow(parts)
    long_piece = Recorded()
    running = asyncio.create_task(flow.write(member(1), long_piece, draft(tokens=400)))
    await asyncio.wait_for(long_piece.started.wait(), 20)
    closing = asyncio.create_task(flow.close(grace_seconds=0.2))
    await asyncio.sleep(0)
    with pytest.raises(ShuttingDown, match="restarting"):
        await flow.write(member(2), Recorded(), draft())
    await asyncio.wait_for(closing, 15)
    # The piece was stopped, not its caller: the caller hears why and carries on.
    with pytest.raises(PieceStopped):
        await asyncio.wait_for(running, 5)
    assert not running.cancelled()
    assert long_piece.stopped == [STOPPED]
    assert await parts[1].generations.count_for_user(1) == 0


async def test_a_cancelled_caller_takes_its_piece_and_slot_with_it(parts, monkeypatch):
    generation, _ = parts
    write_every_token(generation, monkeypatch)
    flow = make_flow(parts)
    piece = Recorded()
    running = asyncio.create_task(flow.write(member(1), piece, draft(tokens=400)))
    await asyncio.wait_for(piece.started.wait(), 20)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert not any(update.piece for update in piece.updates)  # it never finished
    await flow.write(member(1), Recorded(), draft())  # the slot is free again


async def test_shutdown_lets_a_piece_finish_within_the_grace(parts):
    flow = make_flow(parts)
    piece = Recorded()
    running = asyncio.create_task(flow.write(member(1), piece, draft(tokens=6)))
    await asyncio.sleep(0)
    await asyncio.wait_for(flow.close(grace_seconds=30), 30)
    assert running.done() and not running.cancelled()
    assert piece.final.record is not None and piece.stopped == []
    _, database = parts  # and the writing slot was given back before close returned
    assert await database.slots.holder_of(("user", 1), now=time.time()) is None


async def test_a_piece_that_cannot_be_stored_is_still_shown_and_says_so(parts):
    _, database = parts
    # A real SQLite failure at the moment of recording, as a full disk would give.
    with contextlib.closing(sqlite3.connect(database.path)) as other:
        other.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON generations "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;"
        )
        other.commit()
    flow = make_flow(parts)
    destination = Recorded()
    assert await flow.write(member(1), destination, draft()) is None
    final = destination.final
    assert final.record is None and final.unsaved_reason == NOT_SAVED
    assert final.piece is not None and final.piece.text
    await flow.write(member(1), Recorded(), draft())  # the slot was released


async def test_erasing_holds_the_users_slot(parts, monkeypatch):
    generation, database = parts
    write_every_token(generation, monkeypatch)
    flow = make_flow(parts)
    await flow.write(member(1), Recorded(), draft())
    piece = Recorded()
    running = asyncio.create_task(flow.write(member(1), piece, draft(tokens=300)))
    await asyncio.wait_for(piece.started.wait(), 20)
    with pytest.raises(RateLimited, match="still writing a piece for you"):
        await flow.erase_user(1)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    counts = await flow.erase_user(1)
    assert counts.generations == 1
    assert await database.generations.count_for_user(1) == 0


async def test_words_whose_author_erased_them_mid_piece_are_not_stored(parts, monkeypatch):
    generation, _ = parts
    write_every_token(generation, monkeypatch)
    flow = make_flow(parts)
    spec = PieceSpec(form=Form.GENERATE, text="her private message")
    copied = Draft(spec, SamplingParams(max_new_tokens=300, seed=1), prompt_author_id=9)
    piece = Recorded()
    running = asyncio.create_task(flow.write(member(1), piece, copied))
    await asyncio.wait_for(piece.started.wait(), 20)
    await flow.erase_user(9)  # the message's author erases their data meanwhile
    record = await asyncio.wait_for(running, 30)
    assert record is not None and record.prompt == "" and record.prompt_redacted
    assert record.prompt_author_id == 9 and record.text  # the piece itself is kept
    # A piece started after the erase keeps its own prompt.
    later = await flow.write(member(1), Recorded(), draft())
    assert later is not None and later.prompt == "The sea at night"


async def test_a_refusal_after_a_slow_acknowledgement_replaces_the_placeholder(parts, monkeypatch):
    """The database was too slow to say in time, so the request was acknowledged first; the
    refusal then says why in the placeholder instead of leaving it waiting."""
    from bot.writing import fairness

    monkeypatch.setattr(fairness, "PATIENCE_SECONDS", 0.0)
    _, database = parts
    elsewhere = await database.slots.take(
        ("user", 1), "another process", lease="x", now=time.time(), lease_seconds=60
    )
    assert elsewhere is None
    destination = Recorded()
    with pytest.raises(RateLimited, match="still writing"):
        await make_flow(parts).write(member(1), destination, draft())
    assert destination.accepted and destination.updates == []
    assert destination.stopped and "still writing" in destination.stopped[0]


def test_a_request_that_reached_us_late_waits_less_for_its_slot() -> None:
    """Patience counts from when Discord made the interaction, keeping a second to answer."""
    from bot.writing.fairness import PATIENCE_SECONDS
    from bot.writing.flow import _patience

    class Late:
        def __init__(self, left: float) -> None:
            self.left = left

        def seconds_to_acknowledge(self) -> float:
            return self.left

    assert _patience(Late(2.9)) == PATIENCE_SECONDS
    assert _patience(Late(1.5)) == pytest.approx(0.5)
    assert _patience(Late(0.4)) == 0.0
    assert _patience(object()) is None  # type: ignore[arg-type]  (the gate's own)
