"""Recognising Discord invites in text people or the model wrote.

Shared by rendering (which removes invites from anything posted) and by input checks (a game
line or a submission with an invite is refused, so the author can fix it)."""

from __future__ import annotations

import re

# Invites with or without a scheme, on any of Discord's hosts.
INVITE_PATH = r"(?:(?:www|ptb|canary)\.)?(?:discord(?:app)?\.com/invite|discord\.gg)/[\w-][^\s<>]*"
INVITE = rf"(?:https?://{INVITE_PATH}|(?<![A-Za-z0-9.-]){INVITE_PATH})"
_INVITE_RE = re.compile(INVITE, re.IGNORECASE)


def contains_invite(text: str) -> bool:
    """Whether ``text`` holds a Discord invite link."""
    return _INVITE_RE.search(text) is not None
