"""Running poem games: each move is applied by the pure rules, stored with a version check,
shown at the table, and its deadlines and AI work are handed to the clock.

Nothing lives only in memory. A game is read from the database for every move and written
back before anyone is told, the turn's deadline and the AI's pending work are timers, and the
buttons name the game (and the turn or round) in their ids. So a restart loses nothing: due
timers fire on start, and old buttons still work.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.clock.dispatcher import Clock, Dispatcher, TimerKind
from bot.errors import InkwellError, ServiceBusy
from bot.games import rules
from bot.games.ai import Captured, line_draft, title_draft
from bot.games.events import Event
from bot.games.lines import clean_ai_line
from bot.games.model import (
    AI_CANDIDATES,
    AIWork,
    Game,
    GameSettings,
    Line,
    Mode,
    Status,
    state_from_json,
    state_to_json,
)
from bot.games.rules import GameError, Outcome
from bot.storage import (
    Database,
    GameLine,
    GameRow,
    GenerationRecord,
    NewGeneration,
    Timer,
)
from bot.writing.destination import DestinationGone
from bot.writing.drafts import Draft
from bot.writing.fairness import RateLimited
from bot.writing.flow import PieceStopped, ShuttingDown, WriteFlow
from bot.writing.requester import Requester

log = logging.getLogger(__name__)

DEADLINE_TIMER = "game.deadline"
AI_TIMER = "game.ai"
SWEEP_TIMER = "game.sweep"
# How often running games are checked for the timers their state needs.
SWEEP_SECONDS = 300.0
# Busy writers are waited out this many timer attempts before the AI's work counts as failed.
AI_BUSY_ATTEMPTS = 4
MOVE_ATTEMPTS = 3


class NoGameHere(GameError):
    """The channel has no open game."""


@dataclass(frozen=True)
class StoredGame:
    """A game with where it lives and its stored version."""

    id: int
    guild_id: int | None
    channel_id: int
    parent_channel_id: int | None
    version: int
    message_id: int | None
    poem_id: int | None
    game: Game

    @property
    def requester(self) -> Requester:
        """The game as the write flow's requester (its AI's lines are the game's)."""
        return Requester.game(
            self.id, self.game.host_id, self.guild_id, self.channel_id, self.parent_channel_id
        )


class GameTable(Protocol):
    """Where games are shown: a Discord channel, or the console."""

    async def show(
        self, stored: StoredGame, events: tuple[Event, ...], poem: GenerationRecord | None
    ) -> int | None:
        """Show the game after a move (``poem`` once it is finished and stored). Returns the
        id of the message that now carries the game's buttons, when it changed. Raises
        ``DestinationGone`` when the game's channel can no longer be written to."""
        ...


