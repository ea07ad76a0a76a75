"""A community's voice: members' consent to training, the texts a guild's adapter may learn
from, and the record of each adapter (what it was built from, whether it needs retraining).

Consent is checked when the corpus is read, never cached: a member who withdraws is out of
the next corpus, and every adapter that learned from them is marked for retraining.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.storage.executor import Executor
from bot.storage.models import ANTHOLOGY_USER_ID, from_db_time, to_db_time

SOURCES = ("anthology", "submissions", "favorites")


@dataclass(frozen=True)
class CorpusText:
    """One text an adapter may learn from, with every member who wrote part of it."""

    source: str
    ref: int  # the piece's, entry's or poem's id in its own table
    text: str
    author_ids: frozenset[int]


@dataclass(frozen=True)
class Corpus:
    """The texts of a guild whose authors all allowed training, and how many were left out."""

    texts: tuple[CorpusText, ...]
    left_out: int

    @property
    def authors(self) -> frozenset[int]:
        """Everyone whose words are in it."""
        return frozenset(author for text in self.texts for author in text.author_ids)


@dataclass(frozen=True)
class AdapterRecord:
    """An adapter's provenance and card, as the database keeps it."""

    name: str
    guild_id: int | None
    base_model: str
    authors: int
    pieces: int
    built_at: datetime
    needs_retraining: bool
    card: dict[str, Any]


def _adapter_from_row(row: Any) -> AdapterRecord:
    return AdapterRecord(
        name=row["name"],
        guild_id=row["guild_id"],
        base_model=row["base_model"],
        authors=row["authors"],
        pieces=row["pieces"],
        built_at=from_db_time(row["built_at"]),
        needs_retraining=bool(row["needs_retraining"]),
        card=json.loads(row["card"]),
    )


