"""The offline front end: the Discord commands, typed in a terminal, streamed to stdout.

``/poem topic:autumn form:haiku`` works as on Discord; bare text after the command fills its
main option (``/poem autumn rain``). The library works too: ``/save`` the last piece,
``/favorites``, ``/export``, ``/prompts …`` and ``/remix``, stored in the same SQLite database
as the bot's (as user ``CONSOLE_USER_ID``). Errors are the same kind messages Discord users get.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.community.daily_prompts import IdeaPrompts
from bot.community.ideas_service import IdeaService
from bot.console.craft import CRAFT_HELP, ConsoleCraft
from bot.console.daily import DAILY_HELP, ConsoleDaily
from bot.console.destination import ConsoleOutput
from bot.console.games import CONSOLE_NAME, GAME_HELP, ConsoleGames, seat_id
from bot.console.ideas import IDEA_HELP, ConsoleIdeas
from bot.console.parsing import number_option, parse_line, parse_options, read_line, yes_option
from bot.console.sprints import SPRINT_HELP, ConsoleSprints
from bot.errors import InkwellError, InvalidRequest
from bot.forms.spec import shorten
from bot.library.exports import export_stem, favorites_json, favorites_markdown, parameters_text
from bot.library.exports import piece_title as record_title
from bot.library.rules import (
    PROMPT_FORMS,
    REMIX_OPTIONS,
    all_favorites,
    clamp_page,
    page_count,
    prompt_options,
    remix_changes,
    saved_prompt_request,
)
from bot.library.visibility import may_see, not_visible
from bot.storage import CONSOLE_USER_ID, Database, GenerationRecord, NotFound, SavedPrompt
from bot.writing.commands import COMMANDS, help_lines, writing_request
from bot.writing.drafts import Draft, remix_draft
from bot.writing.flow import WriteFlow
from bot.writing.requester import Requester

PROMPT = "inkwell> "
EXIT_WORDS = {"quit", "exit", "q"}
PAGE_SIZE = 10
PROMPT_SAVE_OPTIONS = ("name", "text", "form", "poem_form", "genre", "characters", "replace")

LIBRARY_HELP = (
    "/save — keep the last piece in your favourites",
    "/favorites [list page] | show id | remove id — your favourites",
    "/export [folder] — write your favourites as Markdown + JSON (default: this folder)",
    "/prompts save name:… text:… form:" + "|".join(PROMPT_FORMS) + " poem_form:? genre:? "
    "characters:? replace:yes? — save a prompt",
    "/prompts list | use name | delete name | rename old:… new:… — your saved prompts",
    "/remix id temperature:? top_p:? top_k:? max_tokens:? — a piece again, same seed",
)


class Console:
    """Runs console commands against the studio and the database, printing to ``out``."""

    def __init__(
        self,
        flow: WriteFlow,
        database: Database,
        out: TextIO | None = None,
        requester: Requester | None = None,
        games: ConsoleGames | None = None,
        sprints: ConsoleSprints | None = None,
    ) -> None:
        self._flow = flow
        self._database = database
        self._writing = flow.writing
        # sys.stdout as it is now, not as it was at import (a test may have replaced it).
        out = out or sys.stdout
        self._out = out
        self._requester = requester or Requester.user(CONSOLE_USER_ID, "console")
        self.last_piece: GenerationRecord | None = None
        self._games = games
        self._sprints = sprints
        self._craft = ConsoleCraft(flow.writing, out)
        ideas = IdeaService(database, flow)
        self._ideas = ConsoleIdeas(ideas, database, self._write, self._requester, out)
        self._daily = ConsoleDaily(database, IdeaPrompts(ideas), self._say)
        self._library: dict[str, Callable[[str], Awaitable[None]]] = {
            "save": self._save,
            "favorites": self._favorites,
            "favourites": self._favorites,
            "export": self._export,
            "prompts": self._prompts,
            "remix": self._remix,
        }

    async def execute(self, line: str) -> bool:
        """Run one command line. Returns False on errors (the message has been printed)."""
        if not line.strip() or line.lstrip().startswith("#"):
            return True
        try:
            name, _, rest = line.strip().removeprefix("/").partition(" ")
            name = name.lower()
            as_name: str | None = None
            if name == "as" and (self._games is not None or self._sprints is not None):
                # "/as alice /poemgame join": a named seat at the shared terminal.
                as_name, _, command = rest.strip().partition(" ")
                name, _, rest = command.strip().removeprefix("/").partition(" ")
                name = name.lower()
                if name not in ("poemgame", "sprint") or not as_name:
                    raise InvalidRequest("Use /as NAME /poemgame …, e.g. /as alice /poemgame join")
            if name == "help":
                self._print_help()
            elif name == "model":
                info = self._writing.model
                self._say(
                    f"Model: {info.name} ({'chat' if info.chat else 'base'} model, "
                    f"{info.dtype}, context {info.context_window} tokens)"
                )
            elif name in ("poemgame", "anthology") and self._games is not None:
                if name == "poemgame":
                    await self._games.poemgame(rest, as_name)
                else:
                    await self._games.anthology(rest)
            elif name == "sprint" and self._sprints is not None:
                seat = CONSOLE_USER_ID if as_name is None else seat_id(as_name)
                await self._sprints.sprint(rest, seat, as_name or CONSOLE_NAME)
            elif name == "idea":
                await self._ideas.idea(rest)
            elif name == "daily":
                await self._daily.daily(rest)
            elif name == "check":
                await self._craft.check(rest)
            elif name == "score":
                await self._craft.score(rest)
            elif name in self._library:
                await self._library[name](rest.strip())
            elif name in COMMANDS:
                name, options = parse_line(line)
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
        if self._sprints is not None:
            self._sprints.run_clock()  # a sprint's end comes while you type
        try:
            while True:
                try:
                    line = await read_line(PROMPT)
                except EOFError:
                    self._say("")
                    return
                if line.strip().lower().removeprefix("/") in EXIT_WORDS:
                    return
                await self.execute(line)
        finally:
            if self._sprints is not None:
                await self._sprints.close()

    # --- writing ---------------------------------------------------------------------------

    async def _write(self, draft: Draft) -> None:
        record = await self._flow.write(self._requester, ConsoleOutput(self._out), draft)
        if record is not None:
            self.last_piece = record

    # --- library ---------------------------------------------------------------------------

    async def _save(self, rest: str) -> None:
        if rest:
            raise InvalidRequest("/save takes no options: it saves the piece just written.")
        if self.last_piece is None:
            raise InvalidRequest(
                "There's no piece to save yet — write one first (e.g. /poem autumn), then /save."
            )
        added = await self._database.favorites.add(self._requester.id, self.last_piece.id)
        if added.created:
            self._say(f"⭐ Saved as favourite #{added.favorite.id}. See them with /favorites.")
        else:
            self._say(f"It's already in your favourites (#{added.favorite.id}).")

    async def _favorites(self, rest: str) -> None:
        action, _, argument = rest.partition(" ")
        action = action.lower() or "list"
        if action == "list":
            options = parse_options("/favorites list", argument, ("page",), "page")
            page = number_option("/favorites list", options["page"], "page") if options else 1
            await self._list_favorites(page - 1)
        elif action in ("show", "remove"):
            where = f"/favorites {action}"
            favorite_id = number_option(
                where, parse_options(where, argument, ("id",), "id").get("id")
            )
            favorite = await self._database.favorites.get(self._requester.id, favorite_id)
            if favorite is None:
                raise NotFound(
                    f"You have no favourite #{favorite_id}. /favorites shows the ones you have."
                )
            if action == "show":
                self._print_piece(favorite.piece, f"Favourite #{favorite_id}")
            else:
                await self._database.favorites.remove(self._requester.id, favorite_id)
                self._say(f"Removed favourite #{favorite_id} ({record_title(favorite.piece)}).")
        else:
            raise InvalidRequest(
                f"/favorites has no {action!r}. Try /favorites, /favorites show 3 or "
                "/favorites remove 3."
            )

    async def _list_favorites(self, page: int) -> None:
        user = self._requester.id
        total = await self._database.favorites.count(user)
        if total == 0:
            self._say("No favourites yet — write something, then /save it.")
            return
        page = clamp_page(page, total, PAGE_SIZE)
        pages = page_count(total, PAGE_SIZE)
        self._say(f"Your favourites (page {page + 1} of {pages}, {total} in all, newest first):")
        for item in await self._database.favorites.list(user, PAGE_SIZE, page * PAGE_SIZE):
            piece = item.piece
            self._say(
                f"  #{item.favorite.id} · {record_title(piece)} — by {piece.user_name}"
                f" · {piece.created_at:%Y-%m-%d} · piece #{piece.id}\n"
                f"      {shorten(piece.text, 70)}"
            )
        if page + 1 < pages:
            self._say(f"More: /favorites list {page + 2}")
        self._say("Read one with /favorites show <id>.")

    def _print_piece(self, piece: GenerationRecord, heading: str) -> None:
        self._say(f"{heading} · {record_title(piece)}\n\n{piece.text.rstrip()}\n")
        self._say(
            f"— Written by AI ({piece.model}) · seed {piece.seed}"
            f" · {parameters_text(piece.params) or 'default parameters'}\n"
            f"  prompt: {piece.prompt}\n"
            f"  asked for by {piece.user_name} on {piece.created_at:%Y-%m-%d %H:%M} UTC"
            f" · piece #{piece.id}"
        )

    async def _export(self, rest: str) -> None:
        favorites = await all_favorites(self._database, self._requester.id)
        if not favorites:
            self._say("No favourites to export yet — write something, then /save it.")
            return
        now = datetime.now(UTC)
        name = self._requester.name
        texts = {
            ".md": favorites_markdown(favorites, user_name=name, exported_at=now),
            ".json": favorites_json(favorites, user_name=name, exported_at=now),
        }
        paths = await asyncio.to_thread(
            write_export, rest or None, export_stem("favorites", now), texts
        )
        self._say(f"Exported {len(favorites)} favourite(s):")
        for path in paths:
            self._say(f"  {path}")

    async def _prompts(self, rest: str) -> None:
        action, _, argument = rest.partition(" ")
        action = action.lower() or "list"
        where = f"/prompts {action}"
        user = self._requester.id
        prompts = self._database.prompts
        if action == "save":
            options = parse_options(where, argument, PROMPT_SAVE_OPTIONS, "name")
            missing = [key for key in ("name", "text", "form") if not options.get(key)]
            if missing:
                raise InvalidRequest(
                    f"/prompts save needs {', '.join(k + ':' for k in missing)} — e.g. "
                    "/prompts save name:rain text:autumn rain form:poem poem_form:haiku"
                )
            form = options["form"].lower()
            extras = prompt_options(
                poem_form=options.get("poem_form"),
                genre=options.get("genre"),
                characters=options.get("characters"),
            )
            saved_prompt_request(form, options["text"], extras)  # refuse what use would refuse
            prompt = await prompts.save(
                user,
                options["name"],
                options["text"],
                form,
                extras,
                replace=yes_option(where, options.get("replace")),
            )
            self._say(f"Saved “{prompt.name}” ({_describe(prompt)}). Write it with /prompts use.")
        elif action == "list":
            parse_options(where, argument, (), None)
            saved = await prompts.list(user)
            if not saved:
                self._say("No saved prompts yet. Save one with /prompts save name:… text:… form:…")
            for prompt in saved:
                self._say(f"  {prompt.name} — {_describe(prompt)}: {shorten(prompt.text, 60)}")
        elif action in ("use", "delete"):
            name = parse_options(where, argument, ("name",), "name").get("name")
            if not name:
                raise InvalidRequest(f"{where} needs the prompt's name, e.g. {where} rain.")
            if action == "delete":
                if not await prompts.delete(user, name):
                    raise _no_prompt(name)
                self._say(f"Deleted your saved prompt “{name}”.")
                return
            prompt = await prompts.get(user, name)
            if prompt is None:
                raise _no_prompt(name)
            spec, sampling = saved_prompt_request(prompt.form, prompt.text, prompt.options)
            await self._write(Draft(spec, sampling))
        elif action == "rename":
            options = parse_options(where, argument, ("old", "new"), "old")
            if not options.get("old") or not options.get("new"):
                raise InvalidRequest("/prompts rename needs old:… and new:…")
            prompt = await prompts.rename(user, options["old"], options["new"])
            self._say(f"Renamed “{options['old']}” to “{prompt.name}”.")
        else:
            raise InvalidRequest(
                f"/prompts has no {action!r}. Try /prompts list, save, use, delete or rename."
            )

    async def _remix(self, rest: str) -> None:
        options = parse_options("/remix", rest, ("id", *REMIX_OPTIONS), "id")
        piece_id = number_option("/remix", options.pop("id", None))
        changes = remix_changes(**options)
        record = await self._flow.find_piece(piece_id)
        # The console has no channels: it may rework its own pieces only.
        if record is None or not await may_see(record, self._requester.id, None):
            raise not_visible(piece_id)
        await self._write(remix_draft(record, changes))

    # --- output ----------------------------------------------------------------------------

    def _print_help(self) -> None:
        self._say("Commands (options are name:value; text after the command fills the first):")
        for line in help_lines():
            self._say("  " + line)
        for line in LIBRARY_HELP:
            self._say("  " + line)
        for line in GAME_HELP if self._games is not None else ():
            self._say("  " + line)
        for line in SPRINT_HELP if self._sprints is not None else ():
            self._say("  " + line)
        for line in (*IDEA_HELP, *DAILY_HELP):
            self._say("  " + line)
        for line in CRAFT_HELP:
            self._say("  " + line)
        self._say(
            "  /model — which model is writing\n  /help — this list\n  /quit — leave (or Ctrl-D)"
        )
        self._say("Example: /poem topic:autumn rain form:haiku temperature:0.9")

    def _say(self, text: str) -> None:
        print(text, file=self._out, flush=True)


def write_export(folder: str | None, stem: str, texts: dict[str, str]) -> list[Path]:
    """Write ``stem + suffix`` for each text into ``folder`` (default: the current directory,
    created if missing); returns the absolute paths written."""
    where = (Path(folder).expanduser() if folder else Path.cwd()).resolve()
    if where.exists() and not where.is_dir():
        raise InvalidRequest(f"/export needs a folder, and {where} is a file.")
    paths = [where / f"{stem}{suffix}" for suffix in texts]
    try:
        where.mkdir(parents=True, exist_ok=True)
        for path, text in zip(paths, texts.values(), strict=True):
            path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise InvalidRequest(
            f"I couldn't write the export into {where}: {error.strerror or error}."
        ) from None
    return paths


def _describe(prompt: SavedPrompt) -> str:
    extras = ", ".join(str(value) for value in prompt.options.values())
    return f"{prompt.form} ({extras})" if extras else prompt.form


def _no_prompt(name: str) -> NotFound:
    return NotFound(f"You don't have a saved prompt called “{name}”. /prompts list shows them.")
