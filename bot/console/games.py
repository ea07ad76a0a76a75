"""Poem games in the console: the same games as on Discord, with named seats at one terminal.

``/poemgame start mode:round-robin form:haiku ai:yes`` opens a lobby as you; ``/as alice
/poemgame join`` seats someone else; ``/poemgame begin`` starts (the Start button), then
``/poemgame add line:…`` (or ``/as alice /poemgame add …``), ``vote N``, ``status``, ``skip``,
``end``, ``leave`` and ``cancel``. The AI's turns run through the same clock as on Discord:
after each command the console lets due timers fire, so the AI answers at once. Finished poems
go to the same anthology (``/anthology list|show id``).
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Callable
from typing import TextIO

from bot.clock.dispatcher import Dispatcher
from bot.console.parsing import number_option, parse_options, yes_option
from bot.errors import InvalidRequest
from bot.forms import PoemForm
from bot.games import rules
from bot.games.anthology import line_author, poem_authors
from bot.games.events import (
    AISkipped,
    CandidateAdded,
    Event,
    Finished,
    Joined,
    Left,
    LineAdded,
    RoundClosed,
    Started,
    TimedOut,
)
from bot.games.model import AI_NAME, AIWork, Mode, Status
from bot.games.service import GameService, StoredGame
from bot.storage import CONSOLE_USER_ID, Database, GenerationRecord, NotFound
from bot.writing.flow import WriteFlow

# The console is one channel with no guild; its own user sits as "console", as it is named
# on the pieces it writes.
CONSOLE_NAME = "console"
CONSOLE_CHANNEL_ID = 0
START_OPTIONS = ("mode", "form", "lines", "turn_timeout", "ai", "title")
DEFAULT_TURN_TIMEOUT = 3600  # a terminal game waits for people to type
# How many timer rounds one command may trigger (the AI answering, then titling, ...).
MAX_SETTLE_ROUNDS = 20

GAME_HELP = (
    "/poemgame start mode:round-robin|corpse|vote form:free|haiku|quatrain|limerick|sonnet "
    "lines:? turn_timeout:? ai:yes|no title:? — open a game",
    "/as NAME /poemgame join — seat someone else (any command works after /as NAME)",
    "/poemgame begin | add line:… | vote N | status | skip | end | leave | cancel",
    "/anthology list | show id — the finished poems",
)


def seat_id(name: str) -> int:
    """A stable id for a named console seat (you are ``CONSOLE_USER_ID``)."""
    return 1 + zlib.crc32(name.casefold().encode()) % 1_000_000_000


class ConsoleTable:
    """Prints each move of the console's game."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self._say = say

    async def show(
        self, stored: StoredGame, events: tuple[Event, ...], poem: GenerationRecord | None
    ) -> int | None:
        """Print what changed."""
        game = stored.game
        corpse = game.settings.mode is Mode.CORPSE
        if game.status is Status.LOBBY and not events:
            names = ", ".join(seat.name for seat in game.seats)
            self._say(f"📜 Game #{stored.id} is open ({_settings(stored)}). At the table: {names}.")
        for event in events:
            line = _event_line(stored, event, corpse)
            if line:
                self._say(line)
        if game.status is Status.FINISHED and poem is not None:
            self._say(f"📜 {game.title or 'Untitled'}  (poem #{poem.id})")
            for line in game.lines:
                self._say(f"    {line.text}")
            authors = dict.fromkeys(_author(line.by_ai, line.author_name) for line in game.lines)
            self._say("    — " + ", ".join(authors))
        elif game.status is Status.RUNNING and any(
            isinstance(e, Started | LineAdded | TimedOut | RoundClosed | AISkipped | Left)
            for e in events
        ):
            self._say(_now(stored))
        return None


