"""Poem games: the game row (its rules' state, compare-and-swapped on ``version``), its lines,
and the guild's anthology of finished poems.

Every change to a game is one transaction whose UPDATE only matches the version the caller
read, so when two players act in the same instant exactly one move lands and the other caller
gets None back (and re-reads). A finished poem is stored as an ordinary generations row owned by
``ANTHOLOGY_USER_ID``, so stars, the hall of fame and visibility need nothing new.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.storage.errors import ChannelBusy, IntegrityViolation, InvalidText
from bot.storage.executor import Executor, Row
from bot.storage.generations import GenerationRepository, generation_columns, generation_from_row
from bot.storage.models import (
    ANTHOLOGY_USER_ID,
    GAME_STATUSES,
    OPEN_GAME_STATUSES,
    AnthologyPoem,
    GameLine,
    GameRow,
    GenerationRecord,
    NewGeneration,
    from_db_time,
    to_db_time,
)
from bot.storage.validation import (
    MAX_GAME_LINE_CHARS,
    MAX_GAME_STATE_CHARS,
    MAX_NAME_CHARS,
    MAX_PAGE_SIZE,
    check_length,
    to_json,
)

_GAME_COLUMNS = (
    "id",
    "guild_id",
    "channel_id",
    "host_id",
    "mode",
    "form",
    "status",
    "version",
    "state",
    "message_id",
    "poem_id",
    "created_at",
    "updated_at",
    "finished_at",
)
_LINE_COLUMNS = ("position", "author_id", "author_name", "by_ai", "text", "removed")
# Aliased so a join with generations (which has id, guild_id, text, ...) has no clashes.
_GAME_SELECT = ", ".join(f"games.{c} AS game_{c}" for c in _GAME_COLUMNS)
_LINE_SELECT = ", ".join(f"game_lines.{c} AS line_{c}" for c in _LINE_COLUMNS)
# A game and its lines in one statement: one snapshot, even on the reader connection, so a
# move committed between two queries can't pair a new version with old lines.
_GAMES_WITH_LINES = (
    f"SELECT {_GAME_SELECT}, {_LINE_SELECT} FROM games"
    " LEFT JOIN game_lines ON game_lines.game_id = games.id"
)
_OPEN = "games.status IN ('lobby', 'running')"
_MAX_ID = 2**63 - 1  # above every rowid: "no cursor yet"


def poem_text(line_texts: Iterable[str]) -> str:
    """A poem's text from its lines' texts, in position order (what its piece holds)."""
    return "\n".join(line_texts)


def _check_line(line: GameLine) -> None:
    if line.position < 0:
        raise ValueError(f"line positions start at 0, got {line.position}")
    if line.by_ai and line.author_id is not None:
        raise ValueError("the AI's lines have no author_id")
    if not line.by_ai and not line.removed and line.author_id is None:
        raise ValueError("a player's line needs its author_id")
    check_length(line.author_name, "player name", MAX_NAME_CHARS)
    check_length(line.text, "line", MAX_GAME_LINE_CHARS)
    if not line.text.strip():
        raise InvalidText("A line of the poem can't be empty.")
    # The poem's stored text is its lines joined by "\n": a break inside one would split it.
    if line.text.splitlines() != [line.text]:
        raise InvalidText("A line of the poem must be one line: no line breaks.")


def _check_status(status: str) -> None:
    if status not in GAME_STATUSES:
        raise ValueError(f"status must be one of {GAME_STATUSES}, got {status!r}")


def _encode_state(state: Mapping[str, Any]) -> str:
    return to_json(state, "game state", MAX_GAME_STATE_CHARS)


def _line_from_row(row: Row, prefix: str = "line_") -> GameLine:
    return GameLine(
        position=row[f"{prefix}position"],
        author_id=row[f"{prefix}author_id"],
        author_name=row[f"{prefix}author_name"],
        text=row[f"{prefix}text"],
        by_ai=bool(row[f"{prefix}by_ai"]),
        removed=bool(row[f"{prefix}removed"]),
    )


def _game_from_row(row: Row, lines: tuple[GameLine, ...]) -> GameRow:
    finished_at = row["game_finished_at"]
    return GameRow(
        id=row["game_id"],
        guild_id=row["game_guild_id"],
        channel_id=row["game_channel_id"],
        host_id=row["game_host_id"],
        mode=row["game_mode"],
        form=row["game_form"],
        status=row["game_status"],
        version=row["game_version"],
        state=json.loads(row["game_state"]),
        message_id=row["game_message_id"],
        poem_id=row["game_poem_id"],
        created_at=from_db_time(row["game_created_at"]),
        updated_at=from_db_time(row["game_updated_at"]),
        finished_at=None if finished_at is None else from_db_time(finished_at),
        lines=lines,
    )


def _group_lines(rows: Sequence[Row]) -> list[tuple[Row, tuple[GameLine, ...]]]:
    """Rows of a game LEFT JOIN its lines (ordered by game, then position) -> one entry per
    game: its first row and its lines (none when the join found no line)."""
    grouped: list[tuple[Row, list[GameLine]]] = []
    for row in rows:
        if not grouped or grouped[-1][0]["game_id"] != row["game_id"]:
            grouped.append((row, []))
        if row["line_position"] is not None:
            grouped[-1][1].append(_line_from_row(row))
    return [(first, tuple(lines)) for first, lines in grouped]


class GameRepository:
    """Poem games and the anthology. Methods that change a game take the version the caller
    last read and return None when the game has moved on since (or has ended)."""

    def __init__(
        self,
        executor: Executor,
        clock: Callable[[], datetime],
        generations: GenerationRepository,
    ) -> None:
        self._db = executor
        self._clock = clock
        # Poems are written through the generations repository, so they are checked and
        # stored exactly like any other piece.
        self._generations = generations

    async def create(
        self,
        guild_id: int | None,
        channel_id: int,
        host_id: int,
        mode: str,
        form: str,
        state: Mapping[str, Any],
    ) -> GameRow:
        """Open a game in the lobby (version 0).

        Raises `ChannelBusy` if the channel already has a game in its lobby or running. The
        unique index decides, not a prior lookup, so two starts at once can't both succeed.
        """
        encoded = _encode_state(state)
        now = to_db_time(self._clock())
        try:
            async with self._db.transaction():
                game_id = await self._db.insert(
                    "INSERT INTO games (guild_id, channel_id, host_id, mode, form, status,"
                    " version, state, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, 'lobby', 0, ?, ?, ?)",
                    (guild_id, channel_id, host_id, mode, form, encoded, now, now),
                )
                game = await self._get(game_id)
        except IntegrityViolation as exc:
            if not exc.violates("games", "channel_id"):
                raise
            raise ChannelBusy from exc
        assert game is not None
        return game

    async def get(self, game_id: int) -> GameRow | None:
        """The game with its lines in order, or None."""
        return await self._get(game_id)

    async def open_in_channel(self, channel_id: int) -> GameRow | None:
        """The channel's game in its lobby or running, if any."""
        rows = await self._db.fetch_all(
            f"{_GAMES_WITH_LINES} WHERE games.channel_id = ? AND {_OPEN}"
            " ORDER BY game_lines.position",
            (channel_id,),
        )
        games = _group_lines(rows)
        return _game_from_row(*games[0]) if games else None

    async def open_games(self) -> list[GameRow]:
        """Every game in a lobby or running, oldest first (to resume them after a restart)."""
        rows = await self._db.fetch_all(
            f"{_GAMES_WITH_LINES} WHERE {_OPEN} ORDER BY games.id, game_lines.position"
        )
        return [_game_from_row(first, lines) for first, lines in _group_lines(rows)]

    async def save(
        self,
        game_id: int,
        expected_version: int,
        *,
        status: str,
        state: Mapping[str, Any],
        new_lines: Sequence[GameLine] = (),
    ) -> GameRow | None:
        """Store a move: the new status and state, and the lines it added, as one change.

        Returns the game at its new version, or None (writing nothing) when the game is not at
        ``expected_version`` any more, has finished or been cancelled, or doesn't exist. A
        line at a position the game already has is a bug: it raises `IntegrityViolation`
        and nothing is written. Setting status "finished" here stores no poem (use `finish`).
        """
        _check_status(status)
        encoded = _encode_state(state)
        for line in new_lines:
            _check_line(line)
        async with self._db.transaction():
            if not await self._swap(game_id, expected_version, status, encoded):
                return None
            await self._insert_lines(game_id, new_lines)
            game = await self._get(game_id)
        assert game is not None
        return game

    async def set_message(self, game_id: int, message_id: int | None) -> bool:
        """Remember the lobby/board message. Not a move: the version stays, so a player's move
        read before the message was posted still lands. False if there is no such game."""
        async with self._db.transaction():
            changed = await self._db.execute(
                "UPDATE games SET message_id = ? WHERE id = ?", (message_id, game_id)
            )
        return changed > 0

    async def finish(
        self,
        game_id: int,
        expected_version: int,
        *,
        state: Mapping[str, Any],
        new_lines: Sequence[GameLine],
        poem: NewGeneration,
    ) -> tuple[GameRow, GenerationRecord] | None:
        """End the game with its poem, in one transaction: the last move (as `save`, status
        "finished"), the poem as a generations row, and the game's link to it.

        Of ``poem`` the caller chooses the name, form, prompt (e.g. the title), model, seed
        and params; its owner is always ``ANTHOLOGY_USER_ID``, its guild and channel the
        game's, and its text the game's lines joined by "\\n" (so erasing an author can
        rebuild it). Returns None, writing nothing, when the game has moved on or ended.
        """
        encoded = _encode_state(state)
        for line in new_lines:
            _check_line(line)
        async with self._db.transaction():
            if not await self._swap(game_id, expected_version, "finished", encoded):
                return None
            await self._insert_lines(game_id, new_lines)
            game = await self._get(game_id)
            assert game is not None
            record = await self._generations.add(
                dataclasses.replace(
                    poem,
                    user_id=ANTHOLOGY_USER_ID,
                    guild_id=game.guild_id,
                    channel_id=game.channel_id,
                    text=poem_text(line.text for line in game.lines),
                )
            )
            await self._db.execute(
                "UPDATE games SET poem_id = ? WHERE id = ?", (record.id, game_id)
            )
        return dataclasses.replace(game, poem_id=record.id), record

    async def anthology(
        self, guild_id: int | None, *, before_id: int | None = None, limit: int = 10
    ) -> list[AnthologyPoem]:
        """The guild's finished poems (None: the console's), newest first.

        Keyset paging: pass the last poem's ``record.id`` as ``before_id`` for the next page,
        so a poem finished meanwhile doesn't shift the pages.
        """
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}, got {limit}")
        rows = await self._db.fetch_all(
            f"SELECT {generation_columns('generations')}, page.game_id AS game_id,"
            f" page.mode AS game_mode, page.form AS game_form, {_LINE_SELECT}"
            " FROM (SELECT id AS game_id, mode, form, poem_id FROM games"
            "       WHERE guild_id IS ? AND poem_id IS NOT NULL AND poem_id < ?"
            "       ORDER BY poem_id DESC LIMIT ?) AS page"
            " JOIN generations ON generations.id = page.poem_id"
            " LEFT JOIN game_lines ON game_lines.game_id = page.game_id"
            " ORDER BY generations.id DESC, game_lines.position",
            (guild_id, _MAX_ID if before_id is None else before_id, limit),
        )
        return self._poems(rows)

    async def anthology_poem(self, generation_id: int) -> AnthologyPoem | None:
        """The game poem stored as this piece, or None (no such piece, or not a game's)."""
        rows = await self._db.fetch_all(
            f"SELECT {generation_columns('generations')}, games.id AS game_id,"
            f" games.mode AS game_mode, games.form AS game_form, {_LINE_SELECT}"
            " FROM games JOIN generations ON generations.id = games.poem_id"
            " LEFT JOIN game_lines ON game_lines.game_id = games.id"
            " WHERE games.poem_id = ? ORDER BY game_lines.position",
            (generation_id,),
        )
        poems = self._poems(rows)
        return poems[0] if poems else None

    async def anthology_count(self, guild_id: int | None) -> int:
        """How many finished poems the guild's anthology holds (None: the console's)."""
        count = await self._db.fetch_value(
            "SELECT COUNT(*) FROM games WHERE guild_id IS ? AND poem_id IS NOT NULL",
            (guild_id,),
        )
        return int(count)

    async def _get(self, game_id: int) -> GameRow | None:
        rows = await self._db.fetch_all(
            f"{_GAMES_WITH_LINES} WHERE games.id = ? ORDER BY game_lines.position", (game_id,)
        )
        games = _group_lines(rows)
        return _game_from_row(*games[0]) if games else None

    async def _swap(self, game_id: int, expected_version: int, status: str, state: str) -> bool:
        """The compare-and-swap: bump the version only if it is still ``expected_version``
        and the game is still open. Must run inside the caller's transaction."""
        now = to_db_time(self._clock())
        ended = status not in OPEN_GAME_STATUSES
        changed = await self._db.execute(
            "UPDATE games SET status = ?, state = ?, version = version + 1, updated_at = ?,"
            " finished_at = CASE WHEN ? = 1 THEN ? ELSE finished_at END"
            f" WHERE id = ? AND version = ? AND {_OPEN}",
            (status, state, now, int(ended), now, game_id, expected_version),
        )
        return changed > 0

    async def _insert_lines(self, game_id: int, lines: Sequence[GameLine]) -> None:
        now = to_db_time(self._clock())
        for line in lines:
            # Plain INSERT: a position already taken means the caller's state is stale or
            # wrong, and must fail the whole move rather than overwrite someone's line.
            await self._db.execute(
                "INSERT INTO game_lines (game_id, position, author_id, author_name, by_ai,"
                " text, removed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    game_id,
                    line.position,
                    line.author_id,
                    line.author_name,
                    int(line.by_ai),
                    line.text,
                    int(line.removed),
                    now,
                ),
            )

    @staticmethod
    def _poems(rows: Sequence[Row]) -> list[AnthologyPoem]:
        """Rows of generation + game + LEFT JOINed lines, grouped by poem in row order."""
        poems: list[tuple[Row, list[GameLine]]] = []
        for row in rows:
            if not poems or poems[-1][0]["id"] != row["id"]:
                poems.append((row, []))
            if row["line_position"] is not None:
                poems[-1][1].append(_line_from_row(row))
        return [
            AnthologyPoem(
                record=generation_from_row(first),
                game_id=first["game_id"],
                mode=first["game_mode"],
                form=first["game_form"],
                lines=tuple(lines),
            )
            for first, lines in poems
        ]
