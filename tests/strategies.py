"""Hypothesis strategies for hostile text, shared by the property tests (issue 13, "Bad input").

Plain ``st.text()`` rarely produces what people actually paste into Discord: mentions with
zero-width characters in them, fullwidth at signs, right-to-left marks, combining marks,
emoji with joiners, code fences. These strategies mix such pieces with arbitrary text so that
each example has a good chance of hitting an edge.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st

# Characters that change how text looks or is parsed without looking like much.
TRICKY_CHARS = (
    "\u200b",  # zero-width space
    "\u200c",  # zero-width non-joiner
    "\u200d",  # zero-width joiner
    "\u2060",  # word joiner
    "\ufeff",  # byte-order mark
    "\u00ad",  # soft hyphen
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    "\u202e",  # right-to-left override
    "\u2028",  # line separator
    "\u0301",  # combining acute accent
    "\u0336",  # combining long stroke overlay
    "\uff20",  # fullwidth @
    "\ufe6b",  # small @
    "\u00a0",  # no-break space
    "\u3000",  # ideographic space
    "\r",
    "\n",
    "\t",
    "\x00",
    "\x1c",  # a control character str.splitlines() treats as a line break
)

PINGS = (
    "@everyone",
    "@here",
    "<@123456789012345678>",
    "<@!123456789012345678>",
    "<@&123456789012345678>",
    "@\u200beveryone",
    "\uff20everyone",
    "@every\u200bone",
    "<@\u200b1>",
)

FRAGMENTS = (
    *PINGS,
    "```",
    "```py\n",
    "`",
    "**",
    "||",
    "> ",
    "# ",
    "-# ",
    "https://example.com/a_(b)",
    "www.example.org",
    "discord.gg/abc",
    "https://discord.com/invite/xyz",
    "<https://example.com>",
    "[text](https://evil.example)",
    "😀",
    "👩\u200d💻",
    "🏳️\u200d🌈",
    "雨",
    "שלום",
    "مرحبا",
    "é",
    "e\u0301",
    " ",
    "  ",
    "\n\n",
    "\\",
)

# Arbitrary Unicode, minus lone surrogates (Discord and SQLite cannot carry them).
_ANY_CHAR = st.characters(exclude_categories=["Cs"])


def hostile_text(max_size: int = 60) -> st.SearchStrategy[str]:
    """Text built from mentions, markdown, links, tricky characters and arbitrary snippets."""
    piece = st.one_of(
        st.sampled_from(FRAGMENTS),
        st.sampled_from(TRICKY_CHARS),
        st.text(_ANY_CHAR, max_size=8),
        st.text(st.sampled_from("ab xy\n"), min_size=1, max_size=8),
    )
    return st.lists(piece, max_size=max_size).map("".join)


def scaled(examples: int) -> int:
    """``examples`` for the active profile: as given under the default 100 examples a test,
    ten times as many under HYPOTHESIS_PROFILE=wide (a test's own max_examples would
    otherwise pin it, whatever the profile)."""
    return max(1, examples * settings.default.max_examples // 100)
