"""The game service with real SQLite, the real clock table and a tiny real model: moves are
stored, deadlines fire through the clock (also after a restart), and the AI plays through the
write flow."""

from __future__ import annotations

import asyncio

import pytest

from bot.clock.dispatcher import Dispatcher
from bot.config import GenerationSettings, ModelSettings
from bot.forms import PoemForm
from bot.games import rules
from bot.games.events import Event, Finished, TimedOut
from bot.games.model import Mode, Status
from bot.games.rules import GameError
from bot.games.service import GameService, NoGameHere, StoredGame
from bot.generation.service import GenerationService
from bot.storage import ANTHOLOGY_USER_ID, ChannelBusy, Database, GenerationRecord
from bot.writing.fairness import FairnessGate
from bot.writing.flow import WriteFlow
from bot.writing.pieces import WritingService
from tests.clock.test_dispatcher import FakeClock

GUILD, CHANNEL = 10, 20
HOST, ALICE, BOB = 1, 2, 3


class Table:
    """Keeps what the service showed, and hands out message ids."""

    def __init__(self) -> None:
        self.shown: list[tuple[StoredGame, tuple[Event, ...], GenerationRecord | None]] = []
        self._next_id = 500

    async def show(self, stored, events, poem):
        self.shown.append((stored, events, poem))
        self._next_id += 1
        return self._next_id

    def events(self) -> list[Event]:
        return [event for _, events, _ in self.shown for event in events]


@pytest.fixture
async def parts(tiny_gpt2_dir, tmp_path):
    generation = GenerationService(
        ModelSettings(name=str(tiny_gpt2_dir)),
        GenerationSettings(max_new_tokens_cap=64, max_prompt_tokens=256),
    )
    await generation.start()
    database = await Database.open(tmp_path / "games.db")
    try:
        yield generation, database, tmp_path
    finally:
        await generation.close()
        await database.close()


def make_service(parts, clock: FakeClock, table: Table | None = None):
    generation, database, _ = parts
    flow = WriteFlow(
        WritingService(generation), database, FairnessGate(database), cooldown_seconds=60
    )
    dispatcher = Dispatcher(database, clock)
    service = GameService(database, flow, dispatcher, table or Table(), clock=clock)
    service.attach()
    return service, dispatcher


async def open_game(service, *, mode=Mode.ROUND_ROBIN, ai=False, lines=4, form=PoemForm.FREE):
    settings = rules.settings_for(mode, form, lines, 60, ai)
    return await service.open(
        settings, host_id=HOST, host_name="Hana", guild_id=GUILD, channel_id=CHANNEL
    )


async def test_a_round_robin_duet_with_the_ai_is_played_and_lands_in_the_anthology(parts):
    clock = FakeClock()
    table = Table()
    service, dispatcher = make_service(parts, clock, table)
    stored = await open_game(service, ai=True, lines=3)
    assert stored.message_id is None and table.shown  # the lobby was shown
    stored = await service.start(stored.id, HOST)
    stored = await service.add_line(stored.id, HOST, "the harbour lamps are low")
    assert stored.game.ai_work is not None
    # The AI's turn is a timer due now: the clock fires it and the AI writes through the flow.
    assert await dispatcher.run_due() == 1
    stored = await service.in_channel(CHANNEL)
    assert len(stored.game.lines) == 2 and stored.game.lines[1].by_ai
    stored = await service.add_line(stored.id, HOST, "and the gulls go home")
    # The poem is complete: the AI suggests a title, then it is stored.
    await dispatcher.run_due()
    final = await service.get(stored.id)
    assert final is not None and final.game.status is Status.FINISHED
    assert final.game.title
    _, events, poem = table.shown[-1]
    assert isinstance(events[-1], Finished) and poem is not None
    assert poem.user_id == ANTHOLOGY_USER_ID
    assert poem.text.splitlines()[0] == "the harbour lamps are low"
    _, database, _ = parts
    entry = await database.games.anthology_poem(poem.id)
    assert entry is not None and [line.by_ai for line in entry.lines] == [False, True, False]
    with pytest.raises(NoGameHere):
        await service.in_channel(CHANNEL)


async def test_one_game_per_channel(parts):
    service, _ = make_service(parts, FakeClock())
    await open_game(service)
    with pytest.raises(ChannelBusy):
        await open_game(service)


