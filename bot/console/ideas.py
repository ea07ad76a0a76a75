"""/idea in the console: the same ideas as on Discord, for the terminal's one "channel".

``/idea genre:horror theme:sea source:any`` shows a prompt; ``/idea write`` writes a piece from
the last one and ``/idea save`` keeps it in the console's saved prompts (the buttons' jobs).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.community.ideas import SOURCES, idea_tags, piece_draft, piece_options, story_genre
from bot.community.ideas_service import NEW_CYCLE, Idea, IdeaService
from bot.console.parsing import parse_options
from bot.errors import InvalidRequest
from bot.library.rules import prompt_options, saved_prompt_request
from bot.storage import CONSOLE_USER_ID, Database
from bot.writing.drafts import Draft
from bot.writing.requester import Requester

IDEA_HELP = (
    "/idea genre:? theme:? source:any|curated|ai — a writing prompt to start from",
    "/idea write | save | another — write the last idea, keep it in /prompts, or another",
)
CONSOLE_CHANNEL_ID = 0  # the terminal is one channel: its ideas don't repeat either
_KEYS = ("genre", "theme", "source")


class ConsoleIdeas:
    """Ideas for the terminal, printing to ``out``; pieces go through ``write``."""

    def __init__(
        self,
        service: IdeaService,
        database: Database,
        write: Callable[[Draft], Awaitable[None]],
        requester: Requester,
        out: TextIO = sys.stdout,
    ) -> None:
        self._service = service
        self._database = database
        self._write = write
        self._requester = requester
        self._out = out
        self.last: Idea | None = None

    async def idea(self, rest: str) -> None:
        """``/idea [write|save] [genre:… theme:… source:…]``."""
        action = rest.strip().lower()
        if action == "write":
            idea = self._last()
            record = idea.record
            await self._write(piece_draft(record.text, record.form, record.poem_form, record.genre))
            return
        if action == "save":
            await self._save(self._last())
            return
        if action == "another":
            before = self._last()
            self.last = await self._service.another(
                before.id, CONSOLE_CHANNEL_ID, None, CONSOLE_USER_ID, requester=self._requester
            )
            self._show(self.last)
            return
        options = parse_options("/idea", rest, _KEYS, None)
        source = options.get("source", "any").lower()
        if source not in SOURCES:
            raise InvalidRequest(f"/idea's source is one of: {', '.join(SOURCES)}.")
        self.last = await self._service.pick(
            CONSOLE_CHANNEL_ID,
            None,
            CONSOLE_USER_ID,
            genre=options.get("genre", "").lower() or None,
            theme=options.get("theme"),
            source=source,  # type: ignore[arg-type]
            requester=self._requester,
        )
        self._show(self.last)

    async def _save(self, idea: Idea) -> None:
        record = idea.record
        name = f"idea-{record.id}"
        command, _ = piece_options(record.text, record.form, record.poem_form, record.genre)
        if command == "poem":
            options = prompt_options(poem_form=record.poem_form or "free")
        else:
            options = prompt_options(genre=story_genre(record.genre)) if command == "story" else {}
        saved_prompt_request(command, record.text, options)
        await self._database.prompts.save(CONSOLE_USER_ID, name, record.text, command, options)
        self._say(f"📝 Saved as “{name}”. Write it any time with /prompts use {name}")

    def _last(self) -> Idea:
        if self.last is None:
            raise InvalidRequest("Ask for an idea first: /idea (genre:… theme:… are optional).")
        return self.last

    def _show(self, idea: Idea) -> None:
        record = idea.record
        if idea.new_cycle:
            self._say(f"🔁 {NEW_CYCLE}")
        if idea.note:
            self._say(f"💬 {idea.note}")
        tags = idea_tags(record.source, record.genre, record.form, record.poem_form)
        self._say(f"💡 Idea #{record.id} ({tags})\n{record.text}")
        self._say("Next: /idea write · /idea save · /idea another")

    def _say(self, text: str) -> None:
        print(text, file=self._out, flush=True)
