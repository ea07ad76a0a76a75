"""The worker thread that owns the model and decodes many requests in one batch.

Continuous batching: a request that arrives while others are being written is prefilled on its
own and joins the running batch at the next step (its KV cache is left-padded to the batch's
length); a finished or cancelled row leaves the batch at once. Each row keeps its own sampling
parameters, random generator and stop rule, so one batch can mix haiku and stories.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bot.errors import GenerationFailed
from bot.generation.constrained import TokenTexts, constrained_token
from bot.generation.jobs import Job, JobQueue, ScoreJob, Sink
from bot.generation.loading import LoadedModel
from bot.generation.sampling import RowSampling, apply_repetition_penalty, sample_next_tokens
from bot.generation.scoring import MAX_SCORE_BATCH, score_jobs
from bot.generation.torch_setup import torch
from bot.generation.types import (
    FinishReason,
    GenerationResult,
    GenerationUpdate,
)

__all__ = ["BatchingEngine", "Job", "Sink"]

log = logging.getLogger(__name__)


@dataclass
class _Row:
    job: Job
    generator: torch.Generator
    position: int  # position id of the next token fed to the model
    pending_token: int = -1
    generated: list[int] = field(default_factory=list)
    text: str = ""


@dataclass
class _Prefilled:
    """New rows with their own KV cache, ready to join the running batch."""

    rows: list[_Row]
    cache: Any
    mask: torch.Tensor
    logits: torch.Tensor


class BatchingEngine(JobQueue):
    """Owns the model on one thread; ``submit`` and ``cancel`` are safe from any thread."""

    def __init__(
        self, loaded: LoadedModel, *, max_batch_size: int, max_waiting: int, threads: int = 0
    ) -> None:
        super().__init__(max_waiting)
        self._loaded = loaded
        self._max_batch = max_batch_size
        self._threads = threads
        self._rows: list[_Row] = []
        self._cache: Any = None  # transformers DynamicCache for self._rows, or None
        self._mask: torch.Tensor | None = None  # [rows, cache length]; 0 marks left padding
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
                score_jobs(self._loaded.model, self._loaded.pad_id, scoring)
                for position, job in enumerate(still_waiting, start=1):
                    job.sink(GenerationUpdate(queue_position=position))
                joining = self._prefill_or_fail(admitted)
                try:
                    if joining is not None:
                        self._merge(joining.rows, joining.cache, joining.mask)
                        self._advance(joining.rows, joining.logits)
                    if self._rows:
                        self._step()
                except Exception as exc:  # one bad batch must not kill the worker
                    log.exception("Generation step failed; failing %d rows", len(self._rows))
                    self._fail([row.job for row in self._rows], exc)
                    self._rows, self._cache, self._mask = [], None, None
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

    def _prefill_or_fail(self, jobs: list[Job]) -> _Prefilled | None:
        """Prefill ``jobs``; if that fails only they fail, and the running batch, which the
        prefill has not touched yet, carries on."""
        if not jobs:
            return None
        try:
            return self._prefill(jobs)
        except Exception as exc:
            log.exception("Prefill of %d new rows failed", len(jobs))
            self._fail(jobs, exc)
            return None

    def _prefill(self, jobs: list[Job]) -> _Prefilled:
        loaded = self._loaded
        longest = max(len(job.input_ids) for job in jobs)
        ids = torch.full((len(jobs), longest), loaded.pad_id, dtype=torch.long)
        mask = torch.zeros((len(jobs), longest), dtype=torch.long)
        for index, job in enumerate(jobs):
            ids[index, longest - len(job.input_ids) :] = torch.tensor(job.input_ids)
            mask[index, longest - len(job.input_ids) :] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        from transformers import DynamicCache

        cache = DynamicCache()
        output = loaded.model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            cache=cache,
            use_cache=True,
            logits_to_keep=1,
        )
        new_rows = [
            _Row(
                job=job,
                generator=torch.Generator().manual_seed(job.sampling.seed),
                position=len(job.input_ids),
            )
            for job in jobs
        ]
        return _Prefilled(new_rows, cache, mask, output.logits[:, -1, :])

    def _merge(self, new_rows: list[_Row], cache: Any, mask: torch.Tensor) -> None:
        """Join freshly prefilled rows to the running batch, left-padding the shorter cache."""
        if self._cache is None or self._mask is None or not self._rows:
            self._rows, self._cache, self._mask = new_rows, cache, mask
            return
        old_len, new_len = self._mask.shape[1], mask.shape[1]
        target = max(old_len, new_len)
        for old_layer, new_layer in zip(self._cache.layers, cache.layers, strict=True):
            for name in ("keys", "values"):
                old = _left_pad(getattr(old_layer, name), target - old_len, dim=2)
                new = _left_pad(getattr(new_layer, name), target - new_len, dim=2)
                setattr(old_layer, name, torch.cat([old, new], dim=0))
        self._mask = torch.cat(
            [
                _left_pad(self._mask, target - old_len, dim=1),
                _left_pad(mask, target - new_len, dim=1),
            ],
            dim=0,
        )
        self._rows = self._rows + new_rows

    def _step(self) -> None:
        """Feed every row its pending token and sample the next one."""
        assert self._mask is not None
        rows = self._rows
        ids = torch.tensor([[row.pending_token] for row in rows], dtype=torch.long)
        positions = torch.tensor([[row.position] for row in rows], dtype=torch.long)
        self._mask = torch.cat([self._mask, torch.ones((len(rows), 1), dtype=torch.long)], 1)
        output = self._loaded.model(
            input_ids=ids,
            attention_mask=self._mask,
            position_ids=positions,
            cache=self._cache,
            use_cache=True,
        )
        for row in rows:
            row.position += 1
        self._advance(rows, output.logits[:, -1, :])

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
        finished: dict[int, FinishReason] = {}
        for row, token in zip(rows, self._next_tokens(rows, logits, settings), strict=True):
            reason = self._accept(row, token)
            if reason is not None:
                finished[id(row)] = reason
        if finished:
            self._retire(finished)

    def _next_tokens(
        self, rows: list[_Row], logits: torch.Tensor, settings: list[RowSampling]
    ) -> list[int]:
        """One token per row: the batch's free rows sampled together, constrained rows each
        through its constraint (a poem's form) from the same penalised scores."""
        held = [index for index, row in enumerate(rows) if row.job.constraint is not None]
        if not held:
            return sample_next_tokens(logits, settings)
        scores = logits.float()
        apply_repetition_penalty(scores, settings)
        free = [index for index in range(len(rows)) if rows[index].job.constraint is None]
        tokens = [0] * len(rows)
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
            tokens[index] = constrained_token(
                scores[index],
                settings[index],
                constraint,
                row.text,
                self._token_texts,
                self._loaded.eos_ids,
                fallback=lambda i=index: int(torch.argmax(scores[i])),
            )
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

    def _retire(self, finished: dict[int, FinishReason]) -> None:
        keep = [index for index, row in enumerate(self._rows) if id(row) not in finished]
        for row in self._rows:
            reason = finished.get(id(row))
            if reason is not None and reason is not FinishReason.CANCELLED:
                row.job.sink(GenerationUpdate(text=row.text, result=self._result(row, reason)))
        self._select_rows(keep)

    def _drop_cancelled_rows(self) -> None:
        keep = [i for i, row in enumerate(self._rows) if not row.job.cancelled.is_set()]
        if len(keep) != len(self._rows):
            self._select_rows(keep)

    def _select_rows(self, keep: list[int]) -> None:
        if not keep:
            self._rows, self._cache, self._mask = [], None, None
            return
        assert self._mask is not None
        index = torch.tensor(keep, dtype=torch.long)
        mask = self._mask.index_select(0, index)
        # Columns that are padding for every remaining row are dead weight in each step.
        first_live = int(mask.any(dim=0).to(torch.long).argmax())
        for layer in self._cache.layers:
            layer.keys = layer.keys.index_select(0, index)[:, :, first_live:, :]
            layer.values = layer.values.index_select(0, index)[:, :, first_live:, :]
        self._mask = mask[:, first_live:]
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
            self._rows, self._waiting, self._cache, self._mask = [], [], None, None
        for job in pending:
            if not job.cancelled.is_set():
                job.sink(error)
        for score in scoring:
            score.sink(error)


def _left_pad(tensor: torch.Tensor, amount: int, *, dim: int) -> torch.Tensor:
    if amount == 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = amount
    return torch.cat([tensor.new_zeros(shape), tensor], dim=dim)
