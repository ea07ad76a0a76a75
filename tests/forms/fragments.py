"""Pieces of plausible (and implausible) model output, for property tests to combine."""

from __future__ import annotations

import random

FRAGMENTS = [
    "The",
    "sea",
    "is",
    "wide",
    "and",
    "the",
    "night",
    "ran",
    "la",
    " ",
    " ",
    " ",
    "  ",
    "\t",
    "\n",
    "\n",
    "\n\n",
    "\n\n\n",
    "\n \n",
    "\r\n",
    ".",
    ".",
    ",",
    "!",
    "?",
    "…",
    ":",
    '"',
    "\u201c",
    "\u201d",
    "'",
    "Mr.",
    " / ",
    "la la la",
    "!!!!",
    "**Autumn**\n",
    "*Falling*",
    "Here is a haiku about autumn:\n",
    "Sure! ",
    "A haiku about winter\n",
    "Title: The Sea\n",
    "# Heading\n",
    "The Mountain\n\n",
    "Posted by admin",
    "Comments",
    "The End.",
    "THE END",
    "FADE OUT.",
    "ALICE:",
    "INT. VAULT - NIGHT",
    "<|endoftext|>",
    "<|im_end|>",
    "<|",
    "</s>",
    "```",
    "---",
    "I hope you enjoyed it!",
    "The door creaked open.",
    "Once upon a time",
    "🍂",
    "\u200b",
    "שלום",
    "<@123>",
    "@everyone",
]


def random_output(rng: random.Random, max_fragments: int = 60) -> str:
    """A random concatenation of fragments, sometimes with a looping stretch."""
    parts = [rng.choice(FRAGMENTS) for _ in range(rng.randint(0, max_fragments))]
    if parts and rng.random() < 0.2:
        start = rng.randrange(len(parts))
        unit = parts[start : start + rng.randint(1, 8)]
        parts[start:start] = unit * rng.randint(2, 5)
    return "".join(parts)
