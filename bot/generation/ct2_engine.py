"""A faster engine on CTranslate2 (int8): the model converted once from the transformers
checkpoint and cached; requests are written in waves, one wave per replica.

CTranslate2 decodes a batch to its end and cannot take new rows mid-way, so instead of one
growing batch there are ``replicas`` single-thread model replicas (one per core measured best on
two cores: 2 x batch 4 beat 1 x batch 8 with two threads). An idle replica takes the waiting
requests that share the first one's sampling settings (CTranslate2 applies temperature, top-k,
top-p and repetition penalty per call); when several replicas are idle the waiting requests are
split between them. Each row still stops on its own (length, stop rule, cancellation) through the
per-token callback, and streams its own text.

Trade-offs against the torch engine: sampling runs inside CTranslate2 with one random stream per
replica thread, so seeds are reported but do not reproduce a text (greedy, temperature 0, does);
a request that arrives while every replica is busy waits for a wave to end.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.errors import GenerationFailed
from bot.generation.jobs import Job, JobQueue, ScoreJob, overran, row_failed
from bot.generation.loading import LoadedModel
from bot.generation.types import FinishReason, GenerationResult, GenerationUpdate

log = logging.getLogger(__name__)

GATHER_SECONDS = 0.005  # requests sent together reach the engine within about a millisecond

# (greedy, temperature, top_k, top_p, repetition_penalty, ignore_eos)
WaveKey = tuple[bool, float, int, float, float, bool]


@dataclass
class _Row:
    job: Job
    generated: list[int] = field(default_factory=list)
    text: str = ""
    finish: FinishReason | None = None
    # The wave starts writing every row at once: the rows' timeouts count from here.
    started_at: float = field(default_factory=time.perf_counter)


def _wave_key(job: Job) -> WaveKey:
    s = job.sampling
    greedy = s.temperature <= 0.0
    if greedy:  # sampling settings do not matter, so all greedy requests can share a wave
        return (True, 1.0, 1, 1.0, s.repetition_penalty, job.ignore_eos)
    return (False, s.temperature, s.top_k, s.top_p, s.repetition_penalty, job.ignore_eos)


class CTranslate2Engine(JobQueue):
    """Same interface as ``BatchingEngine``: ``submit`` and ``cancel`` are safe from any thread."""

    def __init__(
        self, loaded: LoadedModel, *, max_batch_size: int, max_waiting: int, replicas: int
    ) -> None:
        super().__init__(max_waiting)
        self._loaded = loaded
        self._max_batch = max_batch_size
        self._running = 0
        self._idle = replicas
        self._stop_event = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name=f"inkwell-ct2-{i}", daemon=True)
            for i in range(replicas)
        ]

    def start(self) -> None:
        """Start one dispatcher thread per replica."""
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current waves' next tokens; pending jobs are told the service closed."""
        with self._condition:
            self._stopping = True
            self._stop_event.set()
            pending, self._waiting = self._waiting, []
            self._condition.notify_all()
        error = GenerationFailed("The writer shut down before finishing; please try again.")
        for job in pending:
            if not job.cancelled.is_set():
                job.sink(error)
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)

    def submit_score(self, job: ScoreJob) -> None:
        """Score a text on a thread of its own: CTranslate2 takes concurrent calls, and a
        scoring pass is short beside a wave of writing."""
        if self._stop_event.is_set():
            raise GenerationFailed("The writer is shutting down; please try again soon.")
        threading.Thread(target=self._score, args=(job,), name="inkwell-ct2-score").start()

    def _score(self, job: ScoreJob) -> None:
        tokenizer = self._loaded.tokenizer
        try:
            (result,) = self._loaded.model.score_batch(
                [tokenizer.convert_ids_to_tokens(job.input_ids)], max_input_length=0
            )
            # CTranslate2 scores every token after the first, as the torch engine does.
            logprobs = [float(value) for value in result.log_probs]
        except Exception as exc:
            log.exception("Scoring failed")
            error = GenerationFailed("Something went wrong while scoring; please try again.")
            error.__cause__ = exc
            job.sink(error)
            return
        job.sink(logprobs)

    def _rows_running(self) -> int:
        return self._running

    def _ahead_of_newest(self) -> int:
        # A free replica takes the whole waiting line as its next wave.
        return len(self._waiting) - 1 if self._idle == 0 else 0

    # --- dispatcher threads ----------------------------------------------------------------

    def _run(self) -> None:
        while True:
            wave = self._next_wave()
            if wave is None:
                return
            try:
                self._write(wave)
            except Exception as exc:  # one bad wave must not kill the dispatcher
                log.exception("Generation wave of %d rows failed", len(wave))
                error = GenerationFailed("Something went wrong while writing; please try again.")
                error.__cause__ = exc
                for row in wave:
                    if row.finish is None:
                        row.job.sink(error)
            finally:
                with self._condition:
                    self._running -= len(wave)
                    self._idle += 1
                    self._condition.notify_all()

    def _next_wave(self) -> list[_Row] | None:
        with self._condition:
            while True:
                while not self._stopping and not self._waiting:
                    self._condition.wait()
                # Requests sent at once arrive one by one: wait a moment so they split evenly.
                deadline = time.monotonic() + GATHER_SECONDS
                while not self._stopping and (left := deadline - time.monotonic()) > 0:
                    self._condition.wait(left)
                if self._stopping:
                    return None
                if self._waiting:  # else they were all cancelled while we waited
                    break
            key = _wave_key(self._waiting[0])
            size = min(self._max_batch, math.ceil(len(self._waiting) / max(1, self._idle)))
            taken = [job for job in self._waiting if _wave_key(job) == key][:size]
            for job in taken:
                self._waiting.remove(job)
            rows = [_Row(job) for job in taken if not job.cancelled.is_set()]
            self._idle -= 1
            self._running += len(rows)
            for position, job in enumerate(self._waiting, start=1):
                job.sink(GenerationUpdate(queue_position=position))
            return rows

    def _write(self, wave: list[_Row]) -> None:
        if not wave:
            return
        loaded = self._loaded
        greedy, temperature, top_k, top_p, penalty, ignore_eos = _wave_key(wave[0].job)
        longest = max(row.job.sampling.max_new_tokens for row in wave)
        # CTranslate2 drops the callback on its own thread; if that held the last reference to
        # the generator, the generator would join its own thread and abort the process. So the
        # callback sees only the rows and what it needs to decode, never the model.
        writer = _RowWriter(
            tokenizer=loaded.tokenizer,
            eos_ids=loaded.eos_ids,
            context_window=loaded.context_window,
            model_name=loaded.name,
            ignore_eos=ignore_eos,
            stopping=self._stop_event,
        )
        loaded.model.generate_batch(
            [loaded.tokenizer.convert_ids_to_tokens(row.job.input_ids) for row in wave],
            max_length=longest,
            min_length=longest if ignore_eos else 0,
            sampling_topk=1 if greedy else top_k,
            sampling_topp=top_p,
            sampling_temperature=temperature,
            repetition_penalty=penalty,
            end_token=sorted(loaded.eos_ids),
            include_prompt_in_result=False,
            callback=writer.bind(wave),
        )
        for row in wave:
            if row.finish is None:
                done = len(row.generated) >= row.job.sampling.max_new_tokens
                row.finish = FinishReason.LENGTH if done else FinishReason.EOS
                if row.job.cancelled.is_set():
                    row.finish = FinishReason.CANCELLED
                writer.finish(row)


