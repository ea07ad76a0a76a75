"""Privacy: everything stored about one user, to export or erase."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.storage.executor import Executor
from bot.storage.favorites import favorite_from_row
from bot.storage.games import poem_text
from bot.storage.generations import generation_columns, generation_from_row
from bot.storage.models import (
    ANTHOLOGY_USER_ID,
    REMOVED_LINE,
    DeletedCounts,
    from_db_time,
    to_db_time,
)
from bot.storage.prompts import prompt_from_row
from bot.storage.voices import VoiceRepository

EXPORT_FORMAT_VERSION = 1


# How long an erasure is remembered: longer than any piece takes to write.
ERASURE_MEMORY_SECONDS = 24 * 3600.0


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
        only, under "prompts_in_others_pieces". Their lines in poem games are under
        "poem_lines" (with the finished poem's piece id, if any).
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
            line_rows = await self._db.fetch_all(
                "SELECT game_lines.game_id, games.poem_id, game_lines.position,"
                " game_lines.text, game_lines.created_at"
                " FROM game_lines JOIN games ON games.id = game_lines.game_id"
                " WHERE game_lines.author_id = ? ORDER BY game_lines.game_id, game_lines.position",
                (user_id,),
            )
            idea_rows = await self._db.fetch_all(
                "SELECT id, channel_id, source, text, created_at FROM ideas"
                " WHERE user_id = ? ORDER BY id",
                (user_id,),
            )
            entry_rows = await self._db.fetch_all(
                "SELECT e.id, e.prompt_id, p.text AS prompt, e.text, e.created_at"
                " FROM daily_entries e JOIN daily_prompts p ON p.id = e.prompt_id"
                " WHERE e.user_id = ? ORDER BY e.id",
                (user_id,),
            )
            sprint_rows = await self._db.fetch_all(
                "SELECT sprint_id, starting_words, words, joined_at, left_at"
                " FROM sprint_members WHERE user_id = ? ORDER BY sprint_id",
                (user_id,),
            )
            sprint_stat_rows = await self._db.fetch_all(
                "SELECT guild_id, sprints, words, minutes, best_words, best_wpm"
                " FROM sprint_stats WHERE user_id = ? ORDER BY guild_id",
                (user_id,),
            )
            consent_row = await self._db.fetch_one(
                "SELECT allowed, changed_at FROM training_consent WHERE user_id = ?", (user_id,)
            )
            adapter_rows = await self._db.fetch_all(
                "SELECT adapter FROM voice_adapter_authors WHERE user_id = ? ORDER BY adapter",
                (user_id,),
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
            "poem_lines": [
                {
                    "game_id": row["game_id"],
                    "poem_id": row["poem_id"],
                    "position": row["position"],
                    "text": row["text"],
                    "created_at": from_db_time(row["created_at"]).isoformat(),
                }
                for row in line_rows
            ],
            "sprints": [dict(row) for row in sprint_rows],
            "sprint_stats": [dict(row) for row in sprint_stat_rows],
            "ideas": [
                {
                    "id": row["id"],
                    "channel_id": row["channel_id"],
                    "source": row["source"],
                    "text": row["text"],
                    "created_at": from_db_time(row["created_at"]).isoformat(),
                }
                for row in idea_rows
            ],
            "daily_entries": [
                {
                    "id": row["id"],
                    "prompt_id": row["prompt_id"],
                    "prompt": row["prompt"],
                    "text": row["text"],
                    "created_at": from_db_time(row["created_at"]).isoformat(),
                }
                for row in entry_rows
            ],
            "training": {
                "allowed": bool(consent_row and consent_row["allowed"]),
                "changed_at": (
                    from_db_time(consent_row["changed_at"]).isoformat() if consent_row else None
                ),
                "adapters_built_from_you": [row["adapter"] for row in adapter_rows],
            },
        }

    async def delete_all(self, user_id: int) -> DeletedCounts:
        """Erase the user's pieces, favourites and saved prompts in one transaction.

        Other users' favourites of the erased pieces go too (they would point at
        nothing), and other users' pieces that continued an erased piece keep their
        text but lose the link (`parent_id` becomes NULL via the foreign key). Other
        users' pieces whose prompt holds this user's words (`prompt_author_id`) keep
        their text, but the prompt is emptied and marked `prompt_redacted`.

        Poem games keep going and finished poems stay in the anthology (they belong to every
        author): the user's lines read "(removed)", by "(removed)", with no author id, and
        each finished poem they wrote in has its text rebuilt from its lines. A finished or
        cancelled game they hosted no longer names them as its host.
        """
        if user_id == ANTHOLOGY_USER_ID:
            # Would erase every guild's anthology, which is nobody's personal data.
            raise ValueError("the anthology is not a user; its poems can't be erased this way")
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
            removed_lines = await self._remove_lines(user_id)
            # The ideas they asked for: a curated one keeps its row without naming them (the
            # channel's history of what it has seen, and others' buttons on it, stay); an AI
            # one goes, since its text may echo the theme they typed.
            await self._db.execute(
                "DELETE FROM ideas WHERE user_id = ? AND source = 'ai'", (user_id,)
            )
            await self._db.execute("UPDATE ideas SET user_id = 0 WHERE user_id = ?", (user_id,))
            # Sprints: their counts and stats go; a sprint they started stays in the channel's
            # history without naming them or keeping the prompt they wrote (an open one keeps
            # its starter, whom cancelling needs, until it ends).
            await self._db.execute("DELETE FROM sprint_members WHERE user_id = ?", (user_id,))
            await self._db.execute("DELETE FROM sprint_stats WHERE user_id = ?", (user_id,))
            await self._db.execute(
                "UPDATE sprints SET prompt = NULL, prompt_by_starter = 0"
                " WHERE starter_id = ? AND prompt_by_starter = 1",
                (user_id,),
            )
            await self._db.execute(
                "UPDATE sprints SET starter_id = 0"
                " WHERE starter_id = ? AND status IN ('finished', 'cancelled')",
                (user_id,),
            )
            # Daily entries go with their hearts; so do the hearts the user gave. A
            # schedule they set up is the guild's: it stays, no longer naming them.
            daily_entries = await self._db.execute(
                "DELETE FROM daily_entries WHERE user_id = ?", (user_id,)
            )
            await self._db.execute("DELETE FROM daily_votes WHERE voter_id = ?", (user_id,))
            await self._db.execute(
                "UPDATE daily_schedules SET owner_id = 0 WHERE owner_id = ?", (user_id,)
            )
            # Adapters that learned from them are marked for retraining; their choice goes.
            await VoiceRepository(self._db, self._clock).forget_author(user_id)
            await self._db.execute("DELETE FROM training_consent WHERE user_id = ?", (user_id,))
            # Cooldowns name the user; the erasure itself is remembered for a day, so that a
            # piece another process was writing from their words is stored without them.
            await self._db.execute(
                "DELETE FROM cooldowns WHERE slot_kind = 'user' AND slot_id = ?", (user_id,)
            )
            now = self._clock().timestamp()
            await self._db.execute(
                "DELETE FROM erasures WHERE erased_at < ?", (now - ERASURE_MEMORY_SECONDS,)
            )
            await self._db.execute(
                "INSERT INTO erasures (user_id, erased_at) VALUES (?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET erased_at = excluded.erased_at",
                (user_id, now),
            )
        return DeletedCounts(
            generations=generations,
            favorites=favorites,
            prompts=prompts,
            others_favorites=others_favorites,
            redacted_prompts=redacted,
            removed_lines=removed_lines,
            daily_entries=daily_entries,
        )

    async def erased_since(self, user_id: int, since: float) -> bool:
        """Whether the user's data was erased at or after ``since`` (unix seconds), by any
        process (for a piece started before the erase, that copied their words)."""
        erased_at = await self._db.fetch_value(
            "SELECT erased_at FROM erasures WHERE user_id = ?", (user_id,)
        )
        return erased_at is not None and erased_at >= since

    async def _remove_lines(self, user_id: int) -> int:
        """Turn the user's poem-game lines into "(removed)" and rebuild the finished poems
        they were in; return how many lines changed. Runs inside delete_all's transaction."""
        poem_ids = [
            row["poem_id"]
            for row in await self._db.fetch_all(
                "SELECT DISTINCT games.poem_id FROM game_lines"
                " JOIN games ON games.id = game_lines.game_id"
                " WHERE game_lines.author_id = ? AND games.poem_id IS NOT NULL",
                (user_id,),
            )
        ]
        removed = await self._db.execute(
            "UPDATE game_lines SET text = ?, author_name = ?, author_id = NULL, removed = 1"
            " WHERE author_id = ?",
            (REMOVED_LINE, REMOVED_LINE, user_id),
        )
        # host_id is NOT NULL and an open game still needs its host to run; an ended one
        # doesn't, so it stops naming the user (the anthology's id stands for "nobody").
        await self._db.execute(
            "UPDATE games SET host_id = ?"
            " WHERE host_id = ? AND status IN ('finished', 'cancelled')",
            (ANTHOLOGY_USER_ID, user_id),
        )
        for poem_id in poem_ids:
            # Rebuilt in Python: group_concat's order is unspecified in this SQLite.
            line_rows = await self._db.fetch_all(
                "SELECT game_lines.position, game_lines.text FROM game_lines"
                " JOIN games ON games.id = game_lines.game_id WHERE games.poem_id = ?"
                " ORDER BY game_lines.position",
                (poem_id,),
            )
            text = poem_text(row["text"] for row in line_rows)
            await self._db.execute("UPDATE generations SET text = ? WHERE id = ?", (text, poem_id))
        return removed
