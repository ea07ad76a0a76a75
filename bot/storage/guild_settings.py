"""Per-guild settings: allowed channels, overrides of the bot's defaults, and content safety
(the content rating and the guild's own blocked words)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from bot.storage.errors import StorageError
from bot.storage.executor import Executor, Row
from bot.storage.models import GuildSettings, to_db_time

CONTENT_RATINGS = ("strict", "standard", "off")


class _Unset(enum.Enum):
    UNSET = enum.auto()


UNSET = _Unset.UNSET
"""Marks "leave this setting alone" in `update`, since None means "use the default"."""


def _check_optional(name: str, value: float | None, *, minimum: float, integer: bool) -> None:
    # The cogs clamp admin input with app_commands.Range; this only catches bugs.
    if value is None:
        return
    if integer and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError(f"{name} must be an int or None, got {value!r}")
    if value != value or value < minimum:  # value != value: NaN
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")


class GuildSettingsRepository:
    """Reads never fail: a guild without a row gets `GuildSettings(guild_id)`.

    Every guild's settings are kept in memory (loaded once by `load`, replaced after each
    committed change), so commands read them before acknowledging an interaction without
    ever waiting on a write transaction or the connection: Discord allows only 3 seconds
    for that acknowledgement. Changes must go through this repository: another process
    writing the table directly is only seen after a restart.
    """

    def __init__(self, executor: Executor, clock: Callable[[], datetime]) -> None:
        self._db = executor
        self._clock = clock
        self._cache: dict[int, GuildSettings] | None = None

    async def load(self) -> None:
        """Read every guild's settings into memory (called when the database opens).

        One statement, so both tables are read from one snapshot without taking a lock.
        """
        rows = await self._db.fetch_all(
            "SELECT guild_id, temperature, top_p, top_k, max_new_tokens, cooldown_seconds,"
            " content_rating, voice_adapter, NULL AS channel_id, NULL AS word"
            " FROM guild_settings UNION ALL SELECT guild_id, NULL, NULL, NULL, NULL, NULL, NULL,"
            " NULL, channel_id, NULL FROM guild_allowed_channels"
            " UNION ALL SELECT guild_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, word"
            " FROM guild_blocked_words"
        )
        cache: dict[int, GuildSettings] = {}
        channels: dict[int, set[int]] = {}
        words: dict[int, set[str]] = {}
        for row in rows:
            guild_id = row["guild_id"]
            if row["channel_id"] is not None:
                channels.setdefault(guild_id, set()).add(row["channel_id"])
                cache.setdefault(guild_id, GuildSettings(guild_id))
            elif row["word"] is not None:
                words.setdefault(guild_id, set()).add(row["word"])
                cache.setdefault(guild_id, GuildSettings(guild_id))
            else:
                cache[guild_id] = _settings_from_row(row)
        self._cache = {
            guild_id: replace(
                settings,
                allowed_channel_ids=frozenset(channels.get(guild_id, ())),
                blocked_words=frozenset(words.get(guild_id, ())),
            )
            for guild_id, settings in cache.items()
        }

    def cached(self, guild_id: int) -> GuildSettings:
        """The guild's settings from memory; no database access, never waits."""
        if self._cache is None:
            raise RuntimeError("guild settings are not loaded yet (Database.open loads them)")
        return self._cache.get(guild_id) or GuildSettings(guild_id)

    async def get(self, guild_id: int) -> GuildSettings:
        """The guild's settings, with defaults for anything never set (from memory, so it
        never waits on the database; `async` for the callers written before the cache)."""
        if self._cache is not None:
            return self.cached(guild_id)
        return await self._read(guild_id)

    def _remember(self, settings: GuildSettings) -> None:
        """Put `settings` in the cache once the caller's transaction commits."""

        def store() -> None:
            if self._cache is not None:
                self._cache[settings.guild_id] = settings

        self._db.after_commit(store)

    def _forget(self, guild_id: int) -> None:
        if self._cache is not None:
            self._cache.pop(guild_id, None)

    async def _read(self, guild_id: int) -> GuildSettings:
        row = await self._db.fetch_one(
            "SELECT guild_id, temperature, top_p, top_k, max_new_tokens, cooldown_seconds,"
            " content_rating, voice_adapter FROM guild_settings WHERE guild_id = ?",
            (guild_id,),
        )
        channels = await self._db.fetch_all(
            "SELECT channel_id FROM guild_allowed_channels WHERE guild_id = ?", (guild_id,)
        )
        words = await self._db.fetch_all(
            "SELECT word FROM guild_blocked_words WHERE guild_id = ?", (guild_id,)
        )
        settings = GuildSettings(guild_id) if row is None else _settings_from_row(row)
        return replace(
            settings,
            allowed_channel_ids=frozenset(r["channel_id"] for r in channels),
            blocked_words=frozenset(r["word"] for r in words),
        )

    async def update(
        self,
        guild_id: int,
        *,
        temperature: float | _Unset | None = UNSET,
        top_p: float | _Unset | None = UNSET,
        top_k: int | _Unset | None = UNSET,
        max_new_tokens: int | _Unset | None = UNSET,
        cooldown_seconds: int | _Unset | None = UNSET,
        content_rating: str | _Unset = UNSET,
        voice_adapter: str | _Unset | None = UNSET,
    ) -> GuildSettings:
        """Change some settings; pass None to go back to the bot's default.

        Settings not named are left as they are.
        """
        changes = {
            "temperature": temperature,
            "top_p": top_p,
            "top_k": top_k,
            "max_new_tokens": max_new_tokens,
            "cooldown_seconds": cooldown_seconds,
            "content_rating": content_rating,
            "voice_adapter": voice_adapter,
        }
        async with self._db.transaction():
            # Read-merge-write: another change to this guild must not be lost in between.
            await self._db.lock("guild_settings", guild_id)
            current = await self._read(guild_id)
            merged = replace(
                current, **{key: value for key, value in changes.items() if value is not UNSET}
            )
            _check_optional("temperature", merged.temperature, minimum=0.0, integer=False)
            _check_optional("top_p", merged.top_p, minimum=0.0, integer=False)
            _check_optional("top_k", merged.top_k, minimum=0, integer=True)
            _check_optional("max_new_tokens", merged.max_new_tokens, minimum=1, integer=True)
            _check_optional("cooldown_seconds", merged.cooldown_seconds, minimum=0, integer=True)
            if merged.content_rating not in CONTENT_RATINGS:
                raise ValueError(f"content_rating must be one of {CONTENT_RATINGS}")
            await self._db.execute(
                "INSERT INTO guild_settings (guild_id, temperature, top_p, top_k,"
                " max_new_tokens, cooldown_seconds, content_rating, voice_adapter, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (guild_id) DO UPDATE SET temperature = excluded.temperature,"
                " top_p = excluded.top_p, top_k = excluded.top_k,"
                " max_new_tokens = excluded.max_new_tokens,"
                " cooldown_seconds = excluded.cooldown_seconds,"
                " content_rating = excluded.content_rating,"
                " voice_adapter = excluded.voice_adapter,"
                " updated_at = excluded.updated_at",
                (
                    guild_id,
                    merged.temperature,
                    merged.top_p,
                    merged.top_k,
                    merged.max_new_tokens,
                    merged.cooldown_seconds,
                    merged.content_rating,
                    merged.voice_adapter,
                    to_db_time(self._clock()),
                ),
            )
            self._remember(merged)
        return merged

    async def allow_channel(self, guild_id: int, channel_id: int) -> bool:
        """Add a channel to the allow-list; False if it was already there.

        Once the list is non-empty, only listed channels are allowed.
        """
        async with self._db.transaction():
            await self._db.lock("guild_settings", guild_id)  # the cache gets the latest list
            changed = await self._db.execute(
                "INSERT INTO guild_allowed_channels (guild_id, channel_id) VALUES (?, ?)"
                " ON CONFLICT DO NOTHING",
                (guild_id, channel_id),
            )
            self._remember(await self._read(guild_id))
        return changed > 0

    async def disallow_channel(self, guild_id: int, channel_id: int) -> bool:
        """Remove a channel from the allow-list; False if it wasn't listed.

        Removing the last one makes every channel allowed again.
        """
        async with self._db.transaction():
            await self._db.lock("guild_settings", guild_id)  # the cache gets the latest list
            changed = await self._db.execute(
                "DELETE FROM guild_allowed_channels WHERE guild_id = ? AND channel_id = ?",
                (guild_id, channel_id),
            )
            self._remember(await self._read(guild_id))
        return changed > 0

    async def clear_channels(self, guild_id: int) -> int:
        """Empty the allow-list (every channel allowed); return how many were removed."""
        async with self._db.transaction():
            await self._db.lock("guild_settings", guild_id)  # the cache gets the latest list
            removed = await self._db.execute(
                "DELETE FROM guild_allowed_channels WHERE guild_id = ?", (guild_id,)
            )
            self._remember(await self._read(guild_id))
        return removed

    async def add_blocked_word(self, guild_id: int, word: str, *, limit: int) -> bool:
        """Add ``word`` (already in its normal form) to the guild's blocked words; False if
        it was there. Raises ``StorageError`` when the guild already has ``limit`` words."""
        async with self._db.transaction():
            # Count-then-insert under the guild's lock: two admins can't overrun the limit.
            await self._db.lock("guild_settings", guild_id)
            current = await self._read(guild_id)
            if word in current.blocked_words:
                return False
            if len(current.blocked_words) >= limit:
                raise StorageError(
                    f"This server already blocks {limit} words, the most it can. Remove one "
                    "with /settings blocked-words remove first."
                )
            await self._db.execute(
                "INSERT INTO guild_blocked_words (guild_id, word, added_at) VALUES (?, ?, ?)",
                (guild_id, word, to_db_time(self._clock())),
            )
            self._remember(replace(current, blocked_words=current.blocked_words | {word}))
        return True

    async def remove_blocked_word(self, guild_id: int, word: str) -> bool:
        """Take ``word`` off the guild's blocked words; False if it wasn't on them."""
        async with self._db.transaction():
            await self._db.lock("guild_settings", guild_id)  # the cache gets the latest list
            changed = await self._db.execute(
                "DELETE FROM guild_blocked_words WHERE guild_id = ? AND word = ?",
                (guild_id, word),
            )
            self._remember(await self._read(guild_id))
        return changed > 0

    async def reset(self, guild_id: int) -> None:
        """Forget everything about a guild (e.g. when the bot is removed from it)."""
        async with self._db.transaction():
            await self._db.lock("guild_settings", guild_id)
            await self._db.execute("DELETE FROM guild_settings WHERE guild_id = ?", (guild_id,))
            await self._db.execute(
                "DELETE FROM guild_allowed_channels WHERE guild_id = ?", (guild_id,)
            )
            await self._db.execute(
                "DELETE FROM guild_blocked_words WHERE guild_id = ?", (guild_id,)
            )
            self._db.after_commit(lambda: self._forget(guild_id))


def _settings_from_row(row: Row) -> GuildSettings:
    """A guild's overrides from its `guild_settings` row (channels are added separately)."""
    return GuildSettings(
        row["guild_id"],
        temperature=row["temperature"],
        top_p=row["top_p"],
        top_k=row["top_k"],
        max_new_tokens=row["max_new_tokens"],
        cooldown_seconds=row["cooldown_seconds"],
        content_rating=row["content_rating"],
        voice_adapter=row["voice_adapter"],
    )
