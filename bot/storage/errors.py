"""Storage errors that carry the text a user should see.

Front ends (cogs, the console) can catch `StorageError` and show `user_message`
as-is; anything else coming out of the storage layer is a bug and should be logged.
"""

from __future__ import annotations

from bot.errors import InkwellError


class StorageError(InkwellError):
    """Base class: something the user (or the operator) can act on.

    `user_message` is written to be shown verbatim: kind, specific, no jargon.
    """

    default_message = "Inkwell couldn't reach its saved data just now. Please try again."

    def __init__(self, user_message: str | None = None) -> None:
        super().__init__(user_message or self.default_message)


class StorageFull(StorageError):
    """The disk (or the database's size limit) is full: the change was rolled back whole."""

    why = "Inkwell's storage is full"

    default_message = (
        "I couldn't save that: Inkwell's storage is full. Nothing was saved; "
        "please try again later."
    )


class StorageBusy(StorageError):
    """Another program held the database longer than we wait: the change was rolled back."""

    why = "Inkwell's database is busy with another program"

    default_message = (
        "I couldn't save that: Inkwell's database is busy with another program. "
        "Nothing was saved; please try again in a moment."
    )


class NotFound(StorageError):
    """The thing asked for doesn't exist, or doesn't belong to the asker."""

    default_message = "I couldn't find that. It may have been deleted."


class NameTaken(StorageError):
    """A per-user name is already in use."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"You already have a saved prompt called “{name}”. "
            "Pick a different name, or rename or delete the old one first."
        )


class LimitReached(StorageError):
    """A per-user quota is full."""

    def __init__(self, what: str, limit: int, free_with: str = "") -> None:
        self.what = what
        self.limit = limit
        how = f" with {free_with}" if free_with else ""
        super().__init__(
            f"You've reached the limit of {limit:,} {what}. "
            f"Delete one you no longer need{how} to make room."
        )


class TooLong(StorageError):
    """A value is longer than the storage layer keeps."""

    def __init__(self, what: str, length: int, limit: int) -> None:
        self.what = what
        self.length = length
        self.limit = limit
        super().__init__(
            f"The {what} is {length:,} characters long; the most I can keep is {limit:,}. "
            "Please shorten it and try again."
        )


class InvalidName(StorageError):
    """A name is empty or contains characters that can't be shown in a list."""


class ChannelBusy(StorageError):
    """The channel already has a poem game in its lobby or running."""

    default_message = (
        "A poem game is already running in this channel. Use `/poemgame status` to see it, "
        "or start a new one once it has ended."
    )


class InvalidText(StorageError):
    """Text that can't be stored where it was meant to go (e.g. a line break in a poem line)."""


class IntegrityViolation(Exception):
    """A statement broke a UNIQUE, CHECK, NOT NULL or FOREIGN KEY constraint.

    Not a `StorageError`: where a repository expects one (a second game in a channel), it
    catches this and raises the kind error; anywhere else it is a bug. Both backends raise
    it, with the ``table`` and ``columns`` they could name (either may be empty).
    """

    def __init__(self, message: str, table: str = "", columns: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.table = table
        self.columns = columns

    def violates(self, table: str, column: str) -> bool:
        """Whether this is the constraint on ``table.column`` (e.g. a unique index on it)."""
        return self.table == table and column in self.columns

    @classmethod
    def from_sqlite(cls, message: str) -> IntegrityViolation:
        """From sqlite3's text, e.g. "UNIQUE constraint failed: games.channel_id"."""
        _, _, names = message.partition(" constraint failed: ")
        pairs = [name.strip().partition(".") for name in names.split(",") if "." in name]
        tables = {table for table, _, _ in pairs}
        table = tables.pop() if len(tables) == 1 else ""
        return cls(message, table, tuple(column for _, _, column in pairs))
