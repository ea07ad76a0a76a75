"""The degeneracy guard: what makes a written poem unshowable however well it scans.

A small model's failures are loops ("the sea the sea the sea"), endings that stop mid-thought
("and the") and made-up words ("laughnabla"). Candidates with any of them are rejected; the
benchmark counts them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bot.forms.lexicon import is_known
from bot.forms.pronounce import words_of

LOOP_GRAM = 4  # a word 4-gram…
LOOP_COPIES = 3  # …three or more times is a loop
# A poem that ends on one of these stopped mid-thought.
HANGING_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "and",
        "or",
        "but",
        "my",
        "your",
        "his",
        "her",
        "its",
        "our",
        "their",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "that",
        "than",
        "into",
        "upon",
        "this",
        "these",
        "those",
        "is",
        "are",
        "was",
        "were",
        "be",
        "if",
        "so",
        "when",
    ]
)


@dataclass(frozen=True)
class Degeneracy:
    """What is wrong with a candidate, if anything."""

    loop: bool  # a word 4-gram repeated three or more times
    unfinished: bool  # the last line stops mid-thought or mid-word
    non_words: tuple[str, ...]  # words neither the dictionary nor the frequency list knows

    @property
    def degenerate(self) -> bool:
        """Whether the candidate should be rejected."""
        return self.loop or self.unfinished or bool(self.non_words)


def degeneracy(text: str) -> Degeneracy:
    """Check ``text`` (a finished piece) for loops, a hanging ending and non-words."""
    words = [word.lower() for word in words_of(text)]
    grams = Counter(tuple(words[i : i + LOOP_GRAM]) for i in range(len(words) - LOOP_GRAM + 1))
    loop = any(count >= LOOP_COPIES for count in grams.values())
    last = text.rstrip()
    unfinished = not words or words[-1] in HANGING_WORDS or last.endswith(("-", ",", ";", ":"))
    non_words = tuple(dict.fromkeys(word for word in words if not is_known(word)))
    return Degeneracy(loop=loop, unfinished=unfinished, non_words=non_words)
