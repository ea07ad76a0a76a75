"""The OpenAI API's request and response shapes, for ``python -m bot serve``: a request body
in, ``GenerationRequest``s out; results in, response bodies and stream chunks out.

Plain functions without I/O. What the API allows but the engine cannot do (``logprobs`` while
writing, ``tools``) is refused with a 400 that says so, rather than ignored.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import InvalidRequest
from bot.generation.types import (
    ChatMessage,
    FinishReason,
    GenerationRequest,
    GenerationResult,
    SamplingParams,
    TextScore,
)

MAX_CANDIDATES = 8
MAX_STOP_STRINGS = 4  # as OpenAI's API
_FINISH = {FinishReason.EOS: "stop", FinishReason.STOP: "stop", FinishReason.LENGTH: "length"}


@dataclass(frozen=True)
class ApiCall:
    """One parsed ``/v1/completions`` or ``/v1/chat/completions`` request."""

    chat: bool
    requests: tuple[GenerationRequest, ...]  # one per candidate (the API's n)
    stream: bool
    include_usage: bool
    stop_strings: tuple[str, ...]
    score_prompt: str | None  # echo + logprobs: score the prompt instead of writing


class StopStrings:
    """The API's ``stop`` as a stop rule: the text ends before the first stop string."""

    def __init__(self, strings: Sequence[str]) -> None:
        self._strings = tuple(strings)

    def __call__(self, text: str) -> int | None:
        found = [index for s in self._strings if (index := text.find(s)) >= 0]
        return min(found) if found else None


def parse_call(body: object, *, chat: bool, served: str) -> ApiCall:
    """Validate a request body (raises ``InvalidRequest``; ``LookupError`` for another
    model than ``served``)."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    model = body.get("model")
    if model not in (None, "", served):
        raise LookupError(f"The model {model!r} does not exist; this server serves {served!r}.")
    for unsupported in ("tools", "functions", "response_format", "suffix", "best_of"):
        if body.get(unsupported) not in (None, [], {}):
            raise InvalidRequest(f"'{unsupported}' is not supported by this server.")
    prompt, messages = (None, _messages(body)) if chat else (_prompt(body), None)
    stop_strings = _stops(body.get("stop"))
    count = _integer(body, "n", 1)
    if not 1 <= count <= MAX_CANDIDATES:
        raise InvalidRequest(f"'n' must be between 1 and {MAX_CANDIDATES}.")
    max_key = "max_completion_tokens" if chat and "max_completion_tokens" in body else "max_tokens"
    seed = _integer(body, "seed", None)
    sampling = SamplingParams(
        temperature=_number(body, "temperature"),
        top_p=_number(body, "top_p"),
        top_k=_integer(body, "top_k", None),
        max_new_tokens=_integer(body, max_key, None),
        seed=seed,
        repetition_penalty=_number(body, "repetition_penalty"),
    )
    stop = StopStrings(stop_strings) if stop_strings else None
    # Each candidate gets its own seed, so that n candidates differ and the same request
    # brings back the same n.
    requests = tuple(
        GenerationRequest(
            prompt=prompt,
            messages=messages,
            sampling=dataclasses.replace(sampling, seed=None if seed is None else seed + index),
            stop=stop,
        )
        for index in range(count)
    )
    echo = body.get("echo") is True
    logprobs = body.get("logprobs")
    if logprobs not in (None, False) and not (echo and not chat):
        raise InvalidRequest("'logprobs' is supported only with 'echo' (to score a prompt).")
    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    stream = body.get("stream") is True
    scoring = echo and logprobs is not None and prompt is not None
    if echo and not scoring:
        raise InvalidRequest("'echo' is supported only with 'logprobs' (to score a prompt).")
    if scoring and stream:
        raise InvalidRequest("Scoring a prompt ('echo' with 'logprobs') cannot be streamed.")
    return ApiCall(chat, requests, stream, include_usage, stop_strings, prompt if scoring else None)


def _prompt(body: dict[str, Any]) -> str:
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1:
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise InvalidRequest("'prompt' must be a string (one prompt per request).")
    return prompt


def _messages(body: dict[str, Any]) -> tuple[ChatMessage, ...]:
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise InvalidRequest("'messages' must be a non-empty list.")
    messages: list[ChatMessage] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("role"), str):
            raise InvalidRequest("Each message needs a 'role' and a 'content'.")
        content = item.get("content")
        if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
            parts = [p.get("text") for p in content if isinstance(p, dict)]
            if not all(isinstance(p, str) for p in parts):
                raise InvalidRequest("Only text message content is supported.")
            content = "".join(parts)  # type: ignore[arg-type]
        if not isinstance(content, str):
            raise InvalidRequest("Each message needs a 'role' and a 'content'.")
        messages.append(ChatMessage(item["role"], content))
    return tuple(messages)


def _stops(raw: object) -> tuple[str, ...]:
    if raw is None:
        return ()
    strings = [raw] if isinstance(raw, str) else raw
    if not isinstance(strings, list) or not all(isinstance(s, str) and s for s in strings):
        raise InvalidRequest("'stop' must be a string or a list of non-empty strings.")
    if len(strings) > MAX_STOP_STRINGS:
        raise InvalidRequest(f"'stop' takes at most {MAX_STOP_STRINGS} strings.")
    return tuple(strings)


def _number(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequest(f"'{key}' must be a number.")
    return value


def _integer(body: dict[str, Any], key: str, default: int | None) -> Any:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"'{key}' must be an integer.")
    return value


# --- responses ----------------------------------------------------------------------------


def new_id(chat: bool) -> str:
    """A response id in OpenAI's style."""
    return f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex}"


