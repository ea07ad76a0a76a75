"""Generation on a model server that speaks the OpenAI API (vLLM, TGI, llama.cpp's server,
Ollama, or ``python -m bot serve``), behind the same interface as the local
``GenerationService``: ``stream``, ``generate``, ``score``, ``info``, ``health``.

One ``AsyncOpenAI`` client serves every request (one connection pool). Each request holds one
of ``generation.max_batch_size`` slots while it is in flight, gets a total deadline
(``model.request_timeout``) beside the client's per-phase timeouts, and is retried with backoff
only for errors a retry can mend, and only until its first text arrives. Leaving a stream
early closes the HTTP response, which aborts the generation on vLLM and on ``bot serve``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import openai

from bot.config import GenerationSettings, ModelSettings
from bot.errors import GenerationFailed, InvalidRequest, ModelUnavailable, PromptTooLong
from bot.generation.remote.candidates import best_candidate
from bot.generation.remote.failures import backoff_seconds, retryable, user_error
from bot.generation.remote.scoring import score_remotely
from bot.generation.remote.slots import RequestSlots
from bot.generation.remote.streaming import CandidateStreams, next_chunk
from bot.generation.remote.wire import RemoteCall, api_root, call_arguments, estimated_tokens
from bot.generation.types import (
    GenerationRequest,
    GenerationResult,
    GenerationUpdate,
    ModelInfo,
    ProgressCallback,
    TextScore,
)
from bot.generation.validation import resolve_sampling

log = logging.getLogger(__name__)

# Local servers (vLLM without --api-key, Ollama, bot serve) want no key, but the client
# refuses to start without one; vLLM's documentation uses this placeholder.
NO_KEY = "EMPTY"


class RemoteGenerationService:
    """Writes through a model server; see the module doc."""

    def __init__(
        self,
        model_settings: ModelSettings,
        settings: GenerationSettings,
        *,
        api_key: str | None = None,
    ) -> None:
        self._model_settings = model_settings
        self._settings = settings
        self._api_key = api_key
        try:
            self._base_url = api_root(model_settings.base_url)
        except ValueError as error:
            raise ModelUnavailable(str(error)) from None
        self._slots = RequestSlots(settings.max_batch_size, settings.max_queue)
        self._client: openai.AsyncOpenAI | None = None
        self._info: ModelInfo | None = None
        self._server_takes_n = True

    @property
    def base_url(self) -> str:
        """The API root requests go to (``/v1`` added where it was missing)."""
        return self._base_url

    async def start(self, progress: ProgressCallback | None = None) -> None:
        """Build the client and ask the server which model it serves (retried like a
        request); raises ``ModelUnavailable`` when it cannot say."""
        settings = self._model_settings
        self._client = openai.AsyncOpenAI(
            base_url=self._base_url,
            api_key=self._api_key or NO_KEY,
            timeout=openai.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            max_retries=0,  # retried here, where the deadline and the first text are known
        )
        if progress is not None:
            progress(f"asking {self._base_url} for its model", None)
        try:
            self._info = await self._discover(self._client)
        except BaseException:
            await self.close()
            raise
        if progress is not None:
            progress(f"writing with {self._info.name} at {self._base_url}", 1.0)
        log.info("Model server %s serves %s", self._base_url, self._info.name)

    async def _discover(self, client: openai.AsyncOpenAI) -> ModelInfo:
        deadline = asyncio.get_running_loop().time() + self._model_settings.request_timeout
        wanted = self._model_settings.remote_model
        try:
            page = await self._retrying(lambda: client.models.list(), deadline)
        except Exception as error:
            reason = user_error(error, base_url=self._base_url, model=wanted).user_message
            raise ModelUnavailable(
                f"The model server at {self._base_url} did not say which models it serves "
                f"({reason})"
            ) from None
        models = list(page.data)
        chosen = next((m for m in models if m.id == wanted), None) if wanted else None
        if chosen is None and not wanted and models:
            chosen = models[0]
        if chosen is None:
            served = ", ".join(m.id for m in models) or "none"
            raise ModelUnavailable(
                f"The model server at {self._base_url} does not serve {wanted or 'any model'!r}"
                f" (it serves: {served}). Check model.remote_model."
            )
        extra: dict[str, Any] = chosen.model_extra or {}
        style = self._model_settings.remote_prompts
        if style == "auto":
            told = extra.get("inkwell", {})
            chat = bool(told.get("chat", True)) if isinstance(told, dict) else True
        else:
            chat = style == "chat"
        window = extra.get("max_model_len")
        return ModelInfo(
            name=chosen.id,
            chat=chat,
            context_window=window if isinstance(window, int) and window > 0 else 0,
            dtype="remote",
        )

    async def close(self) -> None:
        """Close the client's connections; requests still running fail."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    @property
    def info(self) -> ModelInfo:
        """The served model's name and prompting style (``context_window`` 0 = unknown)."""
        if self._info is None:
            raise GenerationFailed("The model server is not connected yet; please try again.")
        return self._info

    def health(self) -> dict[str, Any]:
        """Liveness and load of this bot's side of the connection."""
        if self._client is None or self._info is None:
            return {"ready": False, "backend": "openai", "base_url": self._base_url}
        running, waiting = self._slots.load
        return {
            "ready": True,
            "backend": "openai",
            "base_url": self._base_url,
            "model": self._info.name,
            "running": running,
            "waiting": waiting,
            "max_batch_size": self._settings.max_batch_size,
        }

    def prepare(self, request: GenerationRequest) -> RemoteCall:
        """Validate and clamp ``request`` and build its arguments (raises ``InvalidRequest``)."""
        if request.adapter is not None:
            # A server names its adapters itself (vLLM's --lora-modules); a guild's voice
            # would need the same adapter registered there under the same name.
            raise ModelUnavailable(
                "Voices (LoRA adapters) are served by the local engine only; this bot writes "
                "through a model server."
            )
        info = self.info
        if (request.prompt is None) == (request.messages is None):
            raise InvalidRequest("A generation needs exactly one of a prompt or chat messages.")
        prompt, messages = request.prompt, request.messages
        if messages is not None and not info.chat:
            # A base model has no chat format: continue the user's words as plain text.
            prompt = "\n\n".join(m.content for m in messages if m.role != "system")
            messages = None
        tokens = estimated_tokens(prompt, messages)
        if tokens > self._settings.max_prompt_tokens:
            raise PromptTooLong(
                f"That prompt is about {tokens} tokens long; the limit is "
                f"{self._settings.max_prompt_tokens}. Please shorten it and try again.",
                tokens=tokens,
                limit=self._settings.max_prompt_tokens,
            )
        room = (
            info.context_window - tokens - 1
            if info.context_window
            else self._settings.max_new_tokens_cap
        )
        sampling = resolve_sampling(request.sampling, self._settings, room_for_tokens=room)
        wanted = self._model_settings.best_of if request.constraint is not None else 1
        candidates = wanted if self._server_takes_n else 1
        kwargs = call_arguments(
            model=info.name,
            prompt=prompt,
            messages=messages,
            sampling=sampling,
            candidates=candidates,
            extra_sampling=self._model_settings.extra_sampling,
        )
        return RemoteCall(
            chat=messages is not None,
            kwargs=kwargs,
            sampling=sampling,
            prompt_tokens=tokens,
            candidates=candidates,
        )

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationUpdate]:
        """Yield the queue position (when waiting for a slot), the growing text, then a final
        update with ``result``. Leaving the loop early closes the server's stream."""
        client = self._require_client()
        call = self.prepare(request)
        ticket = self._slots.take()
        try:
            if ticket.ahead:
                yield GenerationUpdate(queue_position=ticket.ahead)
            await ticket.wait()
            async for update in self._write(client, call, request):
                yield update
        finally:
            ticket.release()

    async def _write(
        self, client: openai.AsyncOpenAI, call: RemoteCall, request: GenerationRequest
    ) -> AsyncIterator[GenerationUpdate]:
        started = time.perf_counter()
        # Not ``async with asyncio.timeout`` around the loop: it would cancel whatever the
        # consumer is doing between two updates. Each await of ours gets the deadline instead.
        deadline = asyncio.get_running_loop().time() + self._model_settings.request_timeout
        stream, candidates = await self._open(client, call, request, deadline)
        try:
            shown = ""
            while not candidates.all_finished:
                try:
                    chunk = await self._guarded(next_chunk(stream), deadline)
                except openai.APIError as error:  # a stall, a dropped connection, an error event
                    raise self._user_error(error) from error
                if chunk is None:
                    break
                candidates.take(chunk)
                if candidates.shown_text != shown:
                    shown = candidates.shown_text
                    yield GenerationUpdate(text=shown)
        finally:
            await stream.close()  # stops the generation on the server when we leave early
        chosen = best_candidate(request.constraint, candidates.texts)
        text = candidates.texts[chosen]
        yield GenerationUpdate(
            text=text,
            result=GenerationResult(
                text=text,
                finish_reason=candidates.finish_reason(chosen),
                sampling=call.sampling,
                model=self.info.name,
                prompt_tokens=candidates.prompt_tokens or call.prompt_tokens,
                new_tokens=candidates.new_tokens(chosen),
                seconds=time.perf_counter() - started,
            ),
        )

    async def _open(
        self,
        client: openai.AsyncOpenAI,
        call: RemoteCall,
        request: GenerationRequest,
        deadline: float,
    ) -> tuple[Any, CandidateStreams]:
        """Send the request and read up to its first text, retrying where that can help."""
        attempt = 0
        while True:
            candidates = CandidateStreams(call.candidates, chat=call.chat, stop=request.stop)
            stream: Any = None
            try:
                stream = await self._guarded(self._create(client, call), deadline)
                while not (candidates.started or candidates.all_finished):
                    chunk = await self._guarded(next_chunk(stream), deadline)
                    if chunk is None:
                        break
                    candidates.take(chunk)
                return stream, candidates
            except BaseException as error:
                if stream is not None:
                    await stream.close()  # cancelled too: the server stops writing
                if not isinstance(error, Exception):
                    raise
                if isinstance(error, openai.BadRequestError) and call.candidates > 1:
                    # Some servers refuse n > 1: write one candidate, here and from now on.
                    log.info(
                        "Model server %s refused n=%d; asking for one candidate from now",
                        self._base_url,
                        call.candidates,
                    )
                    self._server_takes_n = False
                    call = self.prepare(request)
                    continue
                delay = backoff_seconds(error, attempt)
                if not retryable(error) or attempt >= self._model_settings.max_retries:
                    raise self._user_error(error) from error
                if asyncio.get_running_loop().time() + delay >= deadline:
                    raise self._user_error(error) from error
                attempt += 1
                log.info(
                    "Model server %s: %s; retry %d in %.1f s",
                    self._base_url,
                    type(error).__name__,
                    attempt,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _create(self, client: openai.AsyncOpenAI, call: RemoteCall) -> Any:
        if call.chat:
            return await client.chat.completions.create(**call.kwargs)
        return await client.completions.create(**call.kwargs)

    async def _retrying(self, send: Any, deadline: float) -> Any:
        """``await send()`` under the deadline, retried like a request's opening."""
        attempt = 0
        while True:
            try:
                return await self._guarded(send(), deadline)
            except Exception as error:
                delay = backoff_seconds(error, attempt)
                late = asyncio.get_running_loop().time() + delay >= deadline
                if not retryable(error) or attempt >= self._model_settings.max_retries or late:
                    raise
                attempt += 1
                await asyncio.sleep(delay)

    async def _guarded(self, pending: Any, deadline: float) -> Any:
        try:
            async with asyncio.timeout_at(deadline):
                return await pending
        except TimeoutError:
            raise GenerationFailed(
                f"The model server took longer than {self._model_settings.request_timeout:g} s"
                " for that piece; please try again."
            ) from None

    def _user_error(self, error: BaseException) -> Exception:
        if isinstance(error, GenerationFailed | InvalidRequest):
            return error
        return user_error(error, base_url=self._base_url, model=self.info.name)

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        """Generate the whole text at once."""
        async for update in self.stream(request):
            if update.result is not None:
                return update.result
        raise GenerationFailed("The generation ended without a result; please try again.")

    async def score(self, text: str) -> TextScore:
        """How predictable the served model finds ``text``, from the log-probabilities the
        server reports for an echoed prompt; ``InvalidRequest`` where it reports none."""
        client = self._require_client()
        deadline = asyncio.get_running_loop().time() + self._model_settings.request_timeout
        ticket = self._slots.take()
        try:
            await ticket.wait()
            return await self._guarded(score_remotely(client, self.info.name, text), deadline)
        except openai.APIError as error:
            raise self._user_error(error) from error
        finally:
            ticket.release()

    def _require_client(self) -> openai.AsyncOpenAI:
        if self._client is None or self._info is None:
            raise GenerationFailed("The model server is not connected yet; please try again.")
        return self._client
