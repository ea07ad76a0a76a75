"""The owner's blocklist: users and guilds Inkwell refuses (``python -m bot block``, /owner)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.storage.executor import Executor, Row
from bot.storage.models import from_db_time, to_db_time
from bot.storage.validation import check_length

BlockKind = Literal["user", "guild"]
BLOCK_KINDS: tuple[BlockKind, ...] = ("user", "guild")
MAX_REASON_CHARS = 200
_MAX_SNOWFLAKE = 2**63 - 1


@dataclass(frozen=True)
class Block:
    """One blocked user or guild."""

    kind: BlockKind
    target_id: int
    reason: str
    blocked_at: datetime


def _block(row: Row) -> Block:
    return Block(row["kind"], row["target_id"], row["reason"], from_db_time(row["blocked_at"]))


def _check(kind: str, target_id: int) -> None:
    # The CLI and the cog check their input; this only catches bugs.
    if kind not in BLOCK_KINDS:
        raise ValueError(f"kind must be one of {BLOCK_KINDS}, got {kind!r}")
    if isinstance(target_id, bool) or not 0 < target_id <= _MAX_SNOWFLAKE:
        raise ValueError(f"target_id must be a Discord id, got {target_id!r}")


class BlocklistRepository:
    """Adds, removes and lists blocks. Blocking twice keeps the first block's time and
    takes the new reason, so re-running the CLI is harmless."""

    def __init__(self, executor: Executor, clock: Callable[[], datetime]) -> None:
        self._db = executor
        self._clock = clock

    async def block(self, kind: BlockKind, target_id: int, reason: str = "") -> bool:
        """Block ``target_id``; True if it was not blocked before."""
        _check(kind, target_id)
        reason = reason.strip()
        check_length(reason, "reason", MAX_REASON_CHARS)
        async with self._db.transaction():
            changed = await self._db.execute(
                "UPDATE blocklist SET reason = ? WHERE kind = ? AND target_id = ?",
                (reason, kind, target_id),
            )
            if changed:
                return False
            await self._db.execute(
                "INSERT INTO blocklist (kind, target_id, reason, blocked_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (kind, target_id) DO UPDATE SET reason = excluded.reason",
                (kind, target_id, reason, to_db_time(self._clock())),
            )
        return True

    async def unblock(self, kind: BlockKind, target_id: int) -> bool:
        """Lift a block; False if there was none."""
        _check(kind, target_id)
        async with self._db.transaction():
            changed = await self._db.execute(
                "DELETE FROM blocklist WHERE kind = ? AND target_id = ?", (kind, target_id)
            )
        return changed > 0

    async def is_blocked(self, kind: BlockKind, target_id: int) -> bool:
        """Whether ``target_id`` is blocked (one primary-key lookup)."""
        _check(kind, target_id)
        found = await self._db.fetch_value(
            "SELECT 1 FROM blocklist WHERE kind = ? AND target_id = ?", (kind, target_id)
        )
        return found is not None

    async def all(self) -> list[Block]:
        """Every block, users first, oldest first (the list stays short: it is the owner's)."""
        rows = await self._db.fetch_all(
            "SELECT kind, target_id, reason, blocked_at FROM blocklist"
            " ORDER BY kind DESC, blocked_at, target_id"
        )
        return [_block(row) for row in rows]
