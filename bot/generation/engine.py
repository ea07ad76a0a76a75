"""The worker thread that owns the model and decodes many requests in one batch.

Continuous batching: a request that arrives while others are being written is prefilled and
joins the running batch at the next step; a finished or cancelled row leaves the batch at once.
Each row keeps its own sampling parameters, random generator and stop rule, so one batch can
mix haiku and stories. How the rows' keys and values are kept is the ``DecodeBatch``'s business:
``fast.batch.SlotBatch`` (the fast decoder) or ``hf_batch.TransformersBatch``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bot.errors import GenerationFailed, InkwellError
from bot.generation.constrained import TokenTexts, constrained_token
from bot.generation.jobs import Job, JobQueue, ScoreJob, Sink, overran, row_failed
from bot.generation.loading import LoadedModel
from bot.generation.sampling import RowSampling, apply_repetition_penalty, sample_next_tokens
from bot.generation.scoring import MAX_SCORE_BATCH, score_jobs
from bot.generation.torch_setup import torch
from bot.generation.types import (
    FinishReason,
    GenerationResult,
    GenerationUpdate,
)

__all__ = ["BatchingEngine", "DecodeBatch", "Job", "Sink"]

log = logging.getLogger(__name__)


@dataclass
class _Row:
    job: Job
    generator: torch.Generator
    position: int  # position id of the next token fed to the model
    pending_token: int = -1
    generated: list[int] = field(default_factory=list)
    text: str = ""
    # When the row started writing: its timeout counts from here, not from the queue.
    started_at: float = field(default_factory=time.perf_counter)


class DecodeBatch(Protocol):
    """The rows being written, as the model sees them; used only on the worker thread."""

    def warm_up(self) -> None: ...
    def load_adapter(self, adapter: str, *, keep: Sequence[str] = ()) -> None: ...
    def prefill(
        self, prompts: list[list[int]], adapters: Sequence[str | None] | None = None
    ) -> torch.Tensor: ...
    def step(self, tokens: list[int], positions: list[int]) -> torch.Tensor: ...
    def keep(self, indices: list[int]) -> None: ...
    def score(self, sequences: list[list[int]]) -> list[list[float]]: ...


class BatchingEngine(JobQueue):
    """Owns the model on one thread; ``submit`` and ``cancel`` are safe from any thread."""

    def __init__(
        self,
        loaded: LoadedModel,
        batch: DecodeBatch,
        *,
        max_batch_size: int,
        max_waiting: int,
        threads: int = 0,
    ) -> None:
        super().__init__(max_waiting)
        self._loaded = loaded
        self._batch = batch
        self._max_batch = max_batch_size
        self._threads = threads
        self._rows: list[_Row] = []
        self._token_texts = TokenTexts(loaded.tokenizer)  # built when a constrained row comes
        self._thread = threading.Thread(target=self._run, name="inkwell-generation", daemon=True)

    def start(self) -> None:
        """Start the worker thread."""
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current step; waiting and running jobs are told the service closed."""
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _rows_running(self) -> int:
        return len(self._rows)

    def _ahead_of_newest(self) -> int:
        # Free batch slots are taken at the next step; only the jobs beyond them wait.
        return len(self._rows) + len(self._waiting) - self._max_batch

    # --- worker thread -------------------------------------------------------------------

    def _run(self) -> None:
        if self._threads > 0:
            torch.set_num_threads(self._threads)
        with torch.inference_mode():
            while True:
                admitted, still_waiting, scoring = self._next_admissions()
                if admitted is None:
                    break
                # Texts to score cost one forward pass, between two steps of the batch.
                score_jobs(self._batch.score, scoring)
                for position, job in enumerate(still_waiting, start=1):
                    job.sink(GenerationUpdate(queue_position=position))
                try:
                    joined = self._prefill_or_fail(admitted)
                    if joined:
                        # The new rows' first tokens come from their prompts' logits.
                        self._advance(*joined)
                    if self._rows:
                        self._step()
                except Exception as exc:  # one bad batch must not kill the worker
                    log.exception("Generation step failed; failing %d rows", len(self._rows))
                    self._fail([row.job for row in self._rows], exc)
                    self._rows = []
                    self._batch.keep([])
        self._shutdown()

    def _next_admissions(self) -> tuple[list[Job] | None, list[Job], list[ScoreJob]]:
        """Wait for work; return jobs to start now, those still waiting (None = stop) and
        texts to score now."""
        with self._condition:
            while not (self._stopping or self._rows or self._waiting or self._scoring):
                self._condition.wait()
            if self._stopping:
                return None, [], []
            scoring = self._take_scoring(MAX_SCORE_BATCH)
            self._drop_cancelled_rows()
            free = self._max_batch - len(self._rows)
            admitted = [job for job in self._waiting[:free] if not job.cancelled.is_set()]
            del self._waiting[:free]
            # Positions only change when someone was admitted; don't spam the sinks otherwise.
            return admitted, list(self._waiting) if admitted else [], scoring

    def _prefill_or_fail(self, jobs: list[Job]) -> tuple[list[_Row], torch.Tensor] | None:
        """Prefill ``jobs`` and add them to the batch, returning the new rows and their
        logits; if that fails only they fail, and the running batch, which the prefill has not
        touched, carries on."""
        jobs = self._with_adapters_loaded(jobs)
        if not jobs:
            return None
        try:
            logits = self._batch.prefill(
                [job.input_ids for job in jobs], [job.adapter for job in jobs]
            )
        except Exception as exc:
            log.exception("Prefill of %d new rows failed", len(jobs))
            self._fail(jobs, exc)
            return None
        new_rows = [
            _Row(
                job=job,
                generator=torch.Generator().manual_seed(job.sampling.seed),
                position=len(job.input_ids),
            )
            for job in jobs
        ]
        self._rows = self._rows + new_rows
        return new_rows, logits

    def _with_adapters_loaded(self, jobs: list[Job]) -> list[Job]:
        """``jobs`` whose adapters are loaded now (read from disk the first time); a job whose
        adapter is missing or broken fails alone, with the reason."""
        ready: list[Job] = []
        for job in jobs:
            if job.adapter is not None:
                keep = [other.adapter for other in ready if other.adapter is not None]
                try:
                    self._batch.load_adapter(job.adapter, keep=keep)
                except InkwellError as exc:
                    log.warning("Adapter %s refused: %s", job.adapter, exc.user_message)
                    job.sink(exc)
                    continue
                except Exception as exc:
                    log.exception("Loading adapter %s failed", job.adapter)
                    self._fail([job], exc)
                    continue
            ready.append(job)
        return ready

    def _step(self) -> None:
        """Feed every row its pending token and sample the next one."""
        rows = self._rows
        logits = self._batch.step([row.pending_token for row in rows], [r.position for r in rows])
        for row in rows:
            row.position += 1
        self._advance(rows, logits)

    def _advance(self, rows: list[_Row], logits: torch.Tensor) -> None:
        """Sample one token for each of ``rows`` (aligned with ``logits``), stream the text and
        retire the rows that are done."""
        settings = [
            RowSampling(
                temperature=row.job.sampling.temperature,
                top_p=row.job.sampling.top_p,
                top_k=row.job.sampling.top_k,
                repetition_penalty=row.job.sampling.repetition_penalty,
                generator=row.generator,
                seen_tokens=torch.tensor(sorted(set(row.generated)), dtype=torch.long),
            )
            for row in rows
        ]
        finished: dict[int, FinishReason | GenerationFailed] = {}
        for row, token in zip(rows, self._next_tokens(rows, logits, settings), strict=True):
            # What one row runs of its own (its stop rule, its constraint, its decoding) may
            # fail or overrun; that row alone ends, and the batch carries on without it.
            outcome: FinishReason | GenerationFailed | None
            if isinstance(token, GenerationFailed):
                outcome = token
            else:
                try:
                    outcome = self._accept(row, token)
                except Exception as exc:
                    log.exception("Row failed while taking its token; the batch goes on")
                    outcome = row_failed(exc)
            if outcome is None:
                outcome = overran(row.job, row.started_at)
            if outcome is not None:
                finished[id(row)] = outcome
        if finished:
            self._retire(finished)

    def _next_tokens(
        self, rows: list[_Row], logits: torch.Tensor, settings: list[RowSampling]
    ) -> list[int | GenerationFailed]:
        """One token per row: the batch's free rows sampled together, constrained rows each
        through its constraint (a poem's form) from the same penalised scores. A row whose
        constraint raises gets its error instead of a token."""
        held = [index for index, row in enumerate(rows) if row.job.constraint is not None]
        if not held:
            return sample_next_tokens(logits, settings)
        scores = logits.float()
        apply_repetition_penalty(scores, settings)
        free = [index for index in range(len(rows)) if rows[index].job.constraint is None]
        tokens: list[int | GenerationFailed] = [0] * len(rows)
        if free:
            picked = torch.tensor(free, dtype=torch.long)
            sampled = sample_next_tokens(
                scores[picked], [settings[i] for i in free], penalised=True
            )
            for index, token in zip(free, sampled, strict=True):
                tokens[index] = token
        for index in held:
            row = rows[index]
            constraint = row.job.constraint
            assert constraint is not None
            try:
                tokens[index] = constrained_token(
                    scores[index],
                    settings[index],
                    constraint,
                    row.text,
                    self._token_texts,
                    self._loaded.eos_ids,
                    fallback=lambda i=index: int(torch.argmax(scores[i])),
                )
            except Exception as exc:
                log.exception("A row's constraint failed; the batch goes on without it")
                tokens[index] = row_failed(exc)
        return tokens

    def _accept(self, row: _Row, token: int) -> FinishReason | None:
        loaded, job = self._loaded, row.job
        if job.cancelled.is_set():
            return FinishReason.CANCELLED
        if token in loaded.eos_ids and not job.ignore_eos:
            return FinishReason.EOS
        row.generated.append(token)
        row.pending_token = token
        text = loaded.tokenizer.decode(row.generated, skip_special_tokens=True)
        # A multi-byte character split across tokens decodes to U+FFFD until it completes.
        text = text.rstrip("\ufffd")
        if job.stop is not None:
            cut = job.stop(text)
            if cut is not None:
                row.text = text[:cut]
                return FinishReason.STOP
        if text != row.text:
            row.text = text
            job.sink(GenerationUpdate(text=text))
        if len(row.generated) >= job.sampling.max_new_tokens:
            return FinishReason.LENGTH
        if row.position + 1 >= loaded.context_window:
            return FinishReason.LENGTH
        return None

    def _retire(self, finished: dict[int, FinishReason | GenerationFailed]) -> None:
        keep = [index for index, row in enumerate(self._rows) if id(row) not in finished]
        for row in self._rows:
            reason = finished.get(id(row))
            if reason is None or reason is FinishReason.CANCELLED:
                continue
            if isinstance(reason, GenerationFailed):
                row.job.sink(reason)
            else:
                row.job.sink(GenerationUpdate(text=row.text, result=self._result(row, reason)))
        self._select_rows(keep)

    def _drop_cancelled_rows(self) -> None:
        keep = [i for i, row in enumerate(self._rows) if not row.job.cancelled.is_set()]
        if len(keep) == len(self._rows):
            return
        try:
            self._select_rows(keep)
        except Exception as exc:  # outside the step's guard: it must not kill the worker
            log.exception("Dropping cancelled rows failed; failing %d rows", len(keep))
            self._fail([self._rows[i].job for i in keep], exc)
            self._rows = []
            self._batch.keep([])

    def _select_rows(self, keep: list[int]) -> None:
        self._batch.keep(keep)
        self._rows = [self._rows[i] for i in keep]

    def _result(self, row: _Row, reason: FinishReason) -> GenerationResult:
        return GenerationResult(
            text=row.text,
            finish_reason=reason,
            sampling=row.job.sampling,
            model=self._loaded.name,
            prompt_tokens=len(row.job.input_ids),
            new_tokens=len(row.generated),
            seconds=time.perf_counter() - row.job.submitted_at,
            adapter=None if row.job.adapter is None else Path(row.job.adapter).name,
        )

    @staticmethod
    def _fail(jobs: list[Job], exc: Exception) -> None:
        error = GenerationFailed("Something went wrong while writing; please try again.")
        error.__cause__ = exc
        for job in jobs:
            job.sink(error)

    def _shutdown(self) -> None:
        error = GenerationFailed("The writer shut down before finishing; please try again.")
        with self._condition:
            pending = [row.job for row in self._rows] + self._waiting
            scoring, self._scoring = self._scoring, []
            self._rows, self._waiting = [], []
        for job in pending:
            if not job.cancelled.is_set():
                job.sink(error)
        for score in scoring:
            score.sink(error)
