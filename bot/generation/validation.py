"""Check and clamp sampling parameters before a request is queued.

Values that cannot mean anything (not a number, negative temperature) are refused with a message
the user can act on; values that are merely larger than this bot allows (more tokens than the
cap) are clamped, and the result reports what was really used.
"""

from __future__ import annotations

import math
import secrets

from bot.config import GenerationSettings
from bot.errors import InvalidRequest
from bot.generation.types import ResolvedSampling, SamplingParams

MAX_TEMPERATURE = 2.0
MAX_TOP_K = 200
MAX_SEED = 2**53 - 1  # Discord integer options stop at 2**53; seeds must round-trip there


def resolve_sampling(
    params: SamplingParams, settings: GenerationSettings, *, room_for_tokens: int
) -> ResolvedSampling:
    """Fill defaults from ``settings``, validate, and clamp ``max_new_tokens`` to the cap and to
    the ``room_for_tokens`` left in the model's context window."""
    temperature = _number(
        "temperature", params.temperature, settings.default_temperature, 0.0, MAX_TEMPERATURE
    )
    top_p = _number("top_p", params.top_p, settings.default_top_p, 0.0, 1.0)
    if top_p <= 0.0:
        raise InvalidRequest("top_p must be greater than 0 (try 0.9).")
    top_k = params.top_k if params.top_k is not None else settings.default_top_k
    _require_int("top_k", top_k)
    if top_k < 0:
        raise InvalidRequest(f"top_k must be 0 or more (you gave {top_k}).")
    top_k = MAX_TOP_K if top_k == 0 else min(top_k, MAX_TOP_K)  # 0 means "no top-k" by custom
    penalty = _number(
        "repetition_penalty", params.repetition_penalty, settings.repetition_penalty, 1.0, 2.0
    )
    max_new = (
        params.max_new_tokens if params.max_new_tokens is not None else settings.max_new_tokens_cap
    )
    _require_int("max_tokens", max_new)
    if max_new < 1:
        raise InvalidRequest(f"max_tokens must be at least 1 (you gave {max_new}).")
    if room_for_tokens < 1:
        raise InvalidRequest(
            "That prompt fills the model's whole context window; please shorten it."
        )
    max_new = min(max_new, settings.max_new_tokens_cap, room_for_tokens)
    seed = params.seed if params.seed is not None else secrets.randbelow(2**31)
    _require_int("seed", seed)
    if not 0 <= seed <= MAX_SEED:
        raise InvalidRequest(f"seed must be between 0 and {MAX_SEED} (you gave {seed}).")
    return ResolvedSampling(
        temperature=temperature,
        top_p=top_p,
        top_k=top_k,
        max_new_tokens=max_new,
        seed=seed,
        repetition_penalty=penalty,
    )


def _number(name: str, value: float | None, default: float, low: float, high: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidRequest(f"{name} must be a number between {low:g} and {high:g}.")
    if not low <= value <= high:
        raise InvalidRequest(f"{name} must be between {low:g} and {high:g} (you gave {value:g}).")
    return float(value)


def _require_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"{name} must be a whole number (you gave {value!r}).")
