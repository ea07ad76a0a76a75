"""Content safety: a guild's content rating, its own blocked words, and the filter that
checks what people type and masks what the model writes. Knows nothing of Discord."""

from bot.safety.content import (
    DEFAULT_RATING,
    MASK,
    MAX_BLOCKED_WORD_CHARS,
    MAX_BLOCKED_WORDS,
    ContentBlocked,
    ContentFilter,
    Rating,
    Verdict,
    clean_blocked_word,
    effective_rating,
)

__all__ = [
    "DEFAULT_RATING",
    "MASK",
    "MAX_BLOCKED_WORDS",
    "MAX_BLOCKED_WORD_CHARS",
    "ContentBlocked",
    "ContentFilter",
    "Rating",
    "Verdict",
    "clean_blocked_word",
    "effective_rating",
]
