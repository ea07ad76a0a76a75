"""Per-guild settings: allowed channels and overrides of the bot's defaults."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from bot.storage.executor import Executor
from bot.storage.models import GuildSettings, to_db_time


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

    Every guild's settings are kept in memory (loaded once by `load`, refreshed after each
    change), so commands read them before acknowledging an interaction without ever waiting
    on a write transaction; Discord allows only 3 seconds for that acknowledgement.
    """

    def __init__(self, executor: Executor, clock: Callable[[], datetime]) -> None:
        self._db = executor
        self._clock = clock
        self._cache: dict[int, GuildSettings] | None = None

    async def load(self) -> None:
        """Read every guild's settings into memory (called when the database opens)."""
        rows = await self._db.fetch_all("SELECT guild_id FROM guild_settings")
        channel_rows = await self._db.fetch_all(
            "SELECT DISTINCT guild_id FROM guild_allowed_channels"
        )
        cache: dict[int, GuildSettings] = {}
        for guild_id in {r["guild_id"] for r in rows} | {r["guild_id"] for r in channel_rows}:
            cache[guild_id] = await self._read(guild_id)
        self._cache = cache

    def cached(self, guild_id: int) -> GuildSettings:
        """The guild's settings from memory; no database access, never waits."""
        if self._cache is None:
            raise RuntimeError("guild settings are not loaded yet (Database.open loads them)")
        return self._cache.get(guild_id) or GuildSettings(guild_id)

    async def get(self, guild_id: int) -> GuildSettings:
        """The guild's settings, with defaults for anything never set."""
        if self._cache is not None:
            return self.cached(guild_id)
        return await self._read(guild_id)

    async def _refresh(self, guild_id: int) -> None:
        """Re-read one guild after a committed change, so the cache matches the file."""
        if self._cache is not None:
            self._cache[guild_id] = await self._read(guild_id)

    async def _read(self, guild_id: int) -> GuildSettings:
        row = await self._db.fetch_one(
            "SELECT temperature, top_p, top_k, max_new_tokens, cooldown_seconds"
            " FROM guild_settings WHERE guild_id = ?",
            (guild_id,),
        )
        channels = await self._db.fetch_all(
            "SELECT channel_id FROM guild_allowed_channels WHERE guild_id = ?", (guild_id,)
        )
        settings = GuildSettings(
            guild_id, allowed_channel_ids=frozenset(r["channel_id"] for r in channels)
        )
        if row is None:
            return settings
        return replace(
            settings,
            temperature=row["temperature"],
            top_p=row["top_p"],
            top_k=row["top_k"],
            max_new_tokens=row["max_new_tokens"],
            cooldown_seconds=row["cooldown_seconds"],
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
        }
        async with self._db.transaction():
            current = await self._read(guild_id)
            merged = replace(
                current, **{key: value for key, value in changes.items() if value is not UNSET}
            )
            _check_optional("temperature", merged.temperature, minimum=0.0, integer=False)
            _check_optional("top_p", merged.top_p, minimum=0.0, integer=False)
            _check_optional("top_k", merged.top_k, minimum=0, integer=True)
            _check_optional("max_new_tokens", merged.max_new_tokens, minimum=1, integer=True)
            _check_optional("cooldown_seconds", merged.cooldown_seconds, minimum=0, integer=True)
            await self._db.execute(
                "INSERT INTO guild_settings (guild_id, temperature, top_p, top_k,"
                " max_new_tokens, cooldown_seconds, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (guild_id) DO UPDATE SET temperature = excluded.temperature,"
                " top_p = excluded.top_p, top_k = excluded.top_k,"
                " max_new_tokens = excluded.max_new_tokens,"
                " cooldown_seconds = excluded.cooldown_seconds,"
                " updated_at = excluded.updated_at",
                (
                    guild_id,
                    merged.temperature,
                    merged.top_p,
                    merged.top_k,
                    merged.max_new_tokens,
                    merged.cooldown_seconds,
                    to_db_time(self._clock()),
                ),
            )
        await self._refresh(guild_id)
        return merged

    async def allow_channel(self, guild_id: int, channel_id: int) -> bool:
        """Add a channel to the allow-list; False if it was already there.

        Once the list is non-empty, only listed channels are allowed.
        """
        async with self._db.transaction():
            changed = await self._db.execute(
                "INSERT INTO guild_allowed_channels (guild_id, channel_id) VALUES (?, ?)"
                " ON CONFLICT DO NOTHING",
                (guild_id, channel_id),
            )
        await self._refresh(guild_id)
        return changed > 0

    async def disallow_channel(self, guild_id: int, channel_id: int) -> bool:
        """Remove a channel from the allow-list; False if it wasn't listed.

        Removing the last one makes every channel allowed again.
        """
        async with self._db.transaction():
            changed = await self._db.execute(
                "DELETE FROM guild_allowed_channels WHERE guild_id = ? AND channel_id = ?",
                (guild_id, channel_id),
            )
        await self._refresh(guild_id)
        return changed > 0

    async def clear_channels(self, guild_id: int) -> int:
        """Empty the allow-list (every channel allowed); return how many were removed."""
        async with self._db.transaction():
            removed = await self._db.execute(
                "DELETE FROM guild_allowed_channels WHERE guild_id = ?", (guild_id,)
            )
        await self._refresh(guild_id)
        return removed

    async def reset(self, guild_id: int) -> None:
        """Forget everything about a guild (e.g. when the bot is removed from it)."""
        async with self._db.transaction():
            await self._db.execute("DELETE FROM guild_settings WHERE guild_id = ?", (guild_id,))
            await self._db.execute(
                "DELETE FROM guild_allowed_channels WHERE guild_id = ?", (guild_id,)
            )
        if self._cache is not None:
            self._cache.pop(guild_id, None)