async def test_a_turn_deadline_fires_through_the_clock_and_skips_without_ai(parts):
    clock = FakeClock()
    table = Table()
    service, dispatcher = make_service(parts, clock, table)
    stored = await open_game(service)
    await service.join(stored.id, ALICE, "Alice")
    stored = await service.start(stored.id, HOST)
    clock.current += 59
    assert await dispatcher.run_due() == 0
    clock.current += 2
    assert await dispatcher.run_due() == 1
    stored = await service.in_channel(CHANNEL)
    assert stored.game.current_seat is not None and stored.game.current_seat.user_id == ALICE
    assert any(isinstance(e, TimedOut) and e.first_time for e in table.events())


async def test_a_deadline_that_passed_while_the_bot_was_down_fires_once_on_start(parts):
    clock = FakeClock()
    first, _ = make_service(parts, clock)
    stored = await open_game(first)
    await first.join(stored.id, ALICE, "Alice")
    await first.start(stored.id, HOST)
    # The bot is down for an hour; a new process (new service, new clock) starts.
    clock.current += 3600
    table = Table()
    second, dispatcher = make_service(parts, clock, table)
    assert await dispatcher.run_due() == 1
    assert await dispatcher.run_due() == 0
    stored = await second.in_channel(CHANNEL)
    assert stored.game.current_seat is not None and stored.game.current_seat.user_id == ALICE
    timed_out = [e for e in table.events() if isinstance(e, TimedOut)]
    assert len(timed_out) == 1


async def test_two_players_at_once_one_wins_and_the_other_is_told(parts):
    service, _ = make_service(parts, FakeClock())
    stored = await open_game(service)
    await service.join(stored.id, ALICE, "Alice")
    stored = await service.start(stored.id, HOST)
    turn = stored.game.turn
    results = await asyncio.gather(
        service.add_line(stored.id, HOST, "first", turn=turn),
        service.add_line(stored.id, HOST, "first again", turn=turn),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, GameError)]
    assert len(errors) == 1 and "already in" in errors[0].user_message
    stored = await service.in_channel(CHANNEL)
    assert [line.text for line in stored.game.lines] == ["first"]


async def test_a_move_raced_by_another_process_is_judged_again(parts):
    clock = FakeClock()
    one, _ = make_service(parts, clock)
    two, _ = make_service(parts, clock)  # a second process: its own locks, same database
    stored = await open_game(one)
    await one.join(stored.id, ALICE, "Alice")
    stored = await one.start(stored.id, HOST)
    _, database, _ = parts
    real_get = database.games.get
    raced = False

    async def get_then_race(game_id):
        # After this process read the game, the other process moves first.
        nonlocal raced
        row = await real_get(game_id)
        if not raced:
            raced = True
            await two.add_line(stored.id, HOST, "the other process wrote this")
        return row

    database.games.get = get_then_race
    try:
        with pytest.raises(GameError, match="Someone moved just before you"):
            await one.add_line(stored.id, HOST, "mine")
    finally:
        database.games.get = real_get
    final = await one.in_channel(CHANNEL)
    assert [line.text for line in final.game.lines] == ["the other process wrote this"]


async def test_a_vote_round_closes_on_its_deadline(parts):
    clock = FakeClock()
    table = Table()
    service, dispatcher = make_service(parts, clock, table)
    stored = await open_game(service, mode=Mode.VOTE, ai=True, lines=3)
    await service.join(stored.id, ALICE, "Alice")
    stored = await service.start(stored.id, HOST)
    await dispatcher.run_due()  # the AI proposes its lines
    stored = await service.in_channel(CHANNEL)
    assert stored.game.round is not None and stored.game.round.candidates
    await service.add_line(stored.id, ALICE, "alice proposes this")
    await service.vote(stored.id, HOST, 1, len(stored.game.round.candidates))
    clock.current += 61
    await dispatcher.run_due()
    stored = await service.in_channel(CHANNEL)
    assert [line.text for line in stored.game.lines] == ["alice proposes this"]
    assert stored.game.round is not None and stored.game.round.number == 2


