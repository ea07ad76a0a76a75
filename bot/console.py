"""The offline front end: the Discord commands, typed in a terminal, streamed to stdout.

``/poem topic:autumn form:haiku`` works as on Discord; bare text after the command fills its
main option (``/poem autumn rain``). Errors are the same kind messages Discord users get.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from collections.abc import Iterable
from typing import TextIO

from bot.commands import COMMANDS, help_lines, writing_request
from bot.errors import InkwellError, InvalidRequest
from bot.storage import CONSOLE_USER_ID, GenerationRecord
from bot.studio import Author, Draft, Studio, StudioUpdate
from bot.writing import Piece

PROMPT = "inkwell> "
EXIT_WORDS = {"quit", "exit", "q"}
_OPTION_KEY = re.compile(r"(?:^|\s)([a-z_]+):")


def parse_line(line: str) -> tuple[str, dict[str, str]]:
    """Split ``/name key:value key:multi word value`` into the name and raw option strings."""
    line = line.strip().removeprefix("/")
    name, _, rest = line.partition(" ")
    name = name.lower()
    command = COMMANDS.get(name)
    if command is None:
        return name, {"": rest.strip()} if rest.strip() else {}
    # Only the command's own option names start an option, so "a time: of rain" stays text.
    keys = [m for m in _OPTION_KEY.finditer(rest) if command.option(m.group(1)) is not None]
    options: dict[str, str] = {}
    head = rest[: keys[0].start()] if keys else rest
    if head.strip():
        options[command.text_option.name] = head.strip()
    for index, match in enumerate(keys):
        end = keys[index + 1].start() if index + 1 < len(keys) else len(rest)
        key = match.group(1)
        if key in options:
            raise InvalidRequest(f"/{name} got {key}: twice.")
        options[key] = rest[match.end() : end].strip()
    return name, options


class Console:
    """Runs console commands against a writing service, printing to ``out``."""

    def __init__(
        self, studio: Studio, out: TextIO = sys.stdout, author: Author | None = None
    ) -> None:
        self._studio = studio
        self._writing = studio.writing
        self._out = out
        self._author = author or Author(user_id=CONSOLE_USER_ID, name="console")
        self.last_piece: GenerationRecord | None = None

    async def execute(self, line: str) -> bool:
        """Run one command line. Returns False on errors (the message has been printed)."""
        if not line.strip() or line.lstrip().startswith("#"):
            return True
        try:
            name, options = parse_line(line)
            if name == "help":
                self._print_help()
            elif name == "model":
                info = self._writing.model
                self._say(
                    f"Model: {info.name} ({'chat' if info.chat else 'base'} model, "
                    f"{info.dtype}, context {info.context_window} tokens)"
                )
            elif name in COMMANDS:
                spec, sampling = writing_request(name, options)
                await self._write(Draft(spec, sampling))
            else:
                raise InvalidRequest(
                    f"I don't know the command /{name}. Type /help to see what I can do."
                )
        except InkwellError as error:
            self._say(f"⚠ {error.user_message}")
            return False
        return True

    async def run_lines(self, lines: Iterable[str]) -> bool:
        """Run commands in order (non-interactive mode); True if all succeeded."""
        ok = True
        for line in lines:
            if line.strip().lower().removeprefix("/") in EXIT_WORDS:
                break
            ok = await self.execute(line) and ok
        return ok

    async def interactive(self) -> None:
        """Read commands until Ctrl-D, Ctrl-C or /quit."""
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())
        self._say(
            f"Inkwell is ready with {self._writing.model.name}. Type /help for the "
            "commands, Ctrl-D to leave."
        )
        while True:
            try:
                line = await asyncio.to_thread(input, PROMPT)
            except EOFError:
                self._say("")
                return
            if line.strip().lower().removeprefix("/") in EXIT_WORDS:
                return
            await self.execute(line)

    async def _write(self, draft: Draft) -> None:
        self._say(f"✍  {draft.spec.title()}")
        printed = ""
        async with self._studio.session(self._author) as session:
            async for update in session.write(draft):
                printed = self._show(update, printed)

    def _show(self, update: StudioUpdate, printed: str) -> str:
        """Print what is new in ``update``; returns all that has been printed of the piece."""
        if update.queue_position is not None:
            self._say(f"(waiting — number {update.queue_position} in the queue)")
            return printed
        if update.text.startswith(printed):
            self._out.write(update.text[len(printed) :])
            printed = update.text
        elif update.piece is not None:
            # Clean-up changed something already shown: show the final text whole.
            self._out.write("\n\n— final version —\n" + update.text)
        self._out.flush()
        if update.piece is not None and update.record is not None:
            self.last_piece = update.record
            self._finish(update.piece, update.record)
        return printed

    def _finish(self, piece: Piece) -> None:
        self._say(
            f"\n— {piece.attribution()} · {piece.new_tokens} tokens in {piece.seconds:.1f} s\n"
        )

    def _print_help(self) -> None:
        self._say("Commands (options are name:value; text after the command fills the first):")
        for line in help_lines():
            self._say("  " + line)
        self._say(
            "  /model — which model is writing\n  /help — this list\n  /quit — leave (or Ctrl-D)"
        )
        self._say("Example: /poem topic:autumn rain form:haiku temperature:0.9")

    def _say(self, text: str) -> None:
        print(text, file=self._out, flush=True)
