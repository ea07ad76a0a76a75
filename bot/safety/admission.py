"""Who may use Inkwell right now: the owner's blocklist and the per-minute command limits.

Asked once for every slash command, button and form, before any handler runs, so it answers
from memory: the blocklist is a snapshot of the database, read again every
``BLOCKLIST_REFRESH_SECONDS`` (a block made in another process takes effect within that), and
the limits are sliding windows of the last 60 seconds in this process. Owners are never
refused. Knows nothing of Discord.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Hashable
from dataclasses import dataclass

from bot.ops.interactions import BLOCKED, LIMITED
from bot.storage.blocklist import Block

WINDOW_SECONDS = 60.0
BLOCKLIST_REFRESH_SECONDS = 10.0
# Keys whose window emptied are forgotten on a sweep this often, so a month of members who
# used one command each does not stay in memory.
SWEEP_EVERY = 1_000

BLOCKED_USER = (
    "Inkwell's owner has switched it off for your account. If you think that's a mistake, ask them."
)
BLOCKED_GUILD = "Inkwell's owner has switched it off in this server."


def _wait_text(seconds: float) -> str:
    whole = max(1, math.ceil(seconds))
    return f"{whole} second{'s' if whole != 1 else ''}"


def user_limit_text(per_minute: int, seconds: float) -> str:
    """What a member who went over their limit is told."""
    return (
        f"You're going a little fast: {per_minute} commands a minute at most. "
        f"Try again in {_wait_text(seconds)}."
    )


def guild_limit_text(per_minute: int, seconds: float) -> str:
    """What a member is told when their whole server went over its limit."""
    return (
        f"This server is sending me a lot right now ({per_minute} commands a minute at "
        f"most). Try again in {_wait_text(seconds)}."
    )


class SlidingWindow:
    """At most ``per_minute`` takings per key in any ``WINDOW_SECONDS``; 0 = unlimited.

    A refused taking is not counted, so a member who keeps clicking is let in as soon as
    their oldest command is a minute old."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._taken: dict[Hashable, deque[float]] = {}
        self._since_sweep = 0

    def take(self, key: Hashable) -> float | None:
        """Count one for ``key``: None if allowed, else the seconds until it would be."""
        if self.per_minute <= 0:
            return None
        now = self._clock()
        self._sweep(now)
        times = self._taken.setdefault(key, deque())
        while times and now - times[0] >= WINDOW_SECONDS:
            times.popleft()
        if len(times) >= self.per_minute:
            return WINDOW_SECONDS - (now - times[0])
        times.append(now)
        return None

    def give_back(self, key: Hashable) -> None:
        """Uncount the latest taking of ``key`` (another limit refused the same command)."""
        times = self._taken.get(key)
        if times:
            times.pop()

    def __len__(self) -> int:
        """How many keys are remembered (for tests of the sweep)."""
        return len(self._taken)

    def _sweep(self, now: float) -> None:
        self._since_sweep += 1
        if self._since_sweep < SWEEP_EVERY:
            return
        self._since_sweep = 0
        stale = [k for k, t in self._taken.items() if not t or now - t[-1] >= WINDOW_SECONDS]
        for key in stale:
            del self._taken[key]


class BlockedIds:
    """The blocklist as last read from the database."""

    def __init__(
        self,
        load: Callable[[], Awaitable[list[Block]]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._clock = clock
        self._users: frozenset[int] = frozenset()
        self._guilds: frozenset[int] = frozenset()
        self._read_at: float | None = None

    async def refresh(self) -> None:
        """Read the blocklist again; if the database raises, the last snapshot stays (and
        the next try waits its turn, so an outage is not asked once per interaction)."""
        try:
            blocks = await self._load()
        except Exception:
            self._read_at = self._clock()
            raise
        self._users = frozenset(b.target_id for b in blocks if b.kind == "user")
        self._guilds = frozenset(b.target_id for b in blocks if b.kind == "guild")
        self._read_at = self._clock()

    def is_stale(self) -> bool:
        """Whether it is time to read the database again."""
        return self._read_at is None or self._clock() - self._read_at >= BLOCKLIST_REFRESH_SECONDS

    def refusal(self, user_id: int, guild_id: int | None) -> str | None:
        """Why ``user_id`` (in ``guild_id``) may not use Inkwell, or None."""
        if user_id in self._users:
            return BLOCKED_USER
        if guild_id is not None and guild_id in self._guilds:
            return BLOCKED_GUILD
        return None


@dataclass(frozen=True)
class Refusal:
    """Why an interaction is turned away, and what the member is told."""

    reason: str  # BLOCKED or LIMITED (bot.ops.interactions), for the log line and metrics
    text: str


class Admission:
    """One decision per interaction: blocked, over a limit, or in."""

    def __init__(
        self,
        blocked: BlockedIds,
        *,
        per_user: int,
        per_guild: int,
        owners: Callable[[], Collection[int]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.blocked = blocked
        self._users = SlidingWindow(per_user, clock)
        self._guilds = SlidingWindow(per_guild, clock)
        self._owners = owners

    def check(self, user_id: int, guild_id: int | None, *, counted: bool = True) -> Refusal | None:
        """Decide for one interaction. ``counted=False`` (autocomplete, a submitted form)
        checks the blocklist only: typing in an option box must not use up a member's
        commands, and a form's text must not be lost to a limit."""
        if user_id in self._owners():
            return None
        blocked = self.blocked.refusal(user_id, guild_id)
        if blocked is not None:
            return Refusal(BLOCKED, blocked)
        if not counted:
            return None
        wait = self._users.take(user_id)
        if wait is not None:
            return Refusal(LIMITED, user_limit_text(self._users.per_minute, wait))
        if guild_id is not None:
            wait = self._guilds.take(guild_id)
            if wait is not None:
                self._users.give_back(user_id)
                return Refusal(LIMITED, guild_limit_text(self._guilds.per_minute, wait))
        return None