async def test_players_acting_at_once_are_all_judged(parts):
    service, _ = make_service(parts, FakeClock())
    stored = await open_game(service, mode=Mode.VOTE)
    await asyncio.gather(
        service.join(stored.id, ALICE, "Alice"), service.join(stored.id, BOB, "Bob")
    )
    stored = await service.start(stored.id, HOST)
    await service.add_line(stored.id, ALICE, "alice's line")
    await service.add_line(stored.id, BOB, "bob's line")
    await asyncio.gather(
        service.vote(stored.id, HOST, 1, 0),
        service.vote(stored.id, BOB, 1, 0),
        service.vote(stored.id, ALICE, 1, 1),
    )
    stored = await service.in_channel(CHANNEL)
    assert {s.user_id for s in stored.game.seats} == {HOST, ALICE, BOB}
    assert stored.game.round is not None and stored.game.round.tally() == [2, 1]


async def test_erasing_a_player_clears_their_name_proposal_and_vote_in_open_games(parts):
    _, database, _ = parts
    service, _ = make_service(parts, FakeClock())
    flow = service._flow
    stored = await open_game(service, mode=Mode.VOTE)
    await service.join(stored.id, ALICE, "Alice Secretname")
    await service.join(stored.id, BOB, "Bob")
    stored = await service.start(stored.id, HOST)
    await service.add_line(stored.id, ALICE, "alice's private words")
    await service.add_line(stored.id, BOB, "bob's line")
    await service.vote(stored.id, ALICE, 1, 1)
    await service.vote(stored.id, HOST, 1, 0)
    await flow.erase_user(ALICE)
    stored = await service.in_channel(CHANNEL)
    assert stored.game.seat_of(ALICE) is not None
    assert "Secretname" not in str(stored.game)
    assert stored.game.round is not None
    assert [c.text for c in stored.game.round.candidates] == ["bob's line"]
    assert stored.game.round.votes == ()  # Alice's vote went; the host's was for her line
    row = await database.games.get(stored.id)
    assert row is not None and "Secretname" not in str(row.state)


async def test_a_title_from_a_players_first_words_is_erased_with_them(parts):
    _, database, _ = parts
    service, _ = make_service(parts, FakeClock())
    stored = await open_game(service, lines=3)
    await service.join(stored.id, ALICE, "Alice")
    stored = await service.start(stored.id, HOST)
    for user, text in ((HOST, "my very private opening"), (ALICE, "two"), (HOST, "three")):
        stored = await service.add_line(stored.id, user, text)
    assert stored.game.status is Status.FINISHED and stored.poem_id is not None
    poem = await database.generations.get(stored.poem_id)
    assert poem is not None and poem.prompt == "my very private opening"
    row = await database.games.get(stored.id)
    assert row is not None and "Hana" not in str(row.state)  # the seats are not kept
    await service._flow.erase_user(HOST)
    poem = await database.generations.get(stored.poem_id)
    assert poem is not None and "private" not in poem.prompt and "private" not in poem.text


async def test_lost_timers_are_given_back_by_the_sweep(parts):
    _, database, _ = parts
    clock = FakeClock()
    service, dispatcher = make_service(parts, clock)
    stored = await open_game(service)
    await service.join(stored.id, ALICE, "Alice")
    stored = await service.start(stored.id, HOST)
    # A crash between storing the move and scheduling its deadline.
    await database.timers.cancel("game.deadline", f"{stored.id}:{stored.game.turn}")
    await service.start_sweep()
    assert await dispatcher.run_due() == 1  # the sweep, which puts the deadline back
    clock.current += 61
    assert await dispatcher.run_due() == 1
    stored = await service.in_channel(CHANNEL)
    assert stored.game.current_seat is not None and stored.game.current_seat.user_id == ALICE


async def test_a_restart_mid_ai_line_retries_it_instead_of_skipping(parts):
    clock = FakeClock()
    service, dispatcher = make_service(parts, clock)
    stored = await open_game(service, ai=True)
    stored = await service.start(stored.id, HOST)
    await service.add_line(stored.id, HOST, "before the restart")
    service._flow._closing = True  # shutdown began: new pieces are refused
    await dispatcher.run_due()
    stored = await service.in_channel(CHANNEL)
    assert stored.game.ai_work is not None and stored.game.ai_attempts == 0
    # After the restart the same timer fires again (its lease ran out) and the AI writes.
    service._flow._closing = False
    clock.current += 31
    await dispatcher.run_due()
    stored = await service.in_channel(CHANNEL)
    assert len(stored.game.lines) == 2 and stored.game.lines[1].by_ai
