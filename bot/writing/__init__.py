"""Writing for people: the commands and their options, drafts, fairness, and the one write flow
that every front end and every scheduled feature writes through."""

from bot.writing.pieces import Piece, WritingService

__all__ = ["Piece", "WritingService"]
