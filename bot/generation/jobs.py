"""A prepared request on its way through an engine (no torch here, so the CTranslate2 engine
can run without importing it)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.errors import GenerationFailed, ServiceBusy
from bot.generation.types import DecodingConstraint, GenerationUpdate, ResolvedSampling, StopRule

Sink = Callable[[GenerationUpdate | BaseException], None]
# Receives the log-probability of every token after the first, or the error.
ScoreSink = Callable[[list[float] | BaseException], None]


@dataclass
class ScoreJob:
    """A text to score in one forward pass: ``input_ids`` starts with the token that stands
    for the start of a document, so every token of the text itself has a context."""

    input_ids: list[int]
    sink: ScoreSink
    cancelled: threading.Event = field(default_factory=threading.Event)
    submitted_at: float = field(default_factory=time.perf_counter)


@dataclass
class Job:
    """What an engine needs to write one piece. ``sink`` must be thread-safe.

    ``ignore_eos`` makes the engine write exactly ``max_new_tokens`` (benchmarks use it to
    compare engines on the same amount of work); users never set it. ``adapter`` is the
    folder of the LoRA adapter (a voice) the piece is written with, None for the base model.
    """

    input_ids: list[int]
    sampling: ResolvedSampling
    stop: StopRule | None
    sink: Sink
    ignore_eos: bool = False
    constraint: DecodingConstraint | None = None
    # The longest the row may take to write once it has left the queue (0 = no limit).
    timeout_seconds: float = 0.0
    adapter: str | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)
    submitted_at: float = field(default_factory=time.perf_counter)


def row_failed(exc: Exception) -> GenerationFailed:
    """The error for one row whose own work raised (its stop rule, its constraint, its
    decoding): the user may retry, and the rest of the batch goes on."""
    error = GenerationFailed("Something went wrong while writing your piece; please try again.")
    error.__cause__ = exc
    return error


def overran(job: Job, started_at: float) -> GenerationFailed | None:
    """The error for a row that has been writing longer than its ``timeout_seconds``, if it
    has; the engines check it at each of the row's tokens."""
    limit = job.timeout_seconds
    if limit <= 0 or time.perf_counter() - started_at <= limit:
        return None
    return GenerationFailed(
        f"That piece took longer than {limit:g} seconds to write, so I stopped it. "
        "Please try again, perhaps with a shorter length."
    )


class JobQueue:
    """The waiting line every engine shares: bounded, cancellable, closed on shutdown.

    Subclasses guard their own state with ``_condition`` too, and say how many jobs a new
    one waits behind (``_ahead_of_newest``) and how many rows they are writing
    (``_rows_running``).
    """

    def __init__(self, max_waiting: int) -> None:
        self._max_waiting = max_waiting
        self._waiting: list[Job] = []
        self._scoring: list[ScoreJob] = []
        self._condition = threading.Condition()
        self._stopping = False

    @property
    def load(self) -> tuple[int, int]:
        """(rows being written, jobs waiting)."""
        with self._condition:
            return self._rows_running(), len(self._waiting)

    def submit(self, job: Job) -> int:
        """Queue ``job``; returns how many jobs it waits behind (0 = it starts right away).
        Raises ``ServiceBusy`` when the queue is full."""
        with self._condition:
            if self._stopping:
                raise GenerationFailed("The writer is shutting down; please try again soon.")
            if len(self._waiting) >= self._max_waiting:
                raise ServiceBusy()
            self._waiting.append(job)
            ahead = self._ahead_of_newest()
            self._condition.notify_all()
        return max(0, ahead)

    def submit_score(self, job: ScoreJob) -> None:
        """Queue a text to score; it is read between two decoding steps, batched with the
        other texts waiting to be scored. Raises ``ServiceBusy`` when the queue is full."""
        with self._condition:
            if self._stopping:
                raise GenerationFailed("The writer is shutting down; please try again soon.")
            if len(self._scoring) >= self._max_waiting:
                raise ServiceBusy()
            self._scoring.append(job)
            self._condition.notify_all()

    def _take_scoring(self, most: int) -> list[ScoreJob]:
        """Up to ``most`` waiting texts to score (caller holds ``_condition``)."""
        taken = [job for job in self._scoring[:most] if not job.cancelled.is_set()]
        del self._scoring[:most]
        return taken

    def cancel(self, job: Job) -> None:
        """Forget ``job``: it leaves the queue, or its batch at the next step."""
        job.cancelled.set()
        with self._condition:
            if job in self._waiting:
                self._waiting.remove(job)

    def _rows_running(self) -> int:
        raise NotImplementedError

    def _ahead_of_newest(self) -> int:
        raise NotImplementedError