class GameService:
    """Starts games, applies moves, and plays the AI's part. Its timers fire once
    ``timer_kinds()`` are registered with the dispatcher (``attach``)."""

    def __init__(
        self,
        database: Database,
        flow: WriteFlow,
        dispatcher: Dispatcher,
        table: GameTable,
        *,
        clock: Clock,
        seed_source: Callable[[], int] = lambda: secrets.randbelow(1_000_000),
    ) -> None:
        self._db = database
        self._flow = flow
        self._dispatcher = dispatcher
        self._table = table
        self._clock = clock
        self._seed = seed_source
        self._locks: dict[int, asyncio.Lock] = {}

    def attach(self) -> None:
        """Let the clock fire the games' deadlines and AI work, and hear of erasures."""
        self._dispatcher.register(
            TimerKind(DEADLINE_TIMER, self._fire_deadline),
            # A busy writer is waited out after a short lease, not two minutes.
            TimerKind(AI_TIMER, self._fire_ai, lease_seconds=30),
            TimerKind(SWEEP_TIMER, self._fire_sweep),
        )
        self._flow.add_erase_hook(self.forget_user)

    async def start_sweep(self) -> None:
        """Make sure the sweep runs (it also runs at once, so a game whose timers were lost
        to a crash between a move and its timers goes on after the restart)."""
        if await self._db.timers.get(SWEEP_TIMER, "all") is None:
            await self._dispatcher.schedule(SWEEP_TIMER, "all", self._now())

    async def replan(self) -> int:
        """Give every running game the timers its state needs but lacks; returns how many
        were missing."""
        missing = 0
        for row in await self._db.games.open_games():
            stored = _stored(row)
            if stored.game.status is Status.RUNNING:
                missing += await self._plan(stored, only_missing=True)
        if missing:
            log.warning("Gave %d poem-game timer(s) back to running games", missing)
        return missing

    def detach(self) -> None:
        """Stop both (the games cog is unloaded); the timers wait in the table."""
        self._dispatcher.unregister(DEADLINE_TIMER, AI_TIMER, SWEEP_TIMER)
        self._flow.remove_erase_hook(self.forget_user)

    async def forget_user(self, user_id: int) -> None:
        """A member erased their data: open games forget their name, proposal and vote
        (their lines were blanked with the rest of their data)."""
        for row in await self._db.games.open_games():
            game = _stored(row).game
            holds = game.seat_of(user_id) is not None or (
                game.round is not None
                and any(c.author_id == user_id for c in game.round.candidates)
            )
            if holds:
                await self._move(row.id, lambda g: (rules.forget(g, user_id), ()))

    # --- reading ---------------------------------------------------------------------------

    async def get(self, game_id: int) -> StoredGame | None:
        """A game by id, or None."""
        row = await self._db.games.get(game_id)
        return None if row is None else _stored(row)

    async def in_channel(self, channel_id: int) -> StoredGame:
        """The channel's open game; raises ``NoGameHere`` with a hint when there is none."""
        row = await self._db.games.open_in_channel(channel_id)
        if row is None:
            raise NoGameHere(
                "There's no poem game in this channel. Start one with /poemgame start."
            )
        return _stored(row)

    # --- moves -----------------------------------------------------------------------------

    async def open(
        self,
        settings: GameSettings,
        *,
        host_id: int,
        host_name: str,
        guild_id: int | None,
        channel_id: int,
        parent_channel_id: int | None = None,
    ) -> StoredGame:
        """Open a lobby in the channel (one open game per channel) and show it."""
        if self._flow.closing:
            raise InkwellError(
                "Inkwell is restarting right now. Please start the game in a minute."
            )
        place = Requester.user(host_id, host_name, guild_id, channel_id, parent_channel_id)
        self._flow.check_channel(place)
        if settings.ai:  # Inkwell can't take a seat while its writer rests
            self._flow.writing.require_ready()
        game = rules.new_game(settings, host_id, host_name)
        row = await self._db.games.create(
            guild_id,
            channel_id,
            host_id,
            settings.mode.value,
            settings.form.value,
            _state(game, parent_channel_id),
        )
        stored = _stored(row)
        try:
            message_id = await self._table.show(stored, (), None)
        except DestinationGone:
            await self._abandon(stored)
            raise InkwellError(
                "I can't post in this channel, so I can't host a game here."
            ) from None
        if message_id is not None:
            await self._db.games.set_message(stored.id, message_id)
        return stored

    async def join(self, game_id: int, user_id: int, name: str) -> StoredGame:
        """Take a seat in the lobby."""
        return await self._move(game_id, lambda g: rules.join(g, user_id, name))

    async def leave(self, game_id: int, user_id: int) -> StoredGame:
        """Leave the game."""
        return await self._move(game_id, lambda g: rules.leave(g, user_id, self._now()))

    async def start(self, game_id: int, user_id: int) -> StoredGame:
        """The host starts the game."""
        return await self._move(game_id, lambda g: rules.start(g, user_id, self._now()))

    async def cancel(self, game_id: int, user_id: int, *, moderator: bool = False) -> StoredGame:
        """The host calls the lobby off."""
        return await self._move(game_id, lambda g: rules.cancel(g, user_id, moderator=moderator))

    async def add_line(
        self, game_id: int, user_id: int, text: str, *, turn: int | None = None
    ) -> StoredGame:
        """A player's line (or their proposal in a voting round)."""
        return await self._move(
            game_id, lambda g: rules.add_line(g, user_id, text, self._now(), turn=turn)
        )

    async def vote(self, game_id: int, user_id: int, round_number: int, index: int) -> StoredGame:
        """A vote in the open round."""
        return await self._move(game_id, lambda g: rules.vote(g, user_id, round_number, index))

    async def skip(self, game_id: int, user_id: int, *, moderator: bool = False) -> StoredGame:
        """Pass the turn on (or close the voting round now)."""
        seed = self._seed()
        return await self._move(
            game_id,
            lambda g: rules.skip(g, user_id, self._now(), moderator=moderator, seed=seed),
        )

    async def end(self, game_id: int, user_id: int, *, moderator: bool = False) -> StoredGame:
        """End the game now."""
        return await self._move(game_id, lambda g: rules.end(g, user_id, moderator=moderator))

    async def _move(self, game_id: int, move: Callable[[Game], Outcome]) -> StoredGame:
        """Apply ``move`` to the stored game and store the result, if the game is still the
        version the move was applied to; otherwise apply it again to the newer game, so two
        players acting at once are both judged, one after the other. The one the rules then
        refuse is told what happened."""
        async with self._lock(game_id):
            raced = False
            for _ in range(MOVE_ATTEMPTS):
                row = await self._db.games.get(game_id)
                if row is None:
                    raise GameError("That game no longer exists.")
                stored = _stored(row)
                try:
                    game, events = move(stored.game)
                except GameError as error:
                    if raced:
                        message = f"Someone moved just before you. {error.user_message}"
                        raise type(error)(message) from None
                    raise
                if game == stored.game and not events:
                    return stored
                saved = await self._save(stored, game, events)
                if saved is not None:
                    return saved
                raced = True
            raise GameError("A lot is happening in this game at once. Please try again.")

    async def _save(
        self, stored: StoredGame, game: Game, events: tuple[Event, ...]
    ) -> StoredGame | None:
        new_lines = [
            _game_line(position, line)
            for position, line in enumerate(game.lines)
            if position >= len(stored.game.lines)
        ]
        # An ended game keeps its poem, not who sat where.
        kept = game if game.is_open else rules.scrubbed(game)
        state = _state(kept, stored.parent_channel_id)
        poem: GenerationRecord | None = None
        if game.status is Status.FINISHED:
            finished = await self._db.games.finish(
                stored.id,
                stored.version,
                state=state,
                new_lines=new_lines,
                poem=self._poem(stored, game),
            )
            if finished is None:
                return None
            row, poem = finished
        else:
            saved_row = await self._db.games.save(
                stored.id,
                stored.version,
                status=game.status.value,
                state=state,
                new_lines=new_lines,
            )
            if saved_row is None:
                return None
            row = saved_row
        saved = dataclasses.replace(_stored(row), game=game)
        if game.turn != stored.game.turn:
            try:
                await self._plan(saved)
            except Exception:
                # The move stands; the sweep gives the game its timers back.
                log.exception("Game %d: scheduling turn %d failed", saved.id, game.turn)
        await self._show(saved, events, poem)
        return saved

    async def _plan(self, stored: StoredGame, *, only_missing: bool = False) -> int:
        """Hand the turn's deadline and the AI's work to the clock; returns how many timers
        were set. Timers of earlier turns are left to fire as no-ops: cancelling one that is
        firing would only race it. ``only_missing`` leaves timers that exist (and their
        claims) alone."""
        game = stored.game
        if game.status is not Status.RUNNING:
            return 0
        key = f"{stored.id}:{game.turn}"
        payload: dict[str, object] = {"game_id": stored.id, "turn": game.turn}
        wanted: list[tuple[str, float]] = []
        if game.deadline is not None:
            wanted.append((DEADLINE_TIMER, game.deadline))
        if game.ai_work is not None:
            wanted.append((AI_TIMER, self._now()))
        set_now = 0
        for kind, due in wanted:
            if only_missing and await self._db.timers.get(kind, key) is not None:
                continue
            await self._dispatcher.schedule(kind, key, due, payload, guild_id=stored.guild_id)
            set_now += 1
        return set_now

    async def _fire_sweep(self, timer: Timer) -> float:
        await self.replan()
        return self._now() + SWEEP_SECONDS

    async def _show(
        self, stored: StoredGame, events: tuple[Event, ...], poem: GenerationRecord | None
    ) -> None:
        try:
            message_id = await self._table.show(stored, events, poem)
        except DestinationGone as gone:
            log.warning("Game %d: its channel is gone (%s); ending it", stored.id, gone)
            await self._abandon(stored)
            return
        except Exception:
            # The move is stored; the next one redraws the table.
            log.exception("Game %d: showing the move failed", stored.id)
            return
        if message_id is not None and message_id != stored.message_id:
            await self._db.games.set_message(stored.id, message_id)

    async def _abandon(self, stored: StoredGame) -> None:
        """Stop a game whose channel is gone, without showing anything."""
        row = await self._db.games.get(stored.id)
        if row is None or not row.is_open:
            return
        current = _stored(row)
        stopped = rules.abandon(current.game, "The game's channel could no longer be reached.")
        await self._db.games.save(
            stored.id,
            row.version,
            status=stopped.status.value,
            state=_state(stopped, current.parent_channel_id),
        )

    def _poem(self, stored: StoredGame, game: Game) -> NewGeneration:
        return NewGeneration(
            user_id=stored.game.host_id,  # storage files it under the anthology
            user_name="Poem game",
            guild_id=stored.guild_id,
            channel_id=stored.channel_id,
            form="poem",
            prompt=game.title or "",
            params={"game_id": stored.id, "mode": game.settings.mode.value},
            seed=0,
            # A game resumed while the writer rests (its model failed to load) still keeps
            # its poem: the players' lines are there, whoever wrote the rest.
            model=(self._flow.writing.model_name or "unknown model")
            if game.settings.ai
            else "people",
            text="",
            poem_form=game.settings.form.value,
            prompt_author_id=_title_author(game),
        )

    # --- the clock -------------------------------------------------------------------------

    async def _fire_deadline(self, timer: Timer) -> None:
        game_id, turn = int(timer.payload["game_id"]), int(timer.payload["turn"])
        stored = await self.get(game_id)
        if stored is None or stored.game.turn != turn or stored.game.status is not Status.RUNNING:
            return None
        game = stored.game
        now = self._now()
        if game.settings.mode is Mode.VOTE and game.round is not None:
            number, seed = game.round.number, self._seed()
            await self._move(game_id, lambda g: rules.close_round(g, number, seed, now))
        else:
            await self._move(game_id, lambda g: rules.timeout(g, turn, now))
        return None

    async def _fire_ai(self, timer: Timer) -> None:
        game_id, turn = int(timer.payload["game_id"]), int(timer.payload["turn"])
        while True:
            stored = await self.get(game_id)
            if stored is None:
                return None
            game = stored.game
            if game.status is not Status.RUNNING or game.turn != turn or game.ai_work is None:
                return None
            try:
                move = await self._ai_move(stored, turn)
            except (PieceStopped, ShuttingDown):
                raise  # a restart: the clock retries after it, nothing is lost
            except (ServiceBusy, RateLimited):
                if timer.attempts < AI_BUSY_ATTEMPTS:
                    raise  # the writer is busy: try again after the lease
                move = None
            except Exception:
                log.exception("Game %d: the AI's work for turn %d failed", game_id, turn)
                move = None
            if move is not None:
                try:
                    await self._move(game_id, move)
                    return None
                except rules.StaleMove:
                    return None  # the game moved on while the AI wrote
                except InkwellError as error:
                    log.info("Game %d: the AI's answer was refused: %s", game_id, error)
            after = await self._move(game_id, lambda g: rules.ai_failed(g, turn, self._now()))
            if after.game.turn != turn or after.game.ai_work is None:
                return None  # skipped with a note, or the game moved on

    async def _ai_move(self, stored: StoredGame, turn: int) -> Callable[[Game], Outcome] | None:
        """Write what the AI owes, and return the move that applies it (None if nothing
        usable came back)."""
        game = stored.game
        if game.ai_work is AIWork.TITLE:
            title = await self._write(stored, title_draft(game))
            return None if not title else (lambda g: rules.ai_title(g, turn, title))
        if game.ai_work is AIWork.CANDIDATES:
            texts: list[str] = []
            for _ in range(AI_CANDIDATES):
                line = clean_ai_line(await self._write(stored, line_draft(game)) or "")
                if line:
                    texts.append(line)
            return None if not texts else (lambda g: rules.ai_candidates(g, turn, texts))
        line = await self._fresh_line(stored, game)
        now = self._now()
        return None if not line else (lambda g: rules.ai_line(g, turn, line, now))

    async def _fresh_line(self, stored: StoredGame, game: Game) -> str | None:
        """The AI's line, written again once if it only repeats a line of the poem (a small
        model likes a refrain more than readers do)."""
        written = {line.text.casefold() for line in game.lines}
        line: str | None = None
        for _ in range(2):
            line = clean_ai_line(await self._write(stored, line_draft(game)) or "")
            if line and line.casefold() not in written:
                return line
        return line

    async def _write(self, stored: StoredGame, draft: Draft) -> str | None:
        captured = Captured()
        await self._flow.write(stored.requester, captured, draft)
        return captured.text

    # --- helpers ---------------------------------------------------------------------------

    def _now(self) -> float:
        return self._clock.now()

    def _lock(self, game_id: int) -> asyncio.Lock:
        lock = self._locks.get(game_id)
        if lock is None:
            if len(self._locks) > 1024:  # forget idle games' locks
                self._locks = {k: v for k, v in self._locks.items() if v.locked()}
            lock = self._locks[game_id] = asyncio.Lock()
        return lock


def _title_author(game: Game) -> int | None:
    """Whose words the title is, so that erasing them erases it: the host's own title, or
    the first words of a player's first line."""
    if game.settings.title is not None:
        return game.host_id
    first = next((line for line in game.lines if line.text), None)
    if first is not None and not first.by_ai and game.title == rules.default_title(game):
        return first.author_id
    return None


def _state(game: Game, parent_channel_id: int | None) -> dict[str, Any]:
    return {**state_to_json(game), "parent_channel_id": parent_channel_id}


def _stored(row: GameRow) -> StoredGame:
    lines = tuple(
        Line(line.author_id, line.author_name, line.text, line.by_ai) for line in row.lines
    )
    return StoredGame(
        id=row.id,
        guild_id=row.guild_id,
        channel_id=row.channel_id,
        parent_channel_id=row.state.get("parent_channel_id"),
        version=row.version,
        message_id=row.message_id,
        poem_id=row.poem_id,
        game=state_from_json(row.state, lines),
    )


def _game_line(position: int, line: Line) -> GameLine:
    return GameLine(
        position=position,
        author_id=line.author_id,
        author_name=line.author_name,
        text=line.text,
        by_ai=line.by_ai,
    )
