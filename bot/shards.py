"""Which shard a guild belongs to, and which shards this process holds.

Discord sends a guild's events (its interactions too) only to the shard
``(guild_id >> 22) % shard_count``, and direct messages to shard 0. A process that holds a
group of shards is the one that can reach those guilds' channels and knows their settings,
so work that starts on its own (a timer) is done by the process whose shard holds its guild.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

# Discord's snowflakes carry their creation time in the bits above 22.
SHARD_SHIFT = 22


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """The shard that receives ``guild_id``'s events (shard 0 for no guild: DMs)."""
    if shard_count < 1:
        raise ValueError(f"shard_count must be at least 1, got {shard_count}")
    if guild_id is None:
        return 0
    return (guild_id >> SHARD_SHIFT) % shard_count


@dataclass(frozen=True)
class ShardGroup:
    """The shards one process holds: ``ids`` out of ``count``."""

    count: int
    ids: tuple[int, ...]

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"shard count must be at least 1, got {self.count}")
        if not self.ids:
            raise ValueError("a shard group holds at least one shard")
        if len(set(self.ids)) != len(self.ids) or any(
            not 0 <= shard < self.count for shard in self.ids
        ):
            raise ValueError(f"shard ids must be distinct, from 0 to {self.count - 1}")

    @classmethod
    def of(cls, count: int, ids: Collection[int]) -> ShardGroup:
        """A group with its ids sorted."""
        return cls(count, tuple(sorted(ids)))

    @property
    def is_everything(self) -> bool:
        """Whether this process holds every shard (nothing to leave to others)."""
        return len(self.ids) == self.count

    def holds(self, guild_id: int | None) -> bool:
        """Whether this process receives ``guild_id``'s events."""
        return shard_of(guild_id, self.count) in self.ids

    @property
    def name(self) -> str:
        """A stable name for the group, e.g. ``shards 0,1 of 4``."""
        return f"shards {','.join(map(str, self.ids))} of {self.count}"
