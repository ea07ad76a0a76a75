"""Favourites (stars): private per user, counted publicly in a guild's hall of fame."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import datetime

from bot.storage.errors import LimitReached, NotFound
from bot.storage.executor import Executor, Row
from bot.storage.generations import generation_columns, generation_from_row
from bot.storage.models import (
    Favorite,
    FavoriteAdded,
    FavoriteWithPiece,
    HallOfFameEntry,
    from_db_time,
    to_db_time,
)
from bot.storage.validation import MAX_FAVORITES, check_page

_FAVORITE_WITH_PIECE = (
    "SELECT favorites.id AS favorite_id, favorites.user_id AS favorite_user_id,"
    " favorites.created_at AS favorite_created_at, "
    + generation_columns("generations")
    + " FROM favorites JOIN generations ON generations.id = favorites.generation_id"
)


def favorite_from_row(row: Row) -> Favorite:
    """Build a record from a row of the favorites table."""
    return Favorite(
        id=row["id"],
        user_id=row["user_id"],
        generation_id=row["generation_id"],
        created_at=from_db_time(row["created_at"]),
    )


def _favorite_with_piece(row: Row) -> FavoriteWithPiece:
    piece = generation_from_row(row)
    favorite = Favorite(
        id=row["favorite_id"],
        user_id=row["favorite_user_id"],
        generation_id=piece.id,
        created_at=from_db_time(row["favorite_created_at"]),
    )
    return FavoriteWithPiece(favorite=favorite, piece=piece)


_MAX_ID = 2**63 - 1  # above every rowid


class FavoriteRepository:
    """Every method takes the acting `user_id`; users only ever see their own rows."""

    def __init__(
        self, executor: Executor, clock: Callable[[], datetime], max_per_user: int = MAX_FAVORITES
    ) -> None:
        self._db = executor
        self._clock = clock
        self._max_per_user = max_per_user

    async def add(self, user_id: int, generation_id: int) -> FavoriteAdded:
        """Star a piece. Idempotent: starring it again returns the existing favourite
        with `created=False` (a double click must not create two rows).

        Raises `NotFound` if the piece has been deleted, `LimitReached` when the user already
        has the most favourites allowed.
        """
        async with self._db.transaction():
            # Look-then-insert: two clicks at once must find, not both insert, the row; and
            # the per-user count must see every other star of this user, so the lock is the
            # user's, not the piece's.
            await self._db.lock("favorites", user_id)
            existing = await self._db.fetch_one(
                "SELECT id, user_id, generation_id, created_at FROM favorites"
                " WHERE user_id = ? AND generation_id = ?",
                (user_id, generation_id),
            )
            if existing is not None:
                return FavoriteAdded(favorite_from_row(existing), created=False)
            piece = await self._db.fetch_value(
                "SELECT 1 FROM generations WHERE id = ?", (generation_id,)
            )
            if piece is None:
                raise NotFound("That piece has been deleted, so it can't be favourited.")
            if await self.count(user_id) >= self._max_per_user:
                raise LimitReached("favourites", self._max_per_user, "/favorites remove")
            created_at = to_db_time(self._clock())
            new_id = await self._db.insert(
                "INSERT INTO favorites (user_id, generation_id, created_at) VALUES (?, ?, ?)",
                (user_id, generation_id, created_at),
            )
        favorite = Favorite(new_id, user_id, generation_id, from_db_time(created_at))
        return FavoriteAdded(favorite, created=True)

    async def remove(self, user_id: int, favorite_id: int) -> bool:
        """Unstar by favourite id. False if there is no such favourite *of this user*."""
        async with self._db.transaction():
            changed = await self._db.execute(
                "DELETE FROM favorites WHERE id = ? AND user_id = ?", (favorite_id, user_id)
            )
        return changed > 0

    async def remove_piece(self, user_id: int, generation_id: int) -> bool:
        """Unstar by piece (for a toggle button on the piece's message)."""
        async with self._db.transaction():
            changed = await self._db.execute(
                "DELETE FROM favorites WHERE generation_id = ? AND user_id = ?",
                (generation_id, user_id),
            )
        return changed > 0

    async def get(self, user_id: int, favorite_id: int) -> FavoriteWithPiece | None:
        """One of the user's favourites with its piece; None if absent or not theirs."""
        row = await self._db.fetch_one(
            _FAVORITE_WITH_PIECE + " WHERE favorites.id = ? AND favorites.user_id = ?",
            (favorite_id, user_id),
        )
        return None if row is None else _favorite_with_piece(row)

    async def list(
        self, user_id: int, limit: int = 10, offset: int = 0
    ) -> builtins.list[FavoriteWithPiece]:
        """The user's favourites, most recently starred first."""
        check_page(limit, offset)
        rows = await self._db.fetch_all(
            _FAVORITE_WITH_PIECE
            + " WHERE favorites.user_id = ? ORDER BY favorites.id DESC LIMIT ? OFFSET ?",
            (user_id, limit, offset),
        )
        return [_favorite_with_piece(row) for row in rows]

    async def list_before(
        self, user_id: int, limit: int, before_id: int | None = None
    ) -> builtins.list[FavoriteWithPiece]:
        """The user's favourites older than favourite ``before_id`` (None: from the newest),
        newest first. Keyset paging: each page is an index seek however deep it is, and a
        favourite removed meanwhile never makes the next page skip one."""
        check_page(limit, 0)
        rows = await self._db.fetch_all(
            _FAVORITE_WITH_PIECE + " WHERE favorites.user_id = ? AND favorites.id < ?"
            " ORDER BY favorites.id DESC LIMIT ?",
            (user_id, _MAX_ID if before_id is None else before_id, limit),
        )
        return [_favorite_with_piece(row) for row in rows]

    async def count(self, user_id: int) -> int:
        """How many favourites the user has."""
        count = await self._db.fetch_value(
            "SELECT COUNT(*) FROM favorites WHERE user_id = ?", (user_id,)
        )
        return int(count)

    async def stars(self, generation_id: int) -> int:
        """How many users starred a piece (public: shown on the piece)."""
        count = await self._db.fetch_value(
            "SELECT COUNT(*) FROM favorites WHERE generation_id = ?", (generation_id,)
        )
        return int(count)

    async def hall_of_fame(self, guild_id: int, limit: int = 10) -> builtins.list[HallOfFameEntry]:
        """The most-starred pieces made in a guild.

        Ties go to the older piece (it got there first), which keeps the ranking
        stable between views.
        """
        check_page(limit, 0)
        rows = await self._db.fetch_all(
            f"SELECT {generation_columns('g')}, COUNT(*) AS stars"
            " FROM generations AS g JOIN favorites AS f ON f.generation_id = g.id"
            " WHERE g.guild_id = ? GROUP BY g.id ORDER BY stars DESC, g.id ASC LIMIT ?",
            (guild_id, limit),
        )
        return [HallOfFameEntry(generation_from_row(row), row["stars"]) for row in rows]
