"""Keeping a form without token-by-token control: write several candidates, take one that
keeps it.

A model server samples on its own, so the local engine's constrained decoding (the form's
constraint asked before every token) cannot run there. The same constraint can still judge a
finished text: walked through it line by line, as the engine would have offered it, a text
that the constraint accepts to the end keeps the form. Of the server's candidates the first
that keeps it wins; failing that, the one that kept it longest; failing that, the first.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.generation.types import DecodingConstraint


def lines_kept(constraint: DecodingConstraint, text: str) -> tuple[int, bool]:
    """(how many lines of ``text`` the constraint accepts before the first it refuses,
    whether it accepts all of it and lets it end there)."""
    written = ""
    kept = 0
    pieces = text.split("\n")
    for index, line in enumerate(pieces):
        last = index == len(pieces) - 1
        piece = line if last else line + "\n"
        if not piece:
            break  # the text ends with a line break: nothing more to judge
        if not constraint.allowed(written, [piece])[0]:
            return kept, False
        written += piece
        kept += 1
    return kept, constraint.may_end(written)


def best_candidate(constraint: DecodingConstraint | None, texts: Sequence[str]) -> int:
    """The index of the candidate to keep (see the module doc); 0 without a constraint."""
    if constraint is None or len(texts) < 2:
        return 0
    best, best_kept = 0, -1
    for index, text in enumerate(texts):
        kept, whole = lines_kept(constraint, text)
        if whole:
            return index
        if kept > best_kept:
            best, best_kept = index, kept
    return best
