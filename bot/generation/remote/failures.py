"""Which model-server errors a retry can mend, how long to wait before it, and what the user
is told when it cannot be mended."""

from __future__ import annotations

import logging
import random

import openai

from bot.errors import GenerationFailed, InkwellError, InvalidRequest, ServiceBusy

log = logging.getLogger(__name__)

BACKOFF_BASE = 0.5  # seconds before the first retry; doubled for each one after it
BACKOFF_MOST = 8.0
RETRY_AFTER_MOST = 10.0  # a server asking for longer is as good as down for a waiting user


def retryable(error: BaseException) -> bool:
    """Whether the same request may succeed if sent again: the server was unreachable or too
    slow, busy (429) or failing (5xx). A 400, 401, 403, 404 or 422 will fail the same way."""
    if isinstance(error, openai.APIConnectionError):  # timeouts included
        return True
    if isinstance(error, openai.APIStatusError):
        return error.status_code in (408, 429) or error.status_code >= 500
    return False


def backoff_seconds(error: BaseException, attempt: int) -> float:
    """How long to wait before retry ``attempt`` (0 = the first): what the server asked for
    in ``Retry-After`` if that is short, else exponential with jitter (so that bots retrying
    together don't hit the server together again)."""
    if isinstance(error, openai.APIStatusError):
        asked = error.response.headers.get("retry-after")
        try:
            seconds = float(asked) if asked is not None else None
        except ValueError:
            seconds = None
        if seconds is not None and 0 <= seconds <= RETRY_AFTER_MOST:
            return seconds
    delay = min(BACKOFF_MOST, BACKOFF_BASE * 2**attempt)
    return delay * random.uniform(0.5, 1.0)  # jitter, not security


def user_error(error: BaseException, *, base_url: str, model: str) -> InkwellError:
    """The domain error to raise for a model-server failure that was not (or no longer)
    retried; the operator's side of the story goes to the log."""
    if isinstance(error, TimeoutError | openai.APITimeoutError):
        log.warning("Model server %s timed out", base_url)
        return GenerationFailed("The model server took too long to answer; please try again.")
    if isinstance(error, openai.APIConnectionError):
        log.warning("Model server %s unreachable: %s", base_url, error.__cause__ or error)
        return GenerationFailed(
            "I can't reach the model server right now; please try again in a moment."
        )
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        detail = _message(error)
        if status in (401, 403):
            log.error("Model server %s refused the API key (%d): %s", base_url, status, detail)
            return GenerationFailed(
                "The model server refused this bot's key; an operator needs to check "
                "INKWELL_OPENAI_API_KEY."
            )
        if status == 404:
            log.error("Model server %s: 404 for model %r: %s", base_url, model, detail)
            return GenerationFailed(
                "The model server has no such model or endpoint; an operator needs to check "
                "model.base_url and model.remote_model."
            )
        if status in (400, 422):
            log.warning("Model server %s refused a request (%d): %s", base_url, status, detail)
            return InvalidRequest(f"The model server refused that request: {detail}")
        if status in (408, 429) or status == 503:
            return ServiceBusy(
                "The model server is busy writing for others; please try again in a moment."
            )
        log.warning("Model server %s failed (%d): %s", base_url, status, detail)
        return GenerationFailed("The model server failed while writing; please try again.")
    log.warning("Model server %s: %s", base_url, error)
    return GenerationFailed("The model server failed while writing; please try again.")


def _message(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"][:300]
        if isinstance(body.get("message"), str):
            return body["message"][:300]
    return str(error)[:300]
