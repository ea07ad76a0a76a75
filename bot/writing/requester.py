"""Who a piece is for: a user, or a game, a schedule or a sprint writing on its own.

The requester decides quota and fairness (whose slot and cooldown a piece takes, and which
guild's share it counts against) and attribution (whom the stored piece is filed under and
the name shown with it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RequesterKind(StrEnum):
    """What kind of thing asked for a piece."""

    USER = "user"
    GAME = "game"
    SCHEDULE = "schedule"
    SPRINT = "sprint"
    # /idea writing a prompt for a user: its own slot per user and no cooldown, so the retry
    # of a bad prompt and the piece written from it next aren't held back.
    IDEA = "idea"


@dataclass(frozen=True)
class Requester:
    """Who asked, and where.

    ``id`` is the user's id for a user, else the game's, schedule's or sprint's own id.
    ``owner_id`` is the user a non-user requester's pieces are filed under (who started the
    game or set up the schedule), so erasing that user's data erases them too.
    ``parent_channel_id`` is the channel a thread belongs to: admins allow channels, and a
    thread is allowed when its channel is. ``nsfw`` says the channel (or a thread's channel)
    is age-restricted: only there may a guild's content filter be ``off``.
    """

    kind: RequesterKind
    id: int
    name: str
    guild_id: int | None = None
    channel_id: int | None = None
    parent_channel_id: int | None = None
    owner_id: int | None = None
    nsfw: bool = False

    @classmethod
    def user(
        cls,
        user_id: int,
        name: str,
        guild_id: int | None = None,
        channel_id: int | None = None,
        parent_channel_id: int | None = None,
        *,
        nsfw: bool = False,
    ) -> Requester:
        """A person asking for themselves."""
        return cls(
            RequesterKind.USER, user_id, name, guild_id, channel_id, parent_channel_id, nsfw=nsfw
        )

    @classmethod
    def game(
        cls,
        game_id: int,
        host_id: int,
        guild_id: int | None,
        channel_id: int,
        parent_channel_id: int | None = None,
    ) -> Requester:
        """A poem game writing its AI's lines: its own slot, the guild's share, filed under
        the host."""
        return cls(
            RequesterKind.GAME,
            game_id,
            f"Poem game #{game_id}",
            guild_id,
            channel_id,
            parent_channel_id,
            owner_id=host_id,
        )

    @property
    def slot_key(self) -> tuple[str, int]:
        """The fairness slot this requester holds while a piece is written."""
        return (self.kind.value, self.id)

    @property
    def record_user_id(self) -> int:
        """The user the stored piece belongs to."""
        if self.kind is RequesterKind.USER:
            return self.id
        if self.owner_id is None:
            raise ValueError(f"a {self.kind} requester needs an owner_id to file pieces under")
        return self.owner_id


def user_slot(user_id: int) -> tuple[str, int]:
    """A user's own fairness slot (held while their data is erased, too)."""
    return (RequesterKind.USER.value, user_id)