class ConsoleGames:
    """The /poemgame and /anthology commands of the console."""

    def __init__(
        self,
        service: GameService,
        dispatcher: Dispatcher,
        database: Database,
        say: Callable[[str], None],
    ) -> None:
        self._service = service
        self._dispatcher = dispatcher
        self._database = database
        self._say = say
        self._started = False

    async def poemgame(self, rest: str, as_name: str | None) -> None:
        """Run ``/poemgame …`` for you, or for the named seat."""
        if not self._started:
            await self._service.start_sweep()
            self._started = True
        user_id = CONSOLE_USER_ID if as_name is None else seat_id(as_name)
        name = as_name or CONSOLE_NAME
        action, _, argument = rest.strip().partition(" ")
        action = action.lower()
        if action == "start":
            await self._start(argument, user_id, name)
        elif action in ("join", "begin", "leave", "cancel", "status", "skip", "end"):
            if argument.strip():
                raise InvalidRequest(f"/poemgame {action} takes no options.")
            await self._simple(action, user_id, name)
        elif action == "add":
            options = parse_options("/poemgame add", argument, ("line",), "line")
            stored = await self._current()
            await self._service.add_line(stored.id, user_id, options.get("line", ""))
        elif action == "vote":
            stored = await self._current()
            number = number_option("/poemgame vote", argument, "line number")
            if stored.game.round is None:
                raise InvalidRequest("This game has no vote.")
            await self._service.vote(stored.id, user_id, stored.game.round.number, number - 1)
            self._say(f"🗳 {name} voted for line {number}.")
        else:
            raise InvalidRequest(
                "Try /poemgame start, join, begin, add line:…, vote N, status, skip, end, "
                "leave or cancel."
            )
        await self.settle()

    async def anthology(self, rest: str) -> None:
        """``/anthology list`` or ``/anthology show id`` (the console's own poems)."""
        action, _, argument = rest.strip().partition(" ")
        if action.lower() in ("", "list"):
            poems = await self._database.games.anthology(None, limit=20)
            if not poems:
                self._say("The anthology is empty: finish a /poemgame first.")
            for entry in poems:
                authors = ", ".join(poem_authors(entry))
                self._say(f"#{entry.record.id} {entry.record.prompt or 'Untitled'} — by {authors}")
            return
        if action.lower() == "show":
            poem_id = number_option("/anthology show", argument)
            entry = await self._database.games.anthology_poem(poem_id)
            if entry is None or entry.record.guild_id is not None:
                raise NotFound(f"There's no poem #{poem_id} in the console's anthology.")
            self._say(f"📜 {entry.record.prompt or 'Untitled'}  (poem #{entry.record.id})")
            for line in entry.lines:
                self._say(f"    {line.text}   [{line_author(line)}]")
            return
        raise InvalidRequest("Try /anthology list or /anthology show id.")

    async def settle(self) -> None:
        """Let due timers fire (the AI's turn, its title) until none is left."""
        for _ in range(MAX_SETTLE_ROUNDS):
            if not await self._dispatcher.run_due():
                return

    async def _start(self, argument: str, user_id: int, name: str) -> None:
        options = parse_options("/poemgame start", argument, START_OPTIONS, None)
        try:
            mode = Mode(options.get("mode", Mode.ROUND_ROBIN.value).lower())
            form = PoemForm(options.get("form", PoemForm.FREE.value).lower())
        except ValueError:
            raise InvalidRequest(
                "mode is round-robin, corpse or vote; form is free, haiku, quatrain, limerick "
                "or sonnet."
            ) from None
        lines = (
            number_option("/poemgame start", options["lines"], "lines")
            if "lines" in options
            else None
        )
        timeout = (
            number_option("/poemgame start", options["turn_timeout"], "turn_timeout")
            if "turn_timeout" in options
            else DEFAULT_TURN_TIMEOUT
        )
        ai = yes_option("/poemgame start", options.get("ai", "yes"))
        settings = rules.settings_for(mode, form, lines, timeout, ai, options.get("title"))
        await self._service.open(
            settings, host_id=user_id, host_name=name, guild_id=None, channel_id=CONSOLE_CHANNEL_ID
        )

    async def _simple(self, action: str, user_id: int, name: str) -> None:
        stored = await self._current()
        service = self._service
        if action == "join":
            await service.join(stored.id, user_id, name)
        elif action == "begin":
            await service.start(stored.id, user_id)
        elif action == "leave":
            await service.leave(stored.id, user_id)
        elif action == "cancel":
            await service.cancel(stored.id, user_id)
        elif action == "skip":
            await service.skip(stored.id, user_id)
        elif action == "end":
            await service.end(stored.id, user_id)
        else:
            self._say(_status(stored, user_id))

    async def _current(self) -> StoredGame:
        return await self._service.in_channel(CONSOLE_CHANNEL_ID)


