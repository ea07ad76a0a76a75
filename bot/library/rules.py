"""The rules of a user's library (saved prompts, remixes, paged lists) shared by every front end.

The Discord cogs and the console both call these, so a saved prompt or a remix is checked and
interpreted the same way wherever it is typed. All pure except ``all_favorites``, which only
pages through the storage layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.errors import InvalidRequest
from bot.forms import PieceSpec
from bot.generation.types import SamplingParams
from bot.storage import Database, FavoriteWithPiece
from bot.writing.commands import COMMANDS, Option, parse_value, writing_request

PROMPT_FORMS = ("poem", "story", "script", "continue", "generate")
# Saved-prompt option -> the writing command's option it fills.
_PROMPT_OPTIONS = {"poem_form": "form", "genre": "genre", "characters": "characters"}
REMIX_OPTIONS = ("temperature", "top_p", "top_k", "max_tokens")
EXPORT_PAGE = 100


def prompt_options(**given: str | None) -> dict[str, str]:
    """The options to store with a saved prompt: only those given (poem form, genre,
    characters), so an old prompt keeps meaning the same thing when defaults change."""
    unknown = set(given) - set(_PROMPT_OPTIONS)
    if unknown:
        raise InvalidRequest(f"Saved prompts have no option {', '.join(sorted(unknown))}.")
    return {key: value for key, value in given.items() if value}


def saved_prompt_request(
    form: str, text: str, options: Mapping[str, Any]
) -> tuple[PieceSpec, SamplingParams]:
    """What a saved prompt asks the writer for, checked like the command it stands for.

    Options that don't apply to the form (a genre on a poem) are refused, so a saved prompt
    never silently ignores part of what its owner asked for.
    """
    command = COMMANDS.get(form)
    if command is None or form not in PROMPT_FORMS:
        raise InvalidRequest(f"A saved prompt's form must be one of: {', '.join(PROMPT_FORMS)}.")
    values: dict[str, object] = {command.text_option.name: text}
    for key, value in options.items():
        target = _PROMPT_OPTIONS.get(key)
        if target is None or command.option(target) is None:
            raise InvalidRequest(f"A {form} prompt can't have a {key.replace('_', ' ')}.")
        values[target] = value
    return writing_request(form, values)


def remix_changes(
    temperature: object = None,
    top_p: object = None,
    top_k: object = None,
    max_tokens: object = None,
) -> SamplingParams:
    """The parameters a remix changes, checked against /generate's limits (None = keep)."""
    generate = COMMANDS["generate"]
    raw = {"temperature": temperature, "top_p": top_p, "top_k": top_k, "max_tokens": max_tokens}
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None:
            continue
        option = generate.option(name)
        assert option is not None
        values[name] = _remix_value(option, value)
    return SamplingParams(
        temperature=values.get("temperature"),
        top_p=values.get("top_p"),
        top_k=values.get("top_k"),
        max_new_tokens=values.get("max_tokens"),
    )


def _remix_value(option: Option, value: object) -> object:
    try:
        return parse_value(COMMANDS["generate"], option, value)
    except InvalidRequest as error:
        raise InvalidRequest(error.user_message.replace("/generate", "/remix")) from None


def page_count(total: int, page_size: int) -> int:
    """How many pages ``total`` items fill (at least one, so an empty list has a page)."""
    return max(1, -(-total // page_size))


def clamp_page(page: int, total: int, page_size: int) -> int:
    """A page that exists: items may have been removed since the buttons were drawn."""
    return min(max(page, 0), page_count(total, page_size) - 1)


async def all_favorites(database: Database, user_id: int) -> list[FavoriteWithPiece]:
    """Every favourite of a user, newest first, for exports: fetched a page at a time by
    keyset, so a long list costs linear time and a removal meanwhile skips nothing."""
    found: list[FavoriteWithPiece] = []
    while True:
        before = found[-1].favorite.id if found else None
        batch = await database.favorites.list_before(user_id, EXPORT_PAGE, before)
        found.extend(batch)
        if len(batch) < EXPORT_PAGE:
            return found
