"""The AI at the table: what it is asked to write for a game, and where its words go.

Every AI line, proposal and title goes through the write flow (``WriteFlow.write``) with the
game as the requester, so it shares the writer fairly with everyone else and never blocks the
event loop. The drafts are not recorded as pieces: the game keeps its own lines.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from bot.forms import Form, PieceSpec
from bot.forms.line_templates import last_word
from bot.forms.shapes import shape_of
from bot.games.model import Game, Mode
from bot.generation.types import SamplingParams
from bot.storage import REMOVED_LINE
from bot.writing.destination import WriteUpdate
from bot.writing.drafts import Draft

# The model sees the recent lines only: a 30-line poem would not fit its prompt.
CONTEXT_LINES = 8
CONTEXT_CHARS = 900
TITLE_CONTEXT_CHARS = 1500


def line_draft(game: Game, *, seed: int | None = None) -> Draft:
    """The AI's next line: it follows the poem so far (only the previous line in exquisite
    corpse, as for everyone) and keeps the slot's form, including a rhyme with its stanza."""
    number = len(game.lines)
    texts = [line.text for line in game.lines]
    # In exquisite corpse the AI, like everyone, sees only the previous line.
    context = texts[-1:] if game.settings.mode is Mode.CORPSE else _recent(texts)
    spec = PieceSpec(
        form=Form.LINE,
        text="\n".join(context),
        poem_form=game.settings.form,
        line_number=number,
        topic=game.settings.title or "",
        rhyme_with=_rhyme_word(game, texts, number),
    )
    return Draft(spec, SamplingParams(seed=seed), record=False)


def title_draft(game: Game) -> Draft:
    """A title for the finished poem."""
    poem = "\n".join(line.text for line in game.lines)
    if len(poem) > TITLE_CONTEXT_CHARS:
        poem = poem[:TITLE_CONTEXT_CHARS].rsplit("\n", 1)[0]
    return Draft(PieceSpec(form=Form.TITLE, text=poem), SamplingParams(), record=False)


def _recent(texts: list[str]) -> list[str]:
    kept: list[str] = []
    size = 0
    for text in reversed(texts[-CONTEXT_LINES:]):
        size += len(text) + 1
        if kept and size > CONTEXT_CHARS:
            break
        kept.append(text)
    return kept[::-1]


def _rhyme_word(game: Game, texts: list[str], number: int) -> str:
    """The word the line must rhyme with, found in the whole poem (the model may see only
    part of it, so the form's rhyme is named outright)."""
    shape = shape_of(game.settings.form)
    if shape is None:
        return ""
    for index in shape.rhymes_with(number):
        if index < len(texts) and texts[index] != REMOVED_LINE:
            word = last_word(texts[index])
            if word:
                return word
    return ""


class Captured:
    """A destination that keeps the finished text (the board shows that the AI is writing;
    its words appear when they are done)."""

    def __init__(self) -> None:
        self.text: str | None = None

    async def accept(self) -> None:
        """Nothing to acknowledge: no one is waiting on an interaction."""

    async def deliver(self, title: str, updates: AsyncIterator[WriteUpdate]) -> None:
        """Keep the finished piece's text."""
        async for update in updates:
            if update.piece is not None:
                self.text = update.piece.text

    async def stop(self, message: str) -> None:
        """Shutdown stopped the line; the clock retries it after the restart."""
