"""Saved prompts: private, named per user, case-insensitively unique."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.storage.errors import LimitReached, NameTaken, NotFound
from bot.storage.executor import Executor, Row
from bot.storage.models import SavedPrompt, from_db_time, frozen_json, to_db_time
from bot.storage.validation import (
    MAX_AUTOCOMPLETE,
    MAX_NAME_CHARS,
    MAX_PROMPT_CHARS,
    MAX_SAVED_PROMPTS,
    check_length,
    clean_name,
    name_key,
    to_json,
)

_COLUMNS = "id, user_id, name, text, form, options, created_at, updated_at"


def prompt_from_row(row: Row) -> SavedPrompt:
    """Build a record from a row selected with the saved-prompt columns."""
    return SavedPrompt(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        text=row["text"],
        form=row["form"],
        options=frozen_json(row["options"]),
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
    )


class PromptRepository:
    """Every method takes the acting `user_id`; nobody can see another user's prompts.

    (`builtins.list` in annotations: the `list` method shadows the builtin here.)
    """

    def __init__(
        self,
        executor: Executor,
        clock: Callable[[], datetime],
        max_per_user: int = MAX_SAVED_PROMPTS,
    ) -> None:
        self._db = executor
        self._clock = clock
        self._max_per_user = max_per_user

    async def save(
        self,
        user_id: int,
        name: str,
        text: str,
        form: str,
        options: Mapping[str, Any] | None = None,
        *,
        replace: bool = False,
    ) -> SavedPrompt:
        """Save a prompt under `name` (stripped; 1-64 characters).

        Re-using a name (in any letter case) raises `NameTaken` unless `replace=True`,
        which overwrites text, form, options and the name's spelling but keeps the id
        and creation time. Overwriting a prompt would otherwise be one typo away.
        Raises `LimitReached` when the user already has the maximum number of prompts.
        """
        name = clean_name(name, "prompt name")
        check_length(text, "prompt", MAX_PROMPT_CHARS)
        check_length(form, "form name", MAX_NAME_CHARS)
        options_json = to_json(options or {}, "prompt options")
        now = to_db_time(self._clock())
        async with self._db.transaction():
            # The name check and the per-user count must see every other save of this user.
            await self._db.lock("saved_prompts", user_id)
            existing = await self._find(user_id, name)
            if existing is not None:
                if not replace:
                    raise NameTaken(existing["name"])
                await self._db.execute(
                    "UPDATE saved_prompts SET name = ?, name_key = ?, text = ?, form = ?,"
                    " options = ?, updated_at = ? WHERE id = ?",
                    (name, name_key(name), text, form, options_json, now, existing["id"]),
                )
                return await self._by_id(existing["id"])
            if await self.count(user_id) >= self._max_per_user:
                raise LimitReached("saved prompts", self._max_per_user, "/prompts delete")
            new_id = await self._db.insert(
                "INSERT INTO saved_prompts (user_id, name, name_key, text, form, options,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (user_id, name, name_key(name), text, form, options_json, now, now),
            )
            return await self._by_id(new_id)

    async def get(self, user_id: int, name: str) -> SavedPrompt | None:
        """The user's prompt with this name (any letter case), or None."""
        row = await self._find(user_id, name)
        return None if row is None else prompt_from_row(row)

    async def list(self, user_id: int) -> builtins.list[SavedPrompt]:
        """All of the user's prompts, alphabetically (case-insensitive)."""
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM saved_prompts WHERE user_id = ? ORDER BY name_key, id",
            (user_id,),
        )
        return [prompt_from_row(row) for row in rows]

    async def count(self, user_id: int) -> int:
        """How many prompts the user has saved."""
        count = await self._db.fetch_value(
            "SELECT COUNT(*) FROM saved_prompts WHERE user_id = ?", (user_id,)
        )
        return int(count)

    async def delete(self, user_id: int, name: str) -> bool:
        """Delete the user's prompt with this name; False if they have none by that name."""
        async with self._db.transaction():
            changed = await self._db.execute(
                "DELETE FROM saved_prompts WHERE user_id = ? AND name_key = ?",
                (user_id, name_key(name)),
            )
        return changed > 0

    async def rename(self, user_id: int, old: str, new: str) -> SavedPrompt:
        """Rename a prompt. Changing only the letter case of a name is allowed.

        Raises `NotFound` if `old` doesn't exist and `NameTaken` if `new` does.
        """
        new = clean_name(new, "new name")
        async with self._db.transaction():
            await self._db.lock("saved_prompts", user_id)
            existing = await self._find(user_id, old)
            if existing is None:
                raise NotFound(f"You don't have a saved prompt called “{old.strip()}”.")
            clash = await self._find(user_id, new)
            if clash is not None and clash["id"] != existing["id"]:
                raise NameTaken(clash["name"])
            await self._db.execute(
                "UPDATE saved_prompts SET name = ?, name_key = ?, updated_at = ? WHERE id = ?",
                (new, name_key(new), to_db_time(self._clock()), existing["id"]),
            )
            return await self._by_id(existing["id"])

    async def autocomplete(
        self, user_id: int, current: str, limit: int = MAX_AUTOCOMPLETE
    ) -> builtins.list[str]:
        """Names containing `current` (case-insensitive), prefix matches first.

        Never raises on odd input: it runs on every keystroke of a slash command.
        """
        limit = max(0, min(limit, MAX_AUTOCOMPLETE))
        needle = name_key(current)[:MAX_NAME_CHARS]
        # instr() rather than LIKE: no wildcard characters to escape in user input.
        rows = await self._db.fetch_all(
            "SELECT name FROM saved_prompts WHERE user_id = ? AND instr(name_key, ?) > 0"
            " ORDER BY instr(name_key, ?) = 1 DESC, name_key, id LIMIT ?",
            (user_id, needle, needle, limit),
        )
        return [row["name"] for row in rows]

    async def _find(self, user_id: int, name: str) -> Row | None:
        return await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM saved_prompts WHERE user_id = ? AND name_key = ?",
            (user_id, name_key(name)),
        )

    async def _by_id(self, prompt_id: int) -> SavedPrompt:
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM saved_prompts WHERE id = ?", (prompt_id,)
        )
        if row is None:
            raise NotFound()
        return prompt_from_row(row)