def _event_line(stored: StoredGame, event: Event, corpse: bool) -> str | None:
    if isinstance(event, Joined):
        return f"✋ {event.seat.name} joined."
    if isinstance(event, Started):
        return "▶️ The game has started."
    if isinstance(event, Left):
        return f"👋 {event.seat.name} left."
    if isinstance(event, LineAdded):
        who = _author(event.line.by_ai, event.line.author_name)
        if corpse:
            return f"✍ {who} wrote line {event.position + 1}."
        return f"  {event.position + 1}. {event.line.text}   [{who}]"
    if isinstance(event, TimedOut) and event.first_time:
        then = f"{AI_NAME} writes the line" if event.filled_by_ai else "the turn passes on"
        return f"⏰ {event.seat.name} ran out of time: {then}."
    if isinstance(event, AISkipped):
        return f"🤖 {AI_NAME} couldn't write its {event.what}, so it was skipped."
    if isinstance(event, CandidateAdded):
        return f"  candidate {event.index + 1}: {event.candidate.text}"
    if isinstance(event, RoundClosed):
        if event.winner is None:
            return f"🗳 Round {event.number}: nobody proposed a line."
        seed = f" (broken at random, seed {event.seed})" if event.seed is not None else ""
        return f"🗳 Round {event.number} won by “{event.winner.text}”{seed}."
    if isinstance(event, Finished) and event.note:
        return f"🏁 {event.note}"
    return None


def _now(stored: StoredGame) -> str:
    game = stored.game
    if game.ai_work is AIWork.TITLE:
        return f"🤖 {AI_NAME} is choosing a title…"
    if game.settings.mode is Mode.VOTE:
        return "🗳 Propose a line (/poemgame add line:…) or vote (/poemgame vote N)."
    seat = game.current_seat
    if game.ai_work is AIWork.LINE or seat is None:
        return f"🤖 {AI_NAME} is writing…"
    hint = ""
    if game.settings.mode is Mode.CORPSE and game.lines:
        hint = f" The line before: “{game.lines[-1].text}”"
    whose = "Your" if seat.user_id == CONSOLE_USER_ID else f"{seat.name}'s"
    return f"🖋 {whose} turn.{hint}"


def _status(stored: StoredGame, viewer_id: int) -> str:
    game = stored.game
    written = f"{len(game.lines)} of {game.settings.lines} lines"
    head = f"Game #{stored.id} ({_settings(stored)}): {written}."
    if game.status is Status.LOBBY:
        return f"{head} In the lobby: {', '.join(seat.name for seat in game.seats)}."
    return f"{head} {_now(stored)}"


def _settings(stored: StoredGame) -> str:
    settings = stored.game.settings
    return f"{settings.mode.value}, {settings.form.value}, {settings.lines} lines"


def _author(by_ai: bool, name: str) -> str:
    return f"{AI_NAME} (AI)" if by_ai else name


def console_out(out: TextIO) -> Callable[[str], None]:
    """Print a line to ``out``."""

    def say(text: str) -> None:
        print(text, file=out, flush=True)

    return say


def console_games(flow: WriteFlow, database: Database, out: TextIO = sys.stdout) -> ConsoleGames:
    """The console's games on its own clock (fired after each command, see ``settle``)."""
    say = console_out(out)
    dispatcher = Dispatcher(database)
    service = GameService(database, flow, dispatcher, ConsoleTable(say), clock=dispatcher.clock)
    service.attach()
    return ConsoleGames(service, dispatcher, database, say)
