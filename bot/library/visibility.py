"""Who may see a recorded piece, or its prompt.

The rule, for every path that takes a piece id (remix, favourites, buttons, exports, the hall
of fame): a piece is visible to the user who asked for it, and to whoever can view the
channel it was written in (for a thread, the thread's channel). Pieces written outside a
channel (the console, a direct message) are visible to their owner only. How channel access
is decided is the front end's business; the console has no channels at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from bot.storage import GenerationRecord, NotFound

T = TypeVar("T")

# Given a piece's guild and channel id: may the viewer see that channel?
ChannelAccess = Callable[[int, int], Awaitable[bool]]


async def may_see(piece: GenerationRecord, viewer_id: int, can_view: ChannelAccess | None) -> bool:
    """Whether ``viewer_id`` may see ``piece``."""
    if piece.user_id == viewer_id:
        return True
    if can_view is None or piece.guild_id is None or piece.channel_id is None:
        return False
    return await can_view(piece.guild_id, piece.channel_id)


async def visible_only(
    items: Iterable[T],
    piece_of: Callable[[T], GenerationRecord],
    viewer_id: int,
    can_view: ChannelAccess | None,
) -> list[T]:
    """The items whose piece ``viewer_id`` may see, in order."""
    return [item for item in items if await may_see(piece_of(item), viewer_id, can_view)]


def not_visible(piece_id: int) -> NotFound:
    """The same answer whether a piece never existed or is someone else's: nothing leaks."""
    return NotFound(
        f"I can't find piece #{piece_id}. You can use your own pieces, and pieces written "
        "in channels you can see."
    )