def chunk(
    call_id: str, model: str, *, chat: bool, index: int, text: str, finish: FinishReason | None
) -> dict[str, Any]:
    """One streamed chunk carrying ``text`` (new text only) for candidate ``index``."""
    reason = _FINISH.get(finish) if finish is not None else None
    if chat:
        choice: dict[str, Any] = {
            "index": index,
            "delta": {"role": "assistant", "content": text},
            "finish_reason": reason,
        }
    else:
        choice = {"index": index, "text": text, "logprobs": None, "finish_reason": reason}
    return _envelope(call_id, model, chat=chat, streamed=True, choices=[choice])


def usage_chunk(call_id: str, model: str, *, chat: bool, usage: dict[str, int]) -> dict[str, Any]:
    """The last chunk when the client asked for ``include_usage``."""
    return {**_envelope(call_id, model, chat=chat, streamed=True, choices=[]), "usage": usage}


def usage(results: Sequence[GenerationResult]) -> dict[str, int]:
    """Token counts in the API's shape (the prompt counted once)."""
    prompt = results[0].prompt_tokens if results else 0
    written = sum(r.new_tokens for r in results)
    return {"prompt_tokens": prompt, "completion_tokens": written, "total_tokens": prompt + written}


def completion(
    call_id: str, model: str, *, chat: bool, results: Sequence[GenerationResult]
) -> dict[str, Any]:
    """A whole (non-streamed) response."""
    choices: list[dict[str, Any]] = []
    for index, result in enumerate(results):
        reason = _FINISH.get(result.finish_reason, "stop")
        if chat:
            message = {"role": "assistant", "content": result.text}
            choices.append({"index": index, "message": message, "finish_reason": reason})
        else:
            choices.append(
                {"index": index, "text": result.text, "logprobs": None, "finish_reason": reason}
            )
    body = _envelope(call_id, model, chat=chat, streamed=False, choices=choices)
    return {**body, "usage": usage(results)}


def scored(call_id: str, prompt: str, score: TextScore) -> dict[str, Any]:
    """A scoring response: the prompt echoed, with each token's log-probability."""
    offsets, at = [], 0
    for token in score.tokens:
        offsets.append(at)
        at += len(token.text)
    logprobs = {
        "tokens": [t.text for t in score.tokens],
        "token_logprobs": [t.logprob for t in score.tokens],
        "text_offset": offsets,
        "top_logprobs": None,
    }
    choice = {"index": 0, "text": prompt, "logprobs": logprobs, "finish_reason": "length"}
    body = _envelope(call_id, score.model, chat=False, streamed=False, choices=[choice])
    count = len(score.tokens)
    return {
        **body,
        "usage": {"prompt_tokens": count, "completion_tokens": 0, "total_tokens": count},
    }


def error_body(message: str, *, kind: str, code: str | None = None) -> dict[str, Any]:
    """OpenAI's error shape."""
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _envelope(
    call_id: str, model: str, *, chat: bool, streamed: bool, choices: list[dict[str, Any]]
) -> dict[str, Any]:
    if chat:
        kind = "chat.completion.chunk" if streamed else "chat.completion"
    else:
        kind = "text_completion"
    return {
        "id": call_id,
        "object": kind,
        "created": int(time.time()),
        "model": model,
        "choices": choices,
    }