class VoiceRepository:
    """Consent, corpora and adapter records."""

    def __init__(self, executor: Executor, clock: Callable[[], datetime]) -> None:
        self._db = executor
        self._clock = clock

    async def set_consent(self, user_id: int, allowed: bool) -> int:
        """Record the member's choice; on a withdrawal, mark every adapter that learned from
        them for retraining (and forget that it did). Returns how many adapters were marked."""
        now = to_db_time(self._clock())
        async with self._db.transaction():
            await self._db.execute(
                "INSERT INTO training_consent (user_id, allowed, changed_at) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET allowed = excluded.allowed,"
                " changed_at = excluded.changed_at",
                (user_id, int(allowed), now),
            )
            return 0 if allowed else await self.forget_author(user_id)

    async def consent_of(self, user_id: int) -> bool:
        """Whether the member allowed training (no choice yet means no)."""
        allowed = await self._db.fetch_value(
            "SELECT allowed FROM training_consent WHERE user_id = ?", (user_id,)
        )
        return bool(allowed)

    async def forget_author(self, user_id: int) -> int:
        """Mark every adapter built from ``user_id``'s words for retraining and drop the link
        (erasure calls this inside its own transaction). Returns how many were marked."""
        marked = await self._db.execute(
            "UPDATE voice_adapters SET needs_retraining = 1 WHERE name IN"
            " (SELECT adapter FROM voice_adapter_authors WHERE user_id = ?)",
            (user_id,),
        )
        await self._db.execute("DELETE FROM voice_adapter_authors WHERE user_id = ?", (user_id,))
        return marked

    async def corpus(self, guild_id: int, sources: Iterable[str]) -> Corpus:
        """The guild's texts from ``sources`` whose every human author allowed training.

        A finished game's poem counts only whole: if one of its authors did not allow it, or
        erased their lines, the poem is left out rather than cut. The AI's own lines belong
        to no one. Favourites are the pieces members of the guild starred, written for a
        member who allowed it (game poems are the anthology's, not favourites)."""
        wanted = set(sources)
        unknown = wanted - set(SOURCES)
        if unknown:
            raise ValueError(f"unknown corpus sources: {sorted(unknown)}")
        texts: list[CorpusText] = []
        left_out = 0
        async with self._db.transaction():
            allowed = {
                row["user_id"]
                for row in await self._db.fetch_all(
                    "SELECT user_id FROM training_consent WHERE allowed = 1"
                )
            }
            if "anthology" in wanted:
                kept, dropped = await self._anthology(guild_id, allowed)
                texts += kept
                left_out += dropped
            if "submissions" in wanted:
                for row in await self._db.fetch_all(
                    "SELECT id, user_id, text FROM daily_entries WHERE guild_id = ? ORDER BY id",
                    (guild_id,),
                ):
                    if row["user_id"] in allowed:
                        texts.append(
                            CorpusText(
                                "submissions", row["id"], row["text"], frozenset({row["user_id"]})
                            )
                        )
                    else:
                        left_out += 1
            if "favorites" in wanted:
                for row in await self._db.fetch_all(
                    "SELECT DISTINCT g.id, g.user_id, g.text FROM generations g"
                    " JOIN favorites f ON f.generation_id = g.id"
                    " WHERE g.guild_id = ? AND g.user_id != ? ORDER BY g.id",
                    (guild_id, ANTHOLOGY_USER_ID),
                ):
                    if row["user_id"] in allowed:
                        texts.append(
                            CorpusText(
                                "favorites", row["id"], row["text"], frozenset({row["user_id"]})
                            )
                        )
                    else:
                        left_out += 1
        return Corpus(tuple(texts), left_out)

    async def _anthology(self, guild_id: int, allowed: set[int]) -> tuple[list[CorpusText], int]:
        rows = await self._db.fetch_all(
            "SELECT games.poem_id, g.text, game_lines.author_id, game_lines.by_ai,"
            " game_lines.removed FROM games"
            " JOIN generations g ON g.id = games.poem_id"
            " JOIN game_lines ON game_lines.game_id = games.id"
            " WHERE games.guild_id = ? AND games.status = 'finished'"
            " ORDER BY games.poem_id, game_lines.position",
            (guild_id,),
        )
        poems: dict[int, tuple[str, set[int], bool]] = {}
        for row in rows:
            text, authors, whole = poems.setdefault(row["poem_id"], (row["text"], set(), True))
            if row["by_ai"]:
                continue
            if row["removed"] or row["author_id"] is None or row["author_id"] not in allowed:
                whole = False
            else:
                authors.add(row["author_id"])
            poems[row["poem_id"]] = (text, authors, whole)
        kept = [
            CorpusText("anthology", poem_id, text, frozenset(authors))
            for poem_id, (text, authors, whole) in poems.items()
            if whole and authors
        ]
        return kept, len(poems) - len(kept)

    async def record_adapter(
        self,
        *,
        name: str,
        guild_id: int | None,
        base_model: str,
        author_ids: Iterable[int],
        pieces: int,
        card: dict[str, Any],
    ) -> AdapterRecord:
        """Store (or replace, after retraining) an adapter's record and its authors."""
        authors = sorted(set(author_ids))
        built_at = self._clock()
        async with self._db.transaction():
            await self._db.execute("DELETE FROM voice_adapters WHERE name = ?", (name,))
            await self._db.execute(
                "INSERT INTO voice_adapters (name, guild_id, base_model, authors, pieces,"
                " built_at, needs_retraining, card) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                (
                    name,
                    guild_id,
                    base_model,
                    len(authors),
                    pieces,
                    to_db_time(built_at),
                    json.dumps(card, ensure_ascii=False),
                ),
            )
            for user_id in authors:
                await self._db.execute(
                    "INSERT INTO voice_adapter_authors (adapter, user_id) VALUES (?, ?)",
                    (name, user_id),
                )
        record = await self.adapter(name)
        assert record is not None
        return record

    async def adapter(self, name: str) -> AdapterRecord | None:
        """The adapter called ``name``, if one was recorded."""
        row = await self._db.fetch_one(
            "SELECT name, guild_id, base_model, authors, pieces, built_at, needs_retraining,"
            " card FROM voice_adapters WHERE name = ?",
            (name,),
        )
        return None if row is None else _adapter_from_row(row)

    async def adapters(self, guild_id: int | None = None) -> list[AdapterRecord]:
        """Every adapter (or a guild's, plus those built from files), by name."""
        rows = await self._db.fetch_all(
            "SELECT name, guild_id, base_model, authors, pieces, built_at, needs_retraining,"
            " card FROM voice_adapters"
            + ("" if guild_id is None else " WHERE guild_id = ? OR guild_id IS NULL")
            + " ORDER BY name",
            () if guild_id is None else (guild_id,),
        )
        return [_adapter_from_row(row) for row in rows]
