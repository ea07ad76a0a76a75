"""Domain errors that carry the text a user should see.

Front ends (Discord cogs, the console) show ``user_message`` as it is; anything that is not an
``InkwellError`` is a bug and gets a short apology plus a log line with context.
"""

from __future__ import annotations


class InkwellError(Exception):
    """An expected failure whose message is written for the person who caused it."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class InvalidRequest(InkwellError):
    """The user's input cannot be used as given (bad option, prompt too long, ...)."""


class PromptTooLong(InvalidRequest):
    """The prompt has more tokens than the model may read; ``tokens`` and ``limit`` say how
    many. Writers whose prompt is context (a game's poem so far) shorten it and try again."""

    def __init__(self, user_message: str, *, tokens: int, limit: int) -> None:
        super().__init__(user_message)
        self.tokens = tokens
        self.limit = limit


class ServiceBusy(InkwellError):
    """The generation queue is full; trying again shortly will work."""

    def __init__(
        self,
        user_message: str = "I'm busy writing for others right now — please try again in a moment.",
    ) -> None:
        super().__init__(user_message)


class ModelUnavailable(InkwellError):
    """The configured model cannot be found, downloaded or loaded."""


class GenerationFailed(InkwellError):
    """The model failed while writing; the request can be retried."""
