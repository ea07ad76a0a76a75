"""Writing for people: fairness, generation and history in one place.

Front ends (Discord cogs, the console) ask the studio for a piece on behalf of an ``Author``;
the studio holds the user's slot, streams the writing, records the finished piece, and can
later regenerate, continue or remix any recorded piece by its id, so buttons on old messages
keep working after a restart.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass

from bot.errors import InvalidRequest
from bot.forms import Form, Genre, Length, PieceSpec, PoemForm
from bot.generation.types import SamplingParams
from bot.storage import Database, GenerationRecord, GuildSettings, NewGeneration
from bot.writing.fairness import UserGate
from bot.writing.pieces import Piece, WritingService

# How much of a piece is carried into a "Continue": the model only needs the recent context.
CONTINUE_CONTEXT_CHARS = 1200


@dataclass(frozen=True)
class Author:
    """Who asked, and where: attribution and the scope of guild settings."""

    user_id: int
    name: str
    guild_id: int | None = None
    channel_id: int | None = None


@dataclass(frozen=True)
class Draft:
    """Everything needed to write a piece: what, how, and which recorded piece it reworks."""

    spec: PieceSpec
    sampling: SamplingParams
    parent_id: int | None = None


@dataclass(frozen=True)
class StudioUpdate:
    """``queue_position`` while waiting, ``text`` while writing; at the end ``piece`` and the
    stored ``record``."""

    text: str = ""
    queue_position: int | None = None
    piece: Piece | None = None
    record: GenerationRecord | None = None


class Studio:
    """Hands out writing sessions and looks up recorded pieces."""

    def __init__(
        self,
        writing: WritingService,
        database: Database,
        gate: UserGate,
        *,
        cooldown_seconds: float,
    ) -> None:
        self._writing = writing
        self._database = database
        self._gate = gate
        self._cooldown = cooldown_seconds

    @property
    def writing(self) -> WritingService:
        """The writing service (model information, raw writing)."""
        return self._writing

    @contextlib.asynccontextmanager
    async def session(self, author: Author) -> AsyncIterator[WritingSession]:
        """Hold ``author``'s single writing slot (raises ``RateLimited`` at once when they must
        wait), so front ends can refuse before they acknowledge anything."""
        guild = None
        if author.guild_id is not None:
            guild = await self._database.guild_settings.get(author.guild_id)
        cooldown = self._cooldown
        if guild is not None and guild.cooldown_seconds is not None:
            cooldown = guild.cooldown_seconds
        with self._gate.slot(author.user_id, cooldown):
            yield WritingSession(self._writing, self._database, author, guild)

    async def piece(self, generation_id: int) -> GenerationRecord:
        """A recorded piece, or a kind error if it no longer exists."""
        record = await self._database.generations.get(generation_id)
        if record is None:
            raise InvalidRequest(
                f"I can't find piece #{generation_id} any more — it may have "
                "been deleted by its author."
            )
        return record


class WritingSession:
    """One author's turn at the writer; see ``Studio.session``."""

    def __init__(
        self,
        writing: WritingService,
        database: Database,
        author: Author,
        guild: GuildSettings | None,
    ) -> None:
        self._writing = writing
        self._database = database
        self._author = author
        self._guild = guild

    async def write(self, draft: Draft) -> AsyncIterator[StudioUpdate]:
        """Write ``draft`` with the guild's defaults, then record the finished piece."""
        sampling = _with_guild_defaults(draft.sampling, self._guild)
        async for update in self._writing.stream(draft.spec, sampling):
            if update.piece is None:
                yield StudioUpdate(text=update.text, queue_position=update.queue_position)
                continue
            record = await self._record(update.piece, draft.parent_id)
            yield StudioUpdate(text=update.piece.text, piece=update.piece, record=record)

    async def _record(self, piece: Piece, parent_id: int | None) -> GenerationRecord:
        spec, author = piece.spec, self._author
        params: dict[str, object] = {
            **piece.sampling.as_dict(),
            "length": spec.length.value,
            "characters": list(spec.characters),
            "model_tokens": piece.new_tokens,
        }
        params.pop("seed")
        return await self._database.generations.add(
            NewGeneration(
                user_id=author.user_id,
                user_name=author.name,
                guild_id=author.guild_id,
                channel_id=author.channel_id,
                form=spec.form.value,
                prompt=spec.text,
                params=params,
                seed=piece.sampling.seed,
                model=piece.model,
                text=piece.text,
                poem_form=spec.poem_form.value if spec.form is Form.POEM else None,
                genre=spec.genre.value if spec.form is Form.STORY else None,
                parent_id=parent_id,
            )
        )


def regenerate_draft(record: GenerationRecord) -> Draft:
    """The same request as a recorded piece, with a new seed."""
    sampling = dataclasses.replace(sampling_from_record(record), seed=None)
    return Draft(spec_from_record(record), sampling, parent_id=record.id)


def continue_draft(record: GenerationRecord) -> Draft:
    """Carry a recorded piece on from where it ended."""
    spec = PieceSpec(
        form=Form.CONTINUE,
        text=_tail(record.text),
        length=Length(record.params.get("length", Length.MEDIUM)),
    )
    sampling = dataclasses.replace(sampling_from_record(record), seed=None, max_new_tokens=None)
    return Draft(spec, sampling, parent_id=record.id)


def remix_draft(record: GenerationRecord, changes: SamplingParams) -> Draft:
    """A recorded piece's request with the same seed and the given parameters changed."""
    overrides = {k: v for k, v in dataclasses.asdict(changes).items() if v is not None}
    sampling = dataclasses.replace(sampling_from_record(record), **overrides)
    return Draft(spec_from_record(record), sampling, parent_id=record.id)


def spec_from_record(record: GenerationRecord) -> PieceSpec:
    """The request a recorded piece was written for."""
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


def _with_guild_defaults(sampling: SamplingParams, guild: GuildSettings | None) -> SamplingParams:
    if guild is None:
        return sampling
    return dataclasses.replace(
        sampling,
        temperature=sampling.temperature if sampling.temperature is not None else guild.temperature,
        top_p=sampling.top_p if sampling.top_p is not None else guild.top_p,
        top_k=sampling.top_k if sampling.top_k is not None else guild.top_k,
        max_new_tokens=sampling.max_new_tokens
        if sampling.max_new_tokens is not None
        else guild.max_new_tokens,
    )


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
