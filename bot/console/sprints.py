"""Writing sprints in the console: the same sprints as on Discord, on the same clock.

``/sprint start minutes:1`` starts one as you; ``/as alice /sprint join`` seats someone else;
``/sprint wc words:N``, ``wrote words:N``, ``status``, ``leave``, ``cancel`` and ``stats``
work as on Discord. After each command the console lets due timers fire; at the interactive
prompt the clock also runs by itself, so pens down and the results arrive while you write.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

from bot.clock.dispatcher import Clock, Dispatcher
from bot.console.parsing import number_option, parse_options
from bot.errors import InvalidRequest
from bot.sprints.notices import Notice, Style, notice_text, stats_text, status_text
from bot.sprints.rules import DEFAULT_MAX_WPM
from bot.sprints.service import SprintService
from bot.storage import Database, SprintRow
from bot.writing.flow import WriteFlow

CONSOLE_CHANNEL_ID = 0
MAX_SETTLE_ROUNDS = 10
SPRINT_HELP = (
    "/sprint start minutes:1-120 delay:0-60? prompt:?|ai — a writing sprint (the clock runs)",
    "/sprint join starting_words:? | leave | wc words:N | wrote words:N | status | cancel | stats",
)


def console_style(clock: Clock) -> Style:
    """Names as typed; times as the clock time and how far off they are."""

    def when(moment: float) -> str:
        at = datetime.fromtimestamp(moment, UTC).strftime("%H:%M:%S UTC")
        seconds = round(moment - clock.now())
        if seconds <= 0:
            return f"now ({at})"
        return f"in {seconds // 60}m {seconds % 60:02d}s ({at})"

    return Style(escape=lambda text: text, when=when)


class ConsoleBoard:
    """Prints each sprint notice."""

    def __init__(self, say: Callable[[str], None], style: Style) -> None:
        self._say = say
        self._style = style

    async def post(self, sprint: SprintRow, notice: Notice) -> int | None:
        """Print the notice (the console has no message ids)."""
        self._say(notice_text(sprint, notice, self._style).replace("**", ""))
        return None


class ConsoleSprints:
    """The /sprint commands of the console."""

    def __init__(
        self,
        service: SprintService,
        dispatcher: Dispatcher,
        say: Callable[[str], None],
        style: Style,
    ) -> None:
        self._service = service
        self._dispatcher = dispatcher
        self._say = say
        self._style = style

    async def sprint(self, rest: str, user_id: int, name: str) -> None:
        """Run ``/sprint …`` for the given seat."""
        await self.settle()  # what came due while the console waited comes first
        action, _, argument = rest.strip().partition(" ")
        action = action.lower()
        where = f"/sprint {action}"
        service = self._service
        if action == "start":
            options = parse_options(where, argument, ("minutes", "delay", "prompt"), "minutes")
            minutes = number_option(where, options.get("minutes"), "minutes")
            delay = int(options["delay"]) if options.get("delay", "").isdigit() else 0
            await service.start(
                guild_id=None,
                channel_id=CONSOLE_CHANNEL_ID,
                user_id=user_id,
                user_name=name,
                minutes=minutes,
                delay=delay,
                prompt=options.get("prompt") or None,
            )
        elif action == "join":
            options = parse_options(where, argument, ("starting_words",), "starting_words")
            raw = options.get("starting_words")
            start = None if raw is None else _whole(where, raw)
            _, member, new = await service.join(CONSOLE_CHANNEL_ID, user_id, name, start)
            verb = "joined" if new else "set their starting words"
            self._say(f"✍️ {name} {verb} (starting at {member.starting_words:,} words).")
        elif action in ("wc", "wrote"):
            raw = parse_options(where, argument, ("words",), "words").get("words")
            words = _whole(where, raw or "", signed=action == "wrote")
            if action == "wc":
                _, written = await service.count(CONSOLE_CHANNEL_ID, user_id, total=words)
            else:
                _, written = await service.count(CONSOLE_CHANNEL_ID, user_id, added=words)
            self._say(f"📝 {name}: {written:,} words written this sprint.")
        elif action == "leave":
            await service.leave(CONSOLE_CHANNEL_ID, user_id)
            self._say(f"👋 {name} left the sprint.")
        elif action == "status":
            sprint = await service.in_channel(CONSOLE_CHANNEL_ID)
            members = await service.members(sprint.id)
            self._say(status_text(sprint, members, user_id, self._style))
        elif action == "cancel":
            await service.cancel(CONSOLE_CHANNEL_ID, user_id, name, moderator=False)
        elif action == "stats":
            self._say(stats_text(await service.stats(user_id, None), name))
        else:
            raise InvalidRequest(
                "Try /sprint start minutes:N, join, leave, wc words:N, wrote words:N, status, "
                "cancel or stats."
            )
        await self.settle()

    async def settle(self) -> None:
        """Let due timers fire (the start, pens down, the results)."""
        for _ in range(MAX_SETTLE_ROUNDS):
            if not await self._dispatcher.run_due():
                return

    def run_clock(self) -> None:
        """Fire timers as they come due, while the console waits for input."""
        self._dispatcher.start()

    async def close(self) -> None:
        """Stop the clock."""
        await self._dispatcher.close()


def _whole(where: str, raw: str, *, signed: bool = False) -> int:
    text = raw.strip().replace(",", "")
    body = text[1:] if signed and text[:1] in "+-" else text
    if not (body.isascii() and body.isdigit()):
        raise InvalidRequest(f"{where} needs a whole number of words (you gave {raw!r}).")
    return int(text)


def console_sprints(
    flow: WriteFlow | None,
    database: Database,
    out: TextIO = sys.stdout,
    *,
    clock: Clock | None = None,
    max_wpm: int = DEFAULT_MAX_WPM,
) -> ConsoleSprints:
    """The console's sprints on their own clock (fired after each command, and live at the
    prompt)."""

    def say(text: str) -> None:
        print(text, file=out, flush=True)

    dispatcher = Dispatcher(database, clock)
    style = console_style(dispatcher.clock)
    service = SprintService(
        database,
        dispatcher,
        ConsoleBoard(say, style),
        clock=dispatcher.clock,
        flow=flow,
        max_wpm=max_wpm,
    )
    service.attach()
    return ConsoleSprints(service, dispatcher, say, style)
