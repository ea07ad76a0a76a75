"""Creative writing on top of text generation: a ``PieceSpec`` in, a finished ``Piece`` out.

This is where forms meet the model: the right template for the model's style (continuation for
base models, chat for instruct models), the form's stop rule while the model writes, and the
form's clean-up at the end. Front ends call this, never the generation service directly.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from bot import forms
from bot.errors import GenerationFailed, InkwellError, PromptTooLong
from bot.forms import PieceSpec
from bot.generation.types import (
    FinishReason,
    GenerationRequest,
    GenerationUpdate,
    ModelInfo,
    ResolvedSampling,
    SamplingParams,
    TextScore,
)


class TextGenerator(Protocol):
    """What the writing service needs from a generation backend (local engine or remote)."""

    @property
    def info(self) -> ModelInfo: ...

    def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationUpdate]: ...

    async def score(self, text: str) -> TextScore: ...


@dataclass(frozen=True)
class Piece:
    """A finished piece of writing and everything needed to attribute or reproduce it."""

    spec: PieceSpec
    text: str
    model: str
    sampling: ResolvedSampling
    finish_reason: FinishReason
    seconds: float
    new_tokens: int

    def attribution(self) -> str:
        """Who wrote it and how: model, seed and parameters."""
        s = self.sampling
        return (
            f"{self.model} · seed {s.seed} · temperature {s.temperature:g} · "
            f"top-p {s.top_p:g} · top-k {s.top_k}"
        )


@dataclass(frozen=True)
class WritingUpdate:
    """While waiting: ``queue_position``. While writing: ``text``, the part of the piece that is
    settled so far. At the end: ``piece``."""

    text: str = ""
    queue_position: int | None = None
    piece: Piece | None = None


class WritingService:
    """Writes pieces with whatever model the generator has loaded."""

    def __init__(self, generator: TextGenerator, *, voice: str | None = None) -> None:
        self._generator = generator
        # The voice (a LoRA adapter's name) pieces are written in when their guild has none:
        # the console's --adapter.
        self._voice = voice

    @property
    def model(self) -> ModelInfo:
        """The model that writes."""
        return self._generator.info

    @property
    def model_name(self) -> str | None:
        """The model's name, or None while there is none to write with (for /help)."""
        try:
            return self._generator.info.name
        except InkwellError:
            return None

    def require_ready(self) -> None:
        """Raise the generator's own ``InkwellError`` when it has no model to write with (it
        rests after a failed load, or is still loading), before any work is queued."""
        _ = self._generator.info

    def request_for(
        self, spec: PieceSpec, sampling: SamplingParams, voice: str | None = None
    ) -> GenerationRequest:
        """The generation request for ``spec``: template, length, stop rule and voice."""
        prompt = forms.build_prompt(spec, chat=self._generator.info.chat)
        if sampling.max_new_tokens is None:
            sampling = dataclasses.replace(
                sampling, max_new_tokens=forms.default_max_new_tokens(spec)
            )
        return GenerationRequest(
            prompt=prompt.text,
            messages=prompt.messages,
            sampling=sampling,
            stop=lambda text: forms.stop_index(spec, text),
            constraint=forms.constraint_for(spec),
            adapter=voice or self._voice,
        )

    async def stream(
        self, spec: PieceSpec, sampling: SamplingParams, voice: str | None = None
    ) -> AsyncIterator[WritingUpdate]:
        """Yield queue positions and settled text, then the finished piece.

        Where the prompt is context (a game's poem so far), a model with a short prompt limit
        reads as much of it as fits: the context loses a line at a time until the prompt fits.
        """
        asked = spec
        while True:
            started = False
            try:
                # Closed at once if our caller stops early, so the slot is freed at once too.
                once_only = self._stream_once(asked, spec, sampling, voice)
                async with contextlib.aclosing(once_only) as once:
                    async for update in once:
                        started = True
                        yield update
                return
            except PromptTooLong:
                shorter = None if started else forms.with_less_context(spec)
                if shorter is None:
                    raise
                spec = shorter

    async def _stream_once(
        self, asked: PieceSpec, spec: PieceSpec, sampling: SamplingParams, voice: str | None
    ) -> AsyncIterator[WritingUpdate]:
        """One generation for ``spec``; the piece is attributed to what was ``asked``."""
        request = self.request_for(spec, sampling, voice)
        shown = ""
        # Closed at once when we return early (the piece is done), not when the garbage
        # collector gets to it: until then the engine or the server holds its slot.
        async with contextlib.aclosing(self._generator.stream(request)) as updates:
            async for update in updates:
                if update.queue_position is not None:
                    yield WritingUpdate(queue_position=update.queue_position)
                elif update.result is not None:
                    result = update.result
                    hit_limit = result.finish_reason is FinishReason.LENGTH
                    text = forms.finish(spec, result.text, hit_length_limit=hit_limit)
                    if not text.strip():
                        raise GenerationFailed(
                            "The model didn't write anything this time; please "
                            "try again (a new seed often helps)."
                        )
                    yield WritingUpdate(
                        text=text,
                        piece=Piece(
                            spec=asked,
                            text=text,
                            # The attribution names the voice beside the model.
                            model=result.model
                            if result.adapter is None
                            else f"{result.model} · voice {result.adapter}",
                            sampling=result.sampling,
                            finish_reason=result.finish_reason,
                            seconds=result.seconds,
                            new_tokens=result.new_tokens,
                        ),
                    )
                    return
                else:
                    settled = forms.stable_prefix(spec, update.text)
                    if settled != shown:
                        shown = settled
                        yield WritingUpdate(text=settled)
            raise GenerationFailed("The writer stopped without finishing; please try again.")

    async def score(self, text: str) -> TextScore:
        """How predictable the model finds ``text`` (for /score)."""
        return await self._generator.score(text)

    async def write(self, spec: PieceSpec, sampling: SamplingParams) -> Piece:
        """Write the whole piece."""
        async for update in self.stream(spec, sampling):
            if update.piece is not None:
                return update.piece
        raise GenerationFailed("The writer stopped without finishing; please try again.")
