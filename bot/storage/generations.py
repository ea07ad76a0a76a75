"""Generated pieces: who asked, with what settings, and what came out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.storage.executor import Executor, Row
from bot.storage.models import (
    GenerationRecord,
    NewGeneration,
    from_db_time,
    frozen_json,
    to_db_time,
)
from bot.storage.validation import (
    MAX_GENERATION_CHARS,
    MAX_PROMPT_CHARS,
    check_length,
    check_page,
    to_json,
)

GENERATION_COLUMNS = (
    "id",
    "user_id",
    "user_name",
    "guild_id",
    "channel_id",
    "form",
    "poem_form",
    "genre",
    "prompt",
    "params",
    "seed",
    "model",
    "text",
    "parent_id",
    "created_at",
    "prompt_author_id",
    "prompt_redacted",
)


def generation_columns(alias: str = "generations") -> str:
    """The SELECT list for a generation, prefixed with a table alias (for joins)."""
    return ", ".join(f"{alias}.{column}" for column in GENERATION_COLUMNS)


def generation_from_row(row: Row) -> GenerationRecord:
    """Build a record from a row selected with `generation_columns()`."""
    return GenerationRecord(
        id=row["id"],
        user_id=row["user_id"],
        user_name=row["user_name"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        form=row["form"],
        poem_form=row["poem_form"],
        genre=row["genre"],
        prompt=row["prompt"],
        params=frozen_json(row["params"]),
        seed=row["seed"],
        model=row["model"],
        text=row["text"],
        parent_id=row["parent_id"],
        created_at=from_db_time(row["created_at"]),
        prompt_author_id=row["prompt_author_id"],
        prompt_redacted=bool(row["prompt_redacted"]),
    )


class GenerationRepository:
    """Stores every generated piece; rows are immutable once written."""

    def __init__(self, executor: Executor, clock: Callable[[], datetime]) -> None:
        self._db = executor
        self._clock = clock

    async def add(self, new: NewGeneration) -> GenerationRecord:
        """Record a piece and return it with its id and timestamp.

        Raises `TooLong` for an over-long prompt or text. A finished piece is never refused
        because its parent was erased meanwhile: it is stored without the link, and if its
        prompt held the erased author's words, without those too. Likewise when the parent
        is still there but the author of the prompt it was copied from erased their data
        while this piece was being written. `prompt_author_id` equal to the requester is
        stored as None (their own words).
        """
        check_length(new.prompt, "prompt", MAX_PROMPT_CHARS)
        check_length(new.text, "generated text", MAX_GENERATION_CHARS)
        params = to_json(new.params, "generation settings")
        created_at = to_db_time(self._clock())
        author = None if new.prompt_author_id == new.user_id else new.prompt_author_id
        parent_id, prompt, redacted = new.parent_id, new.prompt, new.prompt_redacted
        async with self._db.transaction():
            if parent_id is not None:
                parent = await self._db.fetch_one(
                    "SELECT prompt_author_id, prompt_redacted FROM generations WHERE id = ?",
                    (parent_id,),
                )
                if parent is None:
                    # Erased with its author: if the prompt was theirs, it goes too.
                    parent_id = None
                    redacted = redacted or author is not None
                else:
                    # The prompt was copied from the parent's, which its author has erased.
                    redacted = redacted or (
                        author is not None
                        and bool(parent["prompt_redacted"])
                        and parent["prompt_author_id"] == author
                    )
            if redacted:
                prompt = ""
            new_id = await self._db.insert(
                "INSERT INTO generations (user_id, user_name, guild_id, channel_id, form,"
                " poem_form, genre, prompt, params, seed, model, text, parent_id, created_at,"
                " prompt_author_id, prompt_redacted)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new.user_id,
                    new.user_name,
                    new.guild_id,
                    new.channel_id,
                    new.form,
                    new.poem_form,
                    new.genre,
                    prompt,
                    params,
                    new.seed,
                    new.model,
                    new.text,
                    parent_id,
                    created_at,
                    author,
                    int(redacted),
                ),
            )
        return GenerationRecord(
            id=new_id,
            user_id=new.user_id,
            user_name=new.user_name,
            guild_id=new.guild_id,
            channel_id=new.channel_id,
            form=new.form,
            poem_form=new.poem_form,
            genre=new.genre,
            prompt=prompt,
            params=frozen_json(params),
            seed=new.seed,
            model=new.model,
            text=new.text,
            parent_id=parent_id,
            created_at=from_db_time(created_at),
            prompt_author_id=author,
            prompt_redacted=redacted,
        )

    async def get(self, generation_id: int) -> GenerationRecord | None:
        """The piece with this id, or None. Pieces are public: anyone may fetch one."""
        row = await self._db.fetch_one(
            f"SELECT {generation_columns()} FROM generations WHERE id = ?", (generation_id,)
        )
        return None if row is None else generation_from_row(row)

    async def list_for_user(
        self, user_id: int, limit: int = 10, offset: int = 0
    ) -> list[GenerationRecord]:
        """A user's pieces, newest first."""
        check_page(limit, offset)
        rows = await self._db.fetch_all(
            f"SELECT {generation_columns()} FROM generations WHERE user_id = ?"
            " ORDER BY id DESC LIMIT ? OFFSET ?",
            (user_id, limit, offset),
        )
        return [generation_from_row(row) for row in rows]

    async def count_for_user(self, user_id: int) -> int:
        """How many pieces a user has."""
        count = await self._db.fetch_value(
            "SELECT COUNT(*) FROM generations WHERE user_id = ?", (user_id,)
        )
        return int(count)