@dataclass
class _RowWriter:
    """Turns the tokens of one wave into text updates, stop decisions and results."""

    tokenizer: Any
    eos_ids: frozenset[int]
    context_window: int
    model_name: str
    ignore_eos: bool
    stopping: threading.Event

    def bind(self, wave: list[_Row]) -> Callable[[Any], bool]:
        """The per-token callback for ``wave``: returns True to end that row."""

        def on_token(step: Any) -> bool:
            row = wave[step.batch_id]
            if row.finish is not None:
                return True
            # A row's own work (its stop rule) may raise or overrun: that row alone ends with
            # the error; its finish is CANCELLED so that no result follows the error.
            try:
                row.finish = self.accept(row, int(step.token_id))
                failure = None if row.finish is not None else overran(row.job, row.started_at)
            except Exception as exc:
                log.exception("Row failed while taking its token; the wave goes on")
                failure = row_failed(exc)
            if failure is not None:
                row.finish = FinishReason.CANCELLED
                row.job.sink(failure)
                return True
            if row.finish is not None:
                self.finish(row)
                return True
            return self.stopping.is_set()

        return on_token

    def accept(self, row: _Row, token: int) -> FinishReason | None:
        """Take one token for ``row``; return why the row ends, or None to go on."""
        job = row.job
        if job.cancelled.is_set():
            return FinishReason.CANCELLED
        if token in self.eos_ids and not self.ignore_eos:
            return FinishReason.EOS
        row.generated.append(token)
        text = self.tokenizer.decode(row.generated, skip_special_tokens=True)
        text = text.rstrip("\ufffd")  # a character split across tokens is not complete yet
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
        if len(job.input_ids) + len(row.generated) + 1 >= self.context_window:
            return FinishReason.LENGTH
        return None

    def finish(self, row: _Row) -> None:
        """Send ``row``'s result (a cancelled row's user is gone: nothing to send)."""
        reason = row.finish
        if reason is None or reason is FinishReason.CANCELLED:
            return
        result = GenerationResult(
            text=row.text,
            finish_reason=reason,
            sampling=row.job.sampling,
            model=self.model_name,
            prompt_tokens=len(row.job.input_ids),
            new_tokens=len(row.generated),
            seconds=time.perf_counter() - row.job.submitted_at,
        )
        row.job.sink(GenerationUpdate(text=row.text, result=result))


def default_replicas(threads: int) -> int:
    """One single-thread replica per core unless ``threads`` (model.threads) says otherwise."""
    return threads if threads > 0 else max(1, os.cpu_count() or 1)
