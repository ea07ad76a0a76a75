"""Privacy: everything stored about one user, to export or erase."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.storage.executor import Executor
from bot.storage.favorites import favorite_from_row
from bot.storage.generations import generation_columns, generation_from_row
from bot.storage.models import DeletedCounts, from_db_time, to_db_time
from bot.storage.prompts import prompt_from_row

EXPORT_FORMAT_VERSION = 1


class UserDataRepository:
    """Export and deletion of one user's data (Discord's developer policy requires both)."""

    def __init__(self, executor: Executor, clock: Callable[[], datetime]) -> None:
        self._db = executor
        self._clock = clock

    async def export(self, user_id: int) -> dict[str, Any]:
        """All of the user's pieces, favourites and saved prompts as JSON-ready data.

        Runs in one transaction so the lists are a consistent snapshot. Favourites list
        the starred piece's id only: the piece may be someone else's. Other people's words
        copied into the user's prompts are left out (see `GenerationRecord.to_json`), and the
        user's own words copied into other people's pieces are listed, with the piece's id
        only, under "prompts_in_others_pieces".
        """
        async with self._db.transaction():
            generation_rows = await self._db.fetch_all(
                f"SELECT {generation_columns()} FROM generations WHERE user_id = ? ORDER BY id",
                (user_id,),
            )
            favorite_rows = await self._db.fetch_all(
                "SELECT id, user_id, generation_id, created_at FROM favorites"
                " WHERE user_id = ? ORDER BY id",
                (user_id,),
            )
            prompt_rows = await self._db.fetch_all(
                "SELECT id, user_id, name, text, form, options, created_at, updated_at"
                " FROM saved_prompts WHERE user_id = ? ORDER BY id",
                (user_id,),
            )
            quoted_rows = await self._db.fetch_all(
                "SELECT id, prompt, created_at FROM generations"
                " WHERE prompt_author_id = ? AND user_id != ? AND prompt_redacted = 0"
                " ORDER BY id",
                (user_id, user_id),
            )
        return {
            "format_version": EXPORT_FORMAT_VERSION,
            "user_id": user_id,
            "exported_at": to_db_time(self._clock()),
            "generations": [generation_from_row(row).to_json() for row in generation_rows],
            "favorites": [favorite_from_row(row).to_json() for row in favorite_rows],
            "saved_prompts": [prompt_from_row(row).to_json() for row in prompt_rows],
            "prompts_in_others_pieces": [
                {
                    "generation_id": row["id"],
                    "prompt": row["prompt"],
                    "created_at": from_db_time(row["created_at"]).isoformat(),
                }
                for row in quoted_rows
            ],
        }

    async def delete_all(self, user_id: int) -> DeletedCounts:
        """Erase the user's pieces, favourites and saved prompts in one transaction.

        Other users' favourites of the erased pieces go too (they would point at
        nothing), and other users' pieces that continued an erased piece keep their
        text but lose the link (`parent_id` becomes NULL via the foreign key). Other
        users' pieces whose prompt holds this user's words (`prompt_author_id`) keep
        their text, but the prompt is emptied and marked `prompt_redacted`.
        """
        async with self._db.transaction():
            favorites = await self._db.execute(
                "DELETE FROM favorites WHERE user_id = ?", (user_id,)
            )
            others_favorites = await self._db.execute(
                "DELETE FROM favorites WHERE generation_id IN"
                " (SELECT id FROM generations WHERE user_id = ?)",
                (user_id,),
            )
            prompts = await self._db.execute(
                "DELETE FROM saved_prompts WHERE user_id = ?", (user_id,)
            )
            generations = await self._db.execute(
                "DELETE FROM generations WHERE user_id = ?", (user_id,)
            )
            # The user's words inside other people's pieces (a prompt copied from theirs).
            redacted = await self._db.execute(
                "UPDATE generations SET prompt = '', prompt_redacted = 1"
                " WHERE prompt_author_id = ? AND prompt_redacted = 0",
                (user_id,),
            )
        return DeletedCounts(
            generations=generations,
            favorites=favorites,
            prompts=prompts,
            others_favorites=others_favorites,
            redacted_prompts=redacted,
        )
