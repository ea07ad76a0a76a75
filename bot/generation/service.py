"""The one interface to text generation: ``await generate(request)`` and
``async for update in stream(request)``.

Requests are validated, clamped and tokenized on the caller's side, then handed to the engine's
worker thread; updates come back through ``loop.call_soon_threadsafe`` so the event loop never
waits on the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from bot.config import GenerationSettings, ModelSettings, VoiceSettings
from bot.errors import GenerationFailed, InvalidRequest, ModelUnavailable, PromptTooLong
from bot.generation.adapter_store import AdapterStore
from bot.generation.jobs import Job, ScoreJob
from bot.generation.loading import LoadedModel
from bot.generation.types import (
    GenerationRequest,
    GenerationResult,
    GenerationUpdate,
    ModelInfo,
    ProgressCallback,
    ScoredToken,
    TextScore,
)
from bot.generation.validation import resolve_sampling

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_SCORE_TOKENS = 256  # a forward pass over this many tokens is a fraction of a second


class Engine(Protocol):
    """What the service needs from an engine (``BatchingEngine``, ``CTranslate2Engine``)."""

    def start(self) -> None: ...
    def stop(self, timeout: float = 10.0) -> None: ...
    @property
    def load(self) -> tuple[int, int]: ...
    def submit(self, job: Job) -> int: ...
    def submit_score(self, job: ScoreJob) -> None: ...
    def cancel(self, job: Job) -> None: ...


class GenerationService:
    """Loads the configured model once and serves many concurrent requests."""

    def __init__(
        self,
        model_settings: ModelSettings,
        settings: GenerationSettings,
        voice: VoiceSettings | None = None,
    ) -> None:
        self._model_settings = model_settings
        self._settings = settings
        self._voice = voice or VoiceSettings()
        self.adapters = AdapterStore(Path(self._voice.adapters_dir))
        self._loaded: LoadedModel | None = None
        self._engine: Engine | None = None

    async def start(self, progress: ProgressCallback | None = None) -> None:
        """Load the model in a thread (seconds) and start the worker."""
        self._loaded = await in_passing_thread(self._load, progress)
        self._engine = await in_passing_thread(self._build_engine, self._loaded)
        self._engine.start()

    def _load(self, progress: ProgressCallback | None) -> LoadedModel:
        # Imported here so that the CTranslate2 engine never loads torch (~230 MB).
        settings = self._model_settings
        if settings.engine == "ctranslate2":
            from bot.generation.ct2_engine import default_replicas
            from bot.generation.ct2_loading import load_ct2_model

            return load_ct2_model(
                settings.name,
                cache_dir=settings.resolved_cache_dir(),
                replicas=default_replicas(settings.threads),
                progress=progress,
            )
        from bot.generation.loading import load_model

        fast = settings.engine == "fast"
        return load_model(
            settings.name,
            cache_dir=settings.resolved_cache_dir(),
            dtype="float32" if fast else settings.dtype,
            progress=progress,
            onednn=not fast,
        )

    def _build_engine(self, loaded: LoadedModel) -> Engine:
        """Warm the model up (the first user should not pay for lazy initialisation) and
        build the engine around it."""
        settings = self._settings
        threads = self._model_settings.threads
        if self._model_settings.engine == "ctranslate2":
            from bot.generation.ct2_engine import CTranslate2Engine, default_replicas

            start = [[loaded.tokenizer.convert_ids_to_tokens(loaded.pad_id)]]
            loaded.model.generate_batch(start, max_length=1)
            return CTranslate2Engine(
                loaded,
                max_batch_size=settings.max_batch_size,
                max_waiting=settings.max_queue,
                replicas=default_replicas(threads),
            )
        from bot.generation.engine import BatchingEngine
        from bot.generation.torch_setup import torch

        if self._model_settings.engine == "fast":
            from bot.generation.fast.setup import fast_batch

            batch = fast_batch(
                loaded,
                self._model_settings.dtype,
                settings,
                loaded_adapters=self._voice.loaded_adapters,
            )
        else:
            from bot.generation.hf_batch import TransformersBatch

            batch = TransformersBatch(loaded, loaded_adapters=self._voice.loaded_adapters)
        if threads > 0:
            torch.set_num_threads(threads)
        with torch.inference_mode():
            batch.warm_up()
        return BatchingEngine(
            loaded,
            batch,
            max_batch_size=settings.max_batch_size,
            max_waiting=settings.max_queue,
            threads=threads,
        )

    async def close(self) -> None:
        """Stop the worker; pending requests fail with a clear message."""
        if self._engine is not None:
            await asyncio.to_thread(self._engine.stop)
            self._engine = None

    @property
    def info(self) -> ModelInfo:
        """The loaded model's name and prompting style."""
        loaded = self._require_loaded()
        return ModelInfo(
            name=loaded.name,
            chat=loaded.chat,
            context_window=loaded.context_window,
            dtype=loaded.dtype,
        )

    def health(self) -> dict[str, Any]:
        """Liveness and load, for status commands and monitoring."""
        if self._engine is None or self._loaded is None:
            return {"ready": False}
        running, waiting = self._engine.load
        return {
            "ready": True,
            "model": self._loaded.name,
            "running": running,
            "waiting": waiting,
            "max_batch_size": self._settings.max_batch_size,
        }

    def prepare(self, request: GenerationRequest) -> Job:
        """Validate, clamp and tokenize ``request`` (raises ``InvalidRequest``)."""
        adapter = self._adapter_folder(request.adapter)
        loaded = self._require_loaded()
        input_ids = self._tokenize(loaded, request)
        if len(input_ids) > self._settings.max_prompt_tokens:
            raise PromptTooLong(
                f"That prompt is {len(input_ids)} tokens long; the limit is "
                f"{self._settings.max_prompt_tokens}. Please shorten it and try again.",
                tokens=len(input_ids),
                limit=self._settings.max_prompt_tokens,
            )
        room = loaded.context_window - len(input_ids) - 1
        sampling = resolve_sampling(request.sampling, self._settings, room_for_tokens=room)
        return Job(
            input_ids=input_ids,
            sampling=sampling,
            stop=request.stop,
            sink=_unbound_sink,
            constraint=request.constraint,
            timeout_seconds=self._settings.timeout_seconds,
            adapter=adapter,
        )

    def _adapter_folder(self, adapter: str | None) -> str | None:
        """The folder of the requested voice (checked here, on the caller's side; it is read
        on the worker the first time a row uses it)."""
        if adapter is None:
            return None
        if self._model_settings.engine == "ctranslate2":
            raise ModelUnavailable(
                "Voices (LoRA adapters) need the fast or torch engine; this bot runs "
                'CTranslate2. Its owner can set model.engine = "fast" to use them.'
            )
        return str(self.adapters.resolve(adapter))

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationUpdate]:
        """Yield queue positions, then the growing text, then a final update with ``result``.

        Updates that pile up while the consumer is busy are merged (each carries the whole text
        so far). Leaving the loop early cancels the generation.
        """
        engine = self._require_engine()
        job = self.prepare(request)
        loop = asyncio.get_running_loop()
        updates: asyncio.Queue[GenerationUpdate | BaseException] = asyncio.Queue()

        def sink(item: GenerationUpdate | BaseException) -> None:
            try:
                loop.call_soon_threadsafe(updates.put_nowait, item)
            except RuntimeError:  # the loop is gone; nobody is listening any more
                job.cancelled.set()

        job.sink = sink
        ahead = engine.submit(job)
        finished = False
        try:
            if ahead:
                yield GenerationUpdate(queue_position=ahead)
            while True:
                item = await updates.get()
                while (
                    not updates.empty()
                    and isinstance(item, GenerationUpdate)
                    and item.result is None
                ):
                    item = updates.get_nowait()
                if isinstance(item, BaseException):
                    finished = True
                    raise item
                if item.result is not None:
                    finished = True
                yield item
                if finished:
                    return
        finally:
            if not finished:
                engine.cancel(job)

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        """Generate the whole text at once."""
        async for update in self.stream(request):
            if update.result is not None:
                return update.result
        raise GenerationFailed("The generation ended without a result; please try again.")

    async def score(self, text: str) -> TextScore:
        """How predictable the model finds ``text``: the log-probability of each token, from
        one forward pass on the worker thread (batched with other texts being scored, between
        two steps of the writing batch). Raises ``InvalidRequest`` for an empty or long text."""
        engine = self._require_engine()
        loaded = self._require_loaded()
        ids = [int(i) for i in loaded.tokenizer(text, add_special_tokens=False)["input_ids"]]
        if not ids:
            raise InvalidRequest("There is nothing to score: the text is empty.")
        if len(ids) > MAX_SCORE_TOKENS:
            raise InvalidRequest(
                f"That text is {len(ids)} tokens long; I can score up to {MAX_SCORE_TOKENS}. "
                "Please shorten it and try again."
            )
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[list[float]] = loop.create_future()

        def deliver(item: list[float] | BaseException) -> None:
            if outcome.done():
                return
            if isinstance(item, BaseException):
                outcome.set_exception(item)
            else:
                outcome.set_result(item)

        def sink(item: list[float] | BaseException) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening
                loop.call_soon_threadsafe(deliver, item)

        # The start-of-document token gives the text's first token a context to be scored in.
        job = ScoreJob(input_ids=[loaded.pad_id, *ids], sink=sink)
        started = time.perf_counter()
        engine.submit_score(job)
        try:
            logprobs = await outcome
        except asyncio.CancelledError:
            job.cancelled.set()
            raise
        texts = [loaded.tokenizer.decode([token]) for token in ids]
        return TextScore(
            model=loaded.name,
            tokens=tuple(
                ScoredToken(text, logprob) for text, logprob in zip(texts, logprobs, strict=True)
            ),
            seconds=time.perf_counter() - started,
        )

    def _tokenize(self, loaded: LoadedModel, request: GenerationRequest) -> list[int]:
        tokenizer = loaded.tokenizer
        if (request.prompt is None) == (request.messages is None):
            raise InvalidRequest("A generation needs exactly one of a prompt or chat messages.")
        if request.messages is not None:
            conversation = [{"role": m.role, "content": m.content} for m in request.messages]
            if loaded.chat:
                ids = tokenizer.apply_chat_template(
                    conversation,
                    add_generation_prompt=True,
                    tokenize=True,
                    return_dict=False,
                    sanitize_control_tokens=True,
                )
                return [int(i) for i in ids]
            # A base model has no chat format: continue the user's words as plain text.
            text = "\n\n".join(m.content for m in request.messages if m.role != "system")
        else:
            text = request.prompt or ""
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        # An empty prompt still needs a token to start from; GPT-2 was trained to start
        # documents after its end-of-text token.
        return list(ids) or [loaded.pad_id]

    def _require_loaded(self) -> LoadedModel:
        if self._loaded is None:
            raise GenerationFailed("The model is still loading; please try again in a moment.")
        return self._loaded

    def _require_engine(self) -> Engine:
        if self._engine is None:
            raise GenerationFailed("The writer is not running; please try again in a moment.")
        return self._engine


