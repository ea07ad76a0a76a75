"""``python -m bot serve``: Inkwell's own engine behind an OpenAI-compatible HTTP API.

``/v1/completions`` and ``/v1/chat/completions`` (streamed as server-sent events, or whole),
``/v1/models`` and ``/health``. Every HTTP request goes through one ``GenerationService``, so
requests from several bot processes share its batches. A client that disconnects cancels its
generation (aiohttp's ``handler_cancellation``), freeing the slot at the engine's next step.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from bot.errors import InkwellError, InvalidRequest, ServiceBusy
from bot.generation.backends import GenerationBackend
from bot.generation.remote import openai_api as api
from bot.generation.types import GenerationResult, GenerationUpdate

log = logging.getLogger(__name__)

SERVICE = web.AppKey("service", GenerationBackend)
API_KEY = web.AppKey("api_key", str)
STARTED = web.AppKey("started", int)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_app(service: GenerationBackend, *, api_key: str | None = None) -> web.Application:
    """The HTTP application around a started ``service``; ``api_key`` None = no check."""
    app = web.Application(middlewares=[_errors_as_json, _check_key])
    app[SERVICE] = service
    app[API_KEY] = api_key or ""
    app[STARTED] = int(time.time())
    app.router.add_get("/health", _health)
    app.router.add_get("/v1/models", _models)
    app.router.add_post("/v1/completions", _completions)
    app.router.add_post("/v1/chat/completions", _chat_completions)
    return app


async def serve(
    service: GenerationBackend,
    host: str,
    port: int,
    *,
    api_key: str | None = None,
    ready: Callable[[str], None] = print,
) -> None:
    """Serve until SIGTERM or SIGINT; ``ready`` is told the API root once it listens (with
    the real port, for ``--port 0``)."""
    runner = web.AppRunner(build_app(service, api_key=api_key), handler_cancellation=True)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0]
        ready(f"http://{host}:{bound[1]}/v1")
        await stop.wait()
        log.info("Stop signal received: closing the server")
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await runner.cleanup()


# --- middleware ---------------------------------------------------------------------------


def _error(status: int, message: str, kind: str, code: str | None = None) -> web.Response:
    headers = {"Retry-After": "1"} if status in (429, 503) else None
    return web.json_response(
        api.error_body(message, kind=kind, code=code), status=status, headers=headers
    )


@web.middleware
async def _errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except InvalidRequest as error:
        return _error(400, error.user_message, "invalid_request_error")
    except LookupError as error:
        return _error(404, str(error), "invalid_request_error", "model_not_found")
    except ServiceBusy as error:
        return _error(503, error.user_message, "server_error", "server_busy")
    except InkwellError as error:
        return _error(500, error.user_message, "server_error")
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return _error(error.status, error.reason, "invalid_request_error")
    except ConnectionResetError:
        raise  # the client went away: nobody to answer
    except Exception:
        log.exception("Unexpected error serving %s %s", request.method, request.path)
        return _error(500, "The server failed unexpectedly; see its log.", "server_error")


@web.middleware
async def _check_key(request: web.Request, handler: Handler) -> web.StreamResponse:
    expected = request.app[API_KEY]
    if expected and request.path != "/health":
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return _error(
                401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
            )
    return await handler(request)


# --- routes -------------------------------------------------------------------------------


async def _health(request: web.Request) -> web.Response:
    health = request.app[SERVICE].health()
    return web.json_response(health, status=200 if health.get("ready") else 503)


async def _models(request: web.Request) -> web.Response:
    info = request.app[SERVICE].info
    model = {
        "id": info.name,
        "object": "model",
        "created": request.app[STARTED],
        "owned_by": "inkwell",
        "max_model_len": info.context_window,  # vLLM's name for it
        "inkwell": {"chat": info.chat},  # how Inkwell should prompt it
    }
    return web.json_response({"object": "list", "data": [model]})


async def _completions(request: web.Request) -> web.StreamResponse:
    return await _answer(request, chat=False)


async def _chat_completions(request: web.Request) -> web.StreamResponse:
    return await _answer(request, chat=True)


async def _answer(request: web.Request, *, chat: bool) -> web.StreamResponse:
    service = request.app[SERVICE]
    try:
        body = await request.json()
    except ValueError:
        raise InvalidRequest("The request body is not valid JSON.") from None
    model = service.info.name
    call = api.parse_call(body, chat=chat, served=model)
    call_id = api.new_id(chat)
    if call.score_prompt is not None:
        score = await service.score(call.score_prompt)
        return web.json_response(api.scored(call_id, call.score_prompt, score))
    if not call.stream:
        # A task group cancels every candidate when the client goes (the handler is
        # cancelled) and when one candidate fails, so none writes on for nobody.
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(service.generate(r)) for r in call.requests]
        except ExceptionGroup as failed:  # the first failure answers, as one request would
            raise failed.exceptions[0] from None
        results = [task.result() for task in tasks]
        return web.json_response(api.completion(call_id, model, chat=chat, results=results))
    return await _stream(request, service, call, call_id, model)


async def _stream(
    request: web.Request,
    service: GenerationBackend,
    call: api.ApiCall,
    call_id: str,
    model: str,
) -> web.StreamResponse:
    updates = _merged([service.stream(r) for r in call.requests])
    try:
        # The first update before the headers: a full queue or a bad prompt still gets its
        # own status code, not an error inside a 200 stream.
        first = await anext(updates)
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        # A stop string may be arriving: hold back as many characters as could begin one,
        # since text once sent cannot be taken back.
        holdback = max((len(s) for s in call.stop_strings), default=1) - 1
        sent = [""] * len(call.requests)
        results: list[GenerationResult | None] = [None] * len(call.requests)

        async def send(payload: dict[str, Any]) -> None:
            await response.write(b"data: " + json.dumps(payload).encode() + b"\n\n")

        try:
            pending: AsyncIterator[tuple[int, GenerationUpdate]] = _prepend(first, updates)
            async for index, update in pending:
                if update.queue_position is not None:
                    continue
                result = update.result
                text = update.text if result is not None else _settled(update.text, holdback)
                new = text[len(sent[index]) :] if text.startswith(sent[index]) else ""
                if not new and result is None:
                    continue
                sent[index] += new
                finish = result.finish_reason if result is not None else None
                await send(
                    api.chunk(call_id, model, chat=call.chat, index=index, text=new, finish=finish)
                )
                results[index] = result
            if call.include_usage:
                done = [r for r in results if r is not None]
                usage = api.usage(done)
                await send(api.usage_chunk(call_id, model, chat=call.chat, usage=usage))
        except InkwellError as error:  # the headers are gone: report it in the stream
            await send(api.error_body(error.user_message, kind="server_error"))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
    finally:
        await updates.aclose()


def _settled(text: str, holdback: int) -> str:
    return text[: len(text) - holdback] if holdback else text


async def _prepend(
    first: tuple[int, GenerationUpdate], rest: AsyncIterator[tuple[int, GenerationUpdate]]
) -> AsyncIterator[tuple[int, GenerationUpdate]]:
    yield first
    async for item in rest:
        yield item


async def _merged(
    streams: Sequence[AsyncIterator[GenerationUpdate]],
) -> AsyncIterator[tuple[int, GenerationUpdate]]:
    """The updates of several candidates as they come, each with its index. An error in one
    ends them all; leaving early cancels every one (each stream's ``finally`` then cancels
    its job in the engine)."""
    if len(streams) == 1:
        try:
            async for update in streams[0]:
                yield 0, update
        finally:
            await _close(streams[0])
        return
    queue: asyncio.Queue[tuple[int, GenerationUpdate | Exception | None]] = asyncio.Queue()

    async def pump(index: int, stream: AsyncIterator[GenerationUpdate]) -> None:
        try:
            async for update in stream:
                queue.put_nowait((index, update))
            queue.put_nowait((index, None))
        except Exception as error:
            queue.put_nowait((index, error))
        finally:
            await _close(stream)

    tasks = [asyncio.create_task(pump(i, s)) for i, s in enumerate(streams)]
    running = len(tasks)
    try:
        while running:
            index, item = await queue.get()
            if item is None:
                running -= 1
            elif isinstance(item, Exception):
                raise item
            else:
                yield index, item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _close(stream: AsyncIterator[GenerationUpdate]) -> None:
    """Close a generation's stream now (its ``finally`` cancels the job), not whenever the
    garbage collector gets to it."""
    close = getattr(stream, "aclose", None)
    if close is not None:
        await close()
