"""Frozen records returned by the repositories (callers never see rows or SQL)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, NamedTuple

CONSOLE_USER_ID = 0  # The offline console has no Discord account.
# Owner of every finished poem-game poem. The poem belongs to all its authors, so it must not
# be any one of them (erasing one author's data would delete it); Discord ids are never negative.
ANTHOLOGY_USER_ID = -1

GAME_STATUSES = ("lobby", "running", "finished", "cancelled")
OPEN_GAME_STATUSES = ("lobby", "running")
REMOVED_LINE = "(removed)"  # what an erased author's line and name become


def utc_now() -> datetime:
    """Default clock: timezone-aware UTC."""
    return datetime.now(UTC)


def to_db_time(moment: datetime) -> str:
    """Store times as ISO-8601 UTC text: sortable and readable in the sqlite3 shell."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass a UTC-aware datetime")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(text: str) -> datetime:
    """Inverse of `to_db_time`."""
    return datetime.fromisoformat(text).astimezone(UTC)


def frozen_json(text: str) -> Mapping[str, Any]:
    """Decode a JSON column into a read-only mapping, so frozen records stay frozen."""
    return MappingProxyType(json.loads(text))


@dataclass(frozen=True, slots=True)
class NewGeneration:
    """What a caller supplies to record a generated piece."""

    user_id: int
    user_name: str
    guild_id: int | None
    channel_id: int | None
    form: str
    prompt: str
    params: Mapping[str, Any] = field(hash=False)  # hash by the other fields
    seed: int
    model: str
    text: str
    poem_form: str | None = None
    genre: str | None = None
    parent_id: int | None = None
    # Whose words the prompt holds, when not the requester's own (None: their own).
    prompt_author_id: int | None = None
    # Their author erased their data while the piece was written: store it without them.
    prompt_redacted: bool = False


@dataclass(frozen=True, slots=True)
class GenerationRecord:
    """A stored piece. `user_name` is the display name at the time, for attribution."""

    id: int
    user_id: int
    user_name: str
    guild_id: int | None
    channel_id: int | None
    form: str
    poem_form: str | None
    genre: str | None
    prompt: str
    params: Mapping[str, Any] = field(hash=False)  # hash by the other fields
    seed: int
    model: str
    text: str
    parent_id: int | None
    created_at: datetime
    prompt_author_id: int | None = None
    prompt_redacted: bool = False  # its author erased their data: the prompt is gone

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (used by the data export).

        A prompt holding someone else's words (`prompt_author_id` set) is left out: the
        export is the requester's data, and those words are the other person's.
        """
        by_another = self.prompt_author_id is not None
        return {
            "id": self.id,
            "user_id": self.user_id,
            "user_name": self.user_name,
            "guild_id": self.guild_id,
            "channel_id": self.channel_id,
            "form": self.form,
            "poem_form": self.poem_form,
            "genre": self.genre,
            "prompt": "" if by_another else self.prompt,
            "prompt_by_another_user": by_another,
            "params": dict(self.params),
            "seed": self.seed,
            "model": self.model,
            "text": self.text,
            "parent_id": self.parent_id,
            "created_at": self.created_at.isoformat(),
            "prompt_redacted": self.prompt_redacted,
        }


@dataclass(frozen=True, slots=True)
class Favorite:
    """A user's star on a piece. `id` is the number shown to the user."""

    id: int
    user_id: int
    generation_id: int
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (used by the data export)."""
        return {
            "id": self.id,
            "generation_id": self.generation_id,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class FavoriteWithPiece:
    """A favourite together with the piece it points at."""

    favorite: Favorite
    piece: GenerationRecord


class FavoriteAdded(NamedTuple):
    """Result of starring: the favourite, and whether this call created it."""

    favorite: Favorite
    created: bool


class HallOfFameEntry(NamedTuple):
    """A piece and how many distinct users starred it (unpacks as `piece, stars`)."""

    piece: GenerationRecord
    stars: int


@dataclass(frozen=True, slots=True)
class SavedPrompt:
    """A private, named prompt a user can reuse."""

    id: int
    user_id: int
    name: str
    text: str
    form: str
    options: Mapping[str, Any] = field(hash=False)  # hash by the other fields
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (used by the data export)."""
        return {
            "id": self.id,
            "name": self.name,
            "text": self.text,
            "form": self.form,
            "options": dict(self.options),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """Per-guild overrides. `None` means "use the bot's default"."""

    guild_id: int
    allowed_channel_ids: frozenset[int] = field(default_factory=frozenset)
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_new_tokens: int | None = None
    cooldown_seconds: int | None = None
    # Content safety: the rating's name (bot.safety.Rating) and the guild's own blocked
    # words, in their normal form.
    content_rating: str = "standard"
    blocked_words: frozenset[str] = field(default_factory=frozenset)
    # The adapter (a community's voice) its pieces are written with; None: the base model.
    voice_adapter: str | None = None

    def allows_channel(self, channel_id: int) -> bool:
        """An empty allow-list means every channel is allowed."""
        return not self.allowed_channel_ids or channel_id in self.allowed_channel_ids


@dataclass(frozen=True, slots=True)
class GameLine:
    """One line of a poem game. ``author_id`` is None for the AI's lines (``by_ai``) and for
    lines whose author erased their data (``removed``: text and name read "(removed)")."""

    position: int  # 0-based, unique within the game
    author_id: int | None
    author_name: str
    text: str
    by_ai: bool = False
    removed: bool = False


@dataclass(frozen=True, slots=True)
class GameRow:
    """A stored poem game. ``state`` is the game rules' own JSON, decoded afresh for each
    read (so changing it changes nothing stored); ``version`` grows by one per change."""

    id: int
    guild_id: int | None
    channel_id: int
    host_id: int
    mode: str
    form: str
    status: str  # one of GAME_STATUSES
    version: int
    state: dict[str, Any] = field(hash=False)  # hash by the other fields
    message_id: int | None
    poem_id: int | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    lines: tuple[GameLine, ...] = ()  # ordered by position

    @property
    def is_open(self) -> bool:
        """In the lobby or running: the channel's one open game."""
        return self.status in OPEN_GAME_STATUSES


@dataclass(frozen=True, slots=True)
class AnthologyPoem:
    """A finished game's poem (``record``, owned by ANTHOLOGY_USER_ID) with its lines."""

    record: GenerationRecord
    game_id: int
    mode: str
    form: str
    lines: tuple[GameLine, ...]


@dataclass(frozen=True, slots=True)
class DeletedCounts:
    """What `UserDataRepository.delete_all` removed."""

    generations: int
    favorites: int
    prompts: int
    others_favorites: int  # other users' stars on the deleted pieces
    redacted_prompts: int = 0  # the user's words erased from other people's pieces
    removed_lines: int = 0  # the user's poem-game lines, now "(removed)"
    daily_entries: int = 0  # the user's prompt-of-the-day entries

    @property
    def total(self) -> int:
        """Rows removed or redacted in all."""
        return (
            self.generations
            + self.favorites
            + self.prompts
            + self.others_favorites
            + self.redacted_prompts
            + self.removed_lines
            + self.daily_entries
        )
