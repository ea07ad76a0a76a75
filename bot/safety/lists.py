"""The word lists behind the content ratings.

The base list is `better-profanity`'s (MIT; 916 entries: swear words, slurs, sexual terms and
their common spellings), read from the file the package ships, through its own reader.
That list is broad: it holds "kill", "murder", "god", "hell", "vodka" and "organ", words any
story or poem may need. So:

- ``strict`` uses the whole list, minus ``NEVER_BLOCKED``;
- ``standard`` also leaves out ``ORDINARY_WORDS``: words whose everyday or literary sense is
  what a piece of writing most likely means (crime and war, faith and damnation, drink,
  bodies in plain words, insults a character may throw: "stupid", "moron");
- words for who people are (``NEVER_BLOCKED``: "gay", "queer", "lesbians") are never blocked
  by the list; a server that wants otherwise can add them to its own blocked words.
"""

from __future__ import annotations

from functools import lru_cache

from better_profanity.utils import get_complete_path_of_file, read_wordlist

NEVER_BLOCKED = frozenset({"gay", "gays", "queer", "lesbians"})

ORDINARY_WORDS = frozenset(
    {
        # violence, crime and war: every mystery and adventure
        "kill", "murder", "sniper", "thug", "slave", "nazi", "hitler", "reich",
        # faith and damnation
        "god", "hell", "damn", "god-dam", "god-damned", "goddamn",
        # drink and drugs, as they appear in stories
        "drunk", "vodka", "rum", "pot", "weed", "heroin", "opium", "meth", "stoned", "hemp",
        # bodies, health and plain description
        "naked", "nude", "breasts", "nipple", "nipples", "womb", "uterus", "urine", "pee",
        "vomit", "fart", "poop", "organ", "oral", "facial", "stroke", "thrust", "erect",
        "hiv", "herpes", "fat", "ugly", "sex", "sexual", "lust", "virgin", "seduce",
        # words with an everyday sense first
        "screw", "screwed", "screwing", "suck", "sucked", "sucking", "strip", "slope", "pawn",
        "snatch", "knob", "tit", "willy", "woody", "wang", "dong", "paddy", "len", "jerk",
        "dummy", "weirdo", "moron", "stupid", "vulgar", "scum", "crap", "xx", "omg", "wtf",
        "lmao", "lmfao", "wench", "hussy", "bastard", "pimp", "prostitute",
    }
)  # fmt: skip


@lru_cache(maxsize=1)
def package_words() -> tuple[str, ...]:
    """better-profanity's list, as the package ships it (read once)."""
    return tuple(read_wordlist(get_complete_path_of_file("profanity_wordlist.txt")))


def strict_words() -> list[str]:
    """The list for ``strict``."""
    return [w for w in package_words() if w.lower() not in NEVER_BLOCKED]


def standard_words() -> list[str]:
    """The list for ``standard``."""
    return [w for w in strict_words() if w.lower() not in ORDINARY_WORDS]
