"""What goes over the wire to an OpenAI-compatible server: the API root, and a generation
request as the arguments of ``completions.create`` or ``chat.completions.create``.

Plain functions, so that they can be tested without a server.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bot.generation.types import ChatMessage, ResolvedSampling

# Without the server's tokenizer a prompt's length in tokens can only be estimated: English
# averages about four characters a token, so this errs long for ordinary text. The server
# still has the last word (its 400 becomes an ``InvalidRequest``).
CHARS_PER_TOKEN = 4.0


def api_root(base_url: str) -> str:
    """``base_url`` as the OpenAI client wants it: ending in ``/v1``.

    Operators copy a server's address ("http://localhost:11434" for Ollama, ":8000" for
    vLLM) more often than its API root; the client would then ask for ``/completions`` at the
    root and get a 404 that names no cause. A path that already ends in a version (``/v1``,
    ``/api/v2``) is kept as it is.
    """
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"model.base_url must be an http(s) URL, got {base_url!r}")
    path = parts.path.rstrip("/")
    last = path.rsplit("/", 1)[-1]
    if not (last.startswith("v") and last[1:].isdigit()):
        path = f"{path}/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def estimated_tokens(prompt: str | None, messages: tuple[ChatMessage, ...] | None) -> int:
    """About how many tokens the prompt takes (chat templates add a few per message)."""
    if messages is not None:
        chars = sum(len(m.content) + 16 for m in messages)
    else:
        chars = len(prompt or "")
    return max(1, math.ceil(chars / CHARS_PER_TOKEN))


@dataclass(frozen=True)
class RemoteCall:
    """A validated request, ready to send: ``kwargs`` for the client's ``create``."""

    chat: bool
    kwargs: dict[str, Any]
    sampling: ResolvedSampling
    prompt_tokens: int  # estimated; the server's usage report replaces it when it comes
    candidates: int  # the API's n: more than one only for a form to keep


def call_arguments(
    *,
    model: str,
    prompt: str | None,
    messages: tuple[ChatMessage, ...] | None,
    sampling: ResolvedSampling,
    candidates: int,
    extra_sampling: bool,
) -> dict[str, Any]:
    """The ``create(...)`` arguments for one streamed request."""
    kwargs: dict[str, Any] = {
        "model": model,
        "stream": True,
        # The last chunk then carries the token counts (vLLM, Ollama, llama.cpp, bot serve).
        "stream_options": {"include_usage": True},
        "max_tokens": sampling.max_new_tokens,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "seed": sampling.seed,
    }
    if candidates > 1:
        kwargs["n"] = candidates
    if extra_sampling:
        # Not in OpenAI's API; vLLM, TGI and llama.cpp's server read them from the body.
        kwargs["extra_body"] = {
            "top_k": sampling.top_k,
            "repetition_penalty": sampling.repetition_penalty,
        }
    if messages is not None:
        kwargs["messages"] = [{"role": m.role, "content": m.content} for m in messages]
    else:
        # Locally an empty prompt starts after the end-of-text token; a server may refuse an
        # empty one, and a bare line break is the nearest plain-text start of a document.
        kwargs["prompt"] = prompt or "\n"
    return kwargs


def chunk_texts(chunk: Any, *, chat: bool) -> list[tuple[int, str, str | None]]:
    """(candidate index, new text, finish reason or None) for each choice in a stream chunk."""
    found: list[tuple[int, str, str | None]] = []
    for choice in getattr(chunk, "choices", None) or []:
        if chat:
            delta = getattr(choice, "delta", None)
            text = (getattr(delta, "content", None) or "") if delta is not None else ""
        else:
            text = getattr(choice, "text", None) or ""
        found.append((int(choice.index or 0), text, choice.finish_reason))
    return found
