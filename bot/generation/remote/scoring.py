"""Scoring a text on a model server: ``/v1/completions`` with ``echo`` and ``logprobs`` returns
the log-probability of every prompt token (vLLM and ``bot serve`` do; the first token, with no
context before it, has none on vLLM and is left out)."""

from __future__ import annotations

import time

import openai

from bot.errors import InvalidRequest
from bot.generation.types import ScoredToken, TextScore

MAX_SCORE_CHARS = 1024  # about the local limit of 256 tokens
NOT_OFFERED = (
    "This model server does not report how likely a text is, so /score is not available with it."
)


async def score_remotely(client: openai.AsyncOpenAI, model: str, text: str) -> TextScore:
    """The per-token log-probabilities of ``text`` under ``model``."""
    if not text.strip():
        raise InvalidRequest("There is nothing to score: the text is empty.")
    if len(text) > MAX_SCORE_CHARS:
        raise InvalidRequest(
            f"That text is {len(text)} characters long; I can score up to {MAX_SCORE_CHARS}. "
            "Please shorten it and try again."
        )
    started = time.perf_counter()
    try:
        # max_tokens=1: vLLM refuses 0. The token written after the text is dropped below by
        # its offset.
        response = await client.completions.create(
            model=model, prompt=text, max_tokens=1, echo=True, logprobs=0, temperature=0.0
        )
    except (openai.BadRequestError, openai.UnprocessableEntityError, openai.NotFoundError):
        raise InvalidRequest(NOT_OFFERED) from None
    choice = response.choices[0] if response.choices else None
    logprobs = choice.logprobs if choice is not None else None
    if logprobs is None or not logprobs.tokens or logprobs.token_logprobs is None:
        raise InvalidRequest(NOT_OFFERED)
    offsets = logprobs.text_offset or list(range(len(logprobs.tokens)))
    tokens = tuple(
        ScoredToken(token, float(logprob))
        for token, logprob, offset in zip(
            logprobs.tokens, logprobs.token_logprobs, offsets, strict=False
        )
        if offset < len(text) and logprob is not None
    )
    if not tokens:
        raise InvalidRequest(NOT_OFFERED)
    return TextScore(model=model, tokens=tokens, seconds=time.perf_counter() - started)
