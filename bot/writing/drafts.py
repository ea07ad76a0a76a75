"""Drafts: everything needed to write a piece, and the drafts that rework a recorded one
(regenerate, continue, remix), so buttons on old messages keep working after a restart."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from bot.errors import InvalidRequest
from bot.forms import Form, Genre, Length, PieceSpec, PoemForm
from bot.generation.types import SamplingParams
from bot.storage import ANTHOLOGY_USER_ID, GenerationRecord

# How much of a piece is carried into a "Continue": the model only needs the recent context.
CONTINUE_CONTEXT_CHARS = 1200


@dataclass(frozen=True)
class Draft:
    """What to write and how, which recorded piece it reworks, and whose text the prompt is.

    ``prompt_author_id`` names the user whose words the prompt holds when they are not the
    requester's own (a regenerated piece, a continued message): if that user erases their
    data, the prompt is erased from the new piece too. ``record=False`` writes without
    storing the piece (the caller keeps it, as a game keeps its lines).
    """

    spec: PieceSpec
    sampling: SamplingParams
    parent_id: int | None = None
    prompt_author_id: int | None = None
    # A game's AI line is kept by the game itself, not filed as a piece of its host's.
    record: bool = True


def regenerate_draft(record: GenerationRecord) -> Draft:
    """The same request as a recorded piece, with a new seed."""
    sampling = dataclasses.replace(sampling_from_record(record), seed=None)
    return Draft(
        _rework_spec(record),
        sampling,
        parent_id=record.id,
        prompt_author_id=_prompt_author(record),
    )


def continue_draft(record: GenerationRecord) -> Draft:
    """Carry a recorded piece on from where it ended."""
    spec = PieceSpec(
        form=Form.CONTINUE,
        text=_tail(record.text),
        length=Length(record.params.get("length", Length.MEDIUM)),
    )
    sampling = dataclasses.replace(sampling_from_record(record), seed=None, max_new_tokens=None)
    # The prompt is the piece itself, which belongs to whoever asked for it.
    return Draft(spec, sampling, parent_id=record.id, prompt_author_id=record.user_id)


def remix_draft(record: GenerationRecord, changes: SamplingParams) -> Draft:
    """A recorded piece's request with the same seed and the given parameters changed."""
    overrides = {k: v for k, v in dataclasses.asdict(changes).items() if v is not None}
    sampling = dataclasses.replace(sampling_from_record(record), **overrides)
    return Draft(
        _rework_spec(record),
        sampling,
        parent_id=record.id,
        prompt_author_id=_prompt_author(record),
    )


def spec_from_record(record: GenerationRecord) -> PieceSpec:
    """The request a recorded piece was written for (an erased prompt reads as empty, so
    its title is just the form's label)."""
    return PieceSpec(
        form=Form(record.form),
        text=record.prompt,
        poem_form=PoemForm(record.poem_form or PoemForm.FREE),
        genre=Genre(record.genre or Genre.ANY),
        characters=tuple(record.params.get("characters", ())),
        length=Length(record.params.get("length", Length.MEDIUM)),
    )


def sampling_from_record(record: GenerationRecord) -> SamplingParams:
    """The exact sampling parameters a recorded piece was written with."""
    params = record.params
    return SamplingParams(
        temperature=params.get("temperature"),
        top_p=params.get("top_p"),
        top_k=params.get("top_k"),
        max_new_tokens=params.get("max_new_tokens"),
        seed=record.seed,
    )


def _rework_spec(record: GenerationRecord) -> PieceSpec:
    """The request of a piece about to be written again, unless its prompt was erased."""
    if record.user_id == ANTHOLOGY_USER_ID:
        raise InvalidRequest(
            f"Piece #{record.id} is a poem written together in a game, so I can't write it "
            "again. Start a new one with /poemgame start!"
        )
    if record.prompt_redacted:
        raise InvalidRequest(
            f"The prompt of piece #{record.id} was erased by its author, so I can't write it again."
        )
    return spec_from_record(record)


def _prompt_author(record: GenerationRecord) -> int:
    """Whose words a recorded piece's prompt holds."""
    return record.prompt_author_id if record.prompt_author_id is not None else record.user_id


def _tail(text: str) -> str:
    if len(text) <= CONTINUE_CONTEXT_CHARS:
        return text
    tail = text[-CONTINUE_CONTEXT_CHARS:]
    # Start at a line or word boundary so the model doesn't see half a word.
    for separator in ("\n", " "):
        cut = tail.find(separator)
        if 0 <= cut < len(tail) // 2:
            return tail[cut + 1 :]
    return tail
