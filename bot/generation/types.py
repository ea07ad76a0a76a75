"""Plain data that crosses the boundary of the generation service (no torch here).

Front ends build ``GenerationRequest``s and receive ``GenerationUpdate``s; only the engine behind
the service knows about tensors, so the same types can later front a remote server.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True)
class ChatMessage:
    """One turn of a chat-template prompt."""

    role: str
    content: str


@dataclass(frozen=True)
class SamplingParams:
    """How to pick tokens. ``None`` fields take the configured defaults when the request is
    prepared; ``seed`` None means a fresh random seed, reported back in the result."""

    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_new_tokens: int | None = None
    seed: int | None = None
    repetition_penalty: float | None = None


# Called with the text generated so far; returns where to cut it (a natural end was reached or
# the text started looping) or None to keep going. Forms supply these.
StopRule = Callable[[str], int | None]


class DecodingConstraint(Protocol):
    """Holds a row to rules while it is written (a poem's form). Works on text only, so the
    same constraint serves any tokenizer; must be safe to call from the engine's thread."""

    def allowed(self, text: str, candidates: Sequence[str]) -> list[bool]:
        """For each candidate continuation of ``text``, whether it keeps to the rules."""
        ...

    def may_end(self, text: str) -> bool:
        """Whether the text may end here."""
        ...

    def rescue(self, text: str) -> Sequence[str]:
        """Continuations that keep to the rules, for when no likely token does."""
        ...


@dataclass(frozen=True)
class GenerationRequest:
    """What to write. Exactly one of ``prompt`` (continued as is, for base models) and
    ``messages`` (rendered with the model's chat template) is set."""

    prompt: str | None = None
    messages: tuple[ChatMessage, ...] | None = None
    sampling: SamplingParams = field(default_factory=SamplingParams)
    stop: StopRule | None = None
    constraint: DecodingConstraint | None = None
    # A voice: the name of a LoRA adapter in the adapters folder (``voice.adapters_dir``), or
    # the path of an adapter's folder; None writes with the base model.
    adapter: str | None = None


@dataclass(frozen=True)
class ResolvedSampling:
    """Sampling parameters after validation and clamping: what the engine really used."""

    temperature: float
    top_p: float
    top_k: int
    max_new_tokens: int
    seed: int
    repetition_penalty: float

    def as_dict(self) -> dict[str, float | int]:
        """The parameters for attribution and storage."""
        return {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "max_new_tokens": self.max_new_tokens,
            "seed": self.seed,
        }


class FinishReason(StrEnum):
    """Why a generation ended."""

    EOS = "eos"  # the model said it was done
    STOP = "stop"  # the request's stop rule found a natural end
    LENGTH = "length"  # max_new_tokens or the context window ran out
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class GenerationResult:
    """A finished generation: the text only (prompt excluded), and how it was made."""

    text: str
    finish_reason: FinishReason
    sampling: ResolvedSampling
    model: str
    prompt_tokens: int
    new_tokens: int
    seconds: float
    adapter: str | None = None  # the voice it was written in (its name), for attribution


@dataclass(frozen=True)
class GenerationUpdate:
    """One event of a streamed generation.

    While waiting: ``queue_position`` >= 1 (requests ahead + 1). While writing: ``text`` is the
    whole text so far. At the end: ``result`` is set and this is the last update.
    """

    text: str = ""
    queue_position: int | None = None
    result: GenerationResult | None = None


@dataclass(frozen=True)
class ModelInfo:
    """What front ends may know about the loaded model."""

    name: str
    chat: bool  # prompted through a chat template (instruct model) rather than continuation
    context_window: int
    dtype: str


@dataclass(frozen=True)
class ScoredToken:
    """One token of a scored text and the model's log-probability of it in its context."""

    text: str
    logprob: float


_LARGEST_EXPONENT = math.log(sys.float_info.max)


@dataclass(frozen=True)
class TextScore:
    """How predictable the model found a text: per-token log-probabilities, in order."""

    model: str
    tokens: tuple[ScoredToken, ...]
    seconds: float

    @property
    def perplexity(self) -> float:
        """exp of the mean negative log-probability: about how many tokens the model was
        choosing between, on average, at each step."""
        if not self.tokens:
            return 1.0
        mean = sum(token.logprob for token in self.tokens) / len(self.tokens)
        # A token the model all but ruled out (log-probability below about -710, or -inf
        # from a masked logit) is beyond what a float holds: infinitely surprising.
        return math.exp(-mean) if -mean < _LARGEST_EXPONENT else math.inf


# (stage description, fraction done 0..1 or None when unknown)
ProgressCallback = Callable[[str, float | None], None]
