"""Scoring a text: the model's log-probability of each of its tokens, in one forward pass.

Texts waiting to be scored are read together between two decoding steps of the running
batch: right-padded, no KV cache, and log-softmax taken one row at a time so a batch of long
texts never holds [batch, length, vocabulary] probabilities at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.errors import GenerationFailed
from bot.generation.jobs import ScoreJob
from bot.generation.torch_setup import torch

log = logging.getLogger(__name__)

MAX_SCORE_BATCH = 4  # logits of 4 x 256 tokens x 50k vocabulary: ~200 MB, briefly


Scorer = Callable[[list[list[int]]], list[list[float]]]


def score_jobs(scorer: Scorer, jobs: list[ScoreJob]) -> None:
    """Score ``jobs`` with ``scorer`` (one pass) and hand each its log-probabilities; if the
    pass fails, every job in it is told so."""
    if not jobs:
        return
    try:
        results = scorer([job.input_ids for job in jobs])
    except Exception as exc:
        log.exception("Scoring %d texts failed", len(jobs))
        error = GenerationFailed("Something went wrong while scoring; please try again.")
        error.__cause__ = exc
        for job in jobs:
            job.sink(error)
        return
    for job, logprobs in zip(jobs, results, strict=True):
        job.sink(logprobs)


def score_sequences(model: Any, pad_id: int, sequences: list[list[int]]) -> list[list[float]]:
    """Log-probabilities of every token after the first, from one right-padded forward pass
    of a transformers model."""
    longest = max(len(ids) for ids in sequences)
    ids = torch.full((len(sequences), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), longest), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = torch.tensor(sequence)
        mask[row, : len(sequence)] = 1
    logits = model(input_ids=ids, attention_mask=mask, use_cache=False).logits
    return [
        next_token_logprobs(logits[row, : len(sequence) - 1], sequence)
        for row, sequence in enumerate(sequences)
    ]


def next_token_logprobs(logits: torch.Tensor, sequence: list[int]) -> list[float]:
    """The log-probability of each token of ``sequence`` after the first, from ``logits``
    [len(sequence) - 1, vocab]: the logits after every token but the last."""
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    targets = torch.tensor(sequence[1:], dtype=torch.long).unsqueeze(1)
    return logprobs.gather(1, targets).squeeze(1).tolist()