async def in_passing_thread(function: Callable[..., T], *args: Any) -> T:
    """Run ``function`` on a thread that ends with it.

    Each thread that runs torch work keeps its own OpenMP team for as long as it lives, and
    once a process holds more OpenMP threads than cores, libgomp stops spinning between
    parallel regions; the worker's decoding products then took twice as long. So loading and
    warming up run on threads that exit, unlike ``asyncio.to_thread``'s pool, and the engine's
    worker is left as the one thread with a team.
    """
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[T] = loop.create_future()

    def settle(value: T | None, error: BaseException | None) -> None:
        if outcome.done():
            return
        if isinstance(error, StopIteration):  # a future cannot hold one
            outcome.set_exception(RuntimeError(repr(error)))
        elif error is not None:
            outcome.set_exception(error)
        else:
            outcome.set_result(value)  # type: ignore[arg-type]

    def run() -> None:
        try:
            value = function(*args)
        except BaseException as exc:  # handed to the awaiting task
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, None, exc)
            return
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting
            loop.call_soon_threadsafe(settle, value, None)

    threading.Thread(target=run, name="inkwell-model-setup", daemon=True).start()
    return await outcome


def _unbound_sink(item: GenerationUpdate | BaseException) -> None:
    raise AssertionError("a prepared job was submitted without a sink")
