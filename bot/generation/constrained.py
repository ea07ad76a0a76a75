"""Picking the next token for a row held to a constraint (a poem's form).

Only the row's likeliest tokens are offered to the constraint (checking 50,000 strings a step
in Python would cost more than the model): the ``CANDIDATES`` best by score, after the
repetition penalty and temperature. The row then samples among those allowed with its own
top-k, top-p and random stream, as an unconstrained row would. If none is allowed, the
constraint's rescue continuations are tokenized and the one whose first token the model
scores highest is taken.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bot.generation.sampling import RowSampling
from bot.generation.torch_setup import torch
from bot.generation.types import DecodingConstraint

CANDIDATES = 64
# When neither the likeliest tokens nor the rescue fit (rare), this many are tried before
# giving up on the line.
WIDE_CANDIDATES = 2048


class TokenTexts:
    """Token ids' texts, decoded as they are first needed (byte-level BPE tokens decode on
    their own to the text they add: " the", "\\n"), and how strings tokenize. Decoding the
    whole vocabulary up front would stall the first constrained row for a second."""

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        self._texts: dict[int, str] = {}
        self._first_tokens: dict[str, int | None] = {}

    def texts(self, ids: Sequence[int]) -> list[str]:
        """The text of each id; special tokens and partial characters are ""."""
        missing = [token for token in ids if token not in self._texts]
        if missing:
            decoded = self._tokenizer.batch_decode(
                [[token] for token in missing], skip_special_tokens=True
            )
            for token, text in zip(missing, decoded, strict=True):
                self._texts[token] = "" if "\ufffd" in text else text
        return [self._texts[token] for token in ids]

    def first_token(self, text: str) -> int | None:
        """The first token of ``text`` tokenized on its own."""
        if text not in self._first_tokens:
            ids = self._tokenizer(text, add_special_tokens=False)["input_ids"]
            self._first_tokens[text] = int(ids[0]) if ids else None
        return self._first_tokens[text]


def constrained_token(
    scores: torch.Tensor,
    row: RowSampling,
    constraint: DecodingConstraint,
    text: str,
    tokens: TokenTexts,
    eos_ids: frozenset[int],
    fallback: Callable[[], int],
) -> int:
    """The next token for one constrained row. ``scores`` are its logits ([vocab], penalised
    already); ``text`` is what it has written so far."""
    values, ids = torch.topk(scores, min(CANDIDATES, scores.shape[-1]))
    candidates = [int(i) for i in ids]
    ok = _allowed(constraint, text, candidates, tokens, eos_ids)
    kept = [index for index, allowed in enumerate(ok) if allowed]
    if kept:
        return _sample(values[kept], [candidates[i] for i in kept], row)
    rescued = _rescue(scores, constraint, text, tokens, eos_ids)
    if rescued is not None:
        return rescued
    wide = torch.topk(scores, min(WIDE_CANDIDATES, scores.shape[-1])).indices
    wide_ids = [int(i) for i in wide]
    for token, allowed in zip(
        wide_ids, _allowed(constraint, text, wide_ids, tokens, eos_ids), strict=True
    ):
        if allowed:
            return token
    if constraint.may_end(text) and eos_ids:
        return min(eos_ids)
    # A dead end (rare): end the line as it stands, and let the checker say how it fits.
    newline = tokens.first_token("\n")
    if newline is not None and text[text.rfind("\n") + 1 :].strip():
        return newline
    return fallback()


def _allowed(
    constraint: DecodingConstraint,
    text: str,
    candidates: Sequence[int],
    tokens: TokenTexts,
    eos_ids: frozenset[int],
) -> list[bool]:
    plain = [index for index, token in enumerate(candidates) if token not in eos_ids]
    verdicts = constraint.allowed(text, tokens.texts([candidates[index] for index in plain]))
    ok = [False] * len(candidates)
    for index, verdict in zip(plain, verdicts, strict=True):
        ok[index] = verdict
    if len(plain) != len(candidates) and constraint.may_end(text):
        for index, token in enumerate(candidates):
            if token in eos_ids:
                ok[index] = True
    return ok


def _rescue(
    scores: torch.Tensor,
    constraint: DecodingConstraint,
    text: str,
    tokens: TokenTexts,
    eos_ids: frozenset[int],
) -> int | None:
    """The rescue continuation's first token that the model scores highest, if any is
    allowed."""
    options: list[int] = []
    for continuation in constraint.rescue(text):
        token = tokens.first_token(continuation)
        if token is not None and token not in eos_ids and token not in options:
            options.append(token)
    if not options:
        return None
    verdicts = constraint.allowed(text, tokens.texts(options))
    allowed = [token for token, ok in zip(options, verdicts, strict=True) if ok]
    if not allowed:
        return None
    best = int(torch.argmax(scores[torch.tensor(allowed, dtype=torch.long)]))
    return allowed[best]


def _sample(values: torch.Tensor, ids: list[int], row: RowSampling) -> int:
    """Sample among the allowed candidates (``values`` are their scores, best first) with the
    row's temperature, top-k and top-p."""
    if row.temperature <= 0.0:
        return ids[0]
    values = values[: max(1, row.top_k)] / row.temperature
    probs = torch.softmax(values, dim=-1)
    mass_before = probs.cumsum(dim=-1) - probs
    probs = probs.masked_fill(mass_before >= row.top_p, 0.0)
    choice = int(torch.multinomial(probs, 1, generator=row.generator))
    return ids[choice]
