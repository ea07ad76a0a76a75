"""Reading console input: command lines into options, and lines from the terminal.

Pure parsing plus one helper that reads the terminal without holding the process open.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Sequence

from bot.errors import InvalidRequest
from bot.writing.commands import COMMANDS

MAX_NUMBER = 2**53 - 1  # the largest integer a Discord option can carry
_OPTION_KEY = re.compile(r"(?:^|\s)([a-z_]+):")


def parse_options(where: str, rest: str, keys: Sequence[str], main: str | None) -> dict[str, str]:
    """Split ``text key:value key:multi word value`` into options; leading bare text fills
    ``main``. Only the given keys start an option, so "a time: of rain" stays text."""
    found = [m for m in _OPTION_KEY.finditer(rest) if m.group(1) in keys]
    options: dict[str, str] = {}
    head = rest[: found[0].start()] if found else rest
    if head.strip():
        if main is None:
            raise InvalidRequest(
                f"{where} doesn't take {head.strip()!r}."
                + (f" Its options: {', '.join(keys)}." if keys else "")
            )
        options[main] = head.strip()
    for index, match in enumerate(found):
        end = found[index + 1].start() if index + 1 < len(found) else len(rest)
        key = match.group(1)
        if key in options:
            raise InvalidRequest(f"{where} got {key}: twice.")
        options[key] = rest[match.end() : end].strip()
    return options


def parse_line(line: str) -> tuple[str, dict[str, str]]:
    """Split ``/name key:value key:multi word value`` into the name and raw option strings."""
    line = line.strip().removeprefix("/")
    name, _, rest = line.partition(" ")
    name = name.lower()
    command = COMMANDS.get(name)
    if command is None:
        return name, {"": rest.strip()} if rest.strip() else {}
    keys = [option.name for option in command.options]
    return name, parse_options(f"/{name}", rest, keys, command.text_option.name)


def number_option(where: str, raw: str | None, what: str = "id") -> int:
    """A positive whole number option such as a favourite id ("#3" is fine too)."""
    text = (raw or "").strip().lstrip("#")
    # isascii: "²".isdigit() is true but int("²") fails; the cap keeps SQLite's integers safe.
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_NUMBER:
        shown = f" (you gave {raw.strip()!r})" if raw and raw.strip() else ""
        raise InvalidRequest(f"{where} needs a positive whole number for its {what}{shown}.")
    return int(text)


def yes_option(where: str, raw: str | None) -> bool:
    """A yes/no option; absent means no."""
    value = (raw or "no").strip().lower()
    if value in ("yes", "y", "true", "1"):
        return True
    if value in ("no", "n", "false", "0"):
        return False
    raise InvalidRequest(f"{where} must be yes or no (you gave {raw!r}).")


async def read_line(prompt: str) -> str:
    """``input()`` on a daemon thread. ``asyncio.to_thread`` would use a pool thread, which the
    event loop joins at exit: after Ctrl-C the process would hang until Enter was pressed."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def settle(value: str | None, error: BaseException | None) -> None:
        if answer.done():
            return
        if error is not None:
            answer.set_exception(error)
        else:
            answer.set_result(value or "")

    def read() -> None:
        try:
            line = input(prompt)
        except BaseException as error:  # EOFError (Ctrl-D) is the usual one
            loop.call_soon_threadsafe(settle, None, error)
        else:
            loop.call_soon_threadsafe(settle, line, None)

    threading.Thread(target=read, name="inkwell-input", daemon=True).start()
    return await answer
