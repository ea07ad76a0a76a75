"""The running batch on ``FastDecoder``: row ``i`` of the batch is slot ``i`` of the cache."""

from __future__ import annotations

from bot.generation.fast.decoder import FastDecoder
from bot.generation.scoring import next_token_logprobs
from bot.generation.torch_setup import torch


class SlotBatch:
    """The engine's ``DecodeBatch`` for the fast decoder."""

    def __init__(self, decoder: FastDecoder, pad_id: int) -> None:
        self._decoder = decoder
        self._pad_id = pad_id
        self._lengths: list[int] = []  # cached positions of each row's slot

    def warm_up(self) -> None:
        """One prompt and one step, so the first user does not pay for lazy set-up."""
        self.prefill([[self._pad_id] * 4])
        self.step([self._pad_id], [4])
        self.keep([])

    def prefill(self, prompts: list[list[int]]) -> torch.Tensor:
        """Read ``prompts`` into the next free slots, one at a time (each row's numbers then
        never depend on its neighbours); returns their next logits [n, vocab]. If this
        raises, the running rows are untouched: only free slots were written."""
        first = len(self._lengths)
        if first + len(prompts) > self._decoder.slots:
            raise RuntimeError("more rows than cache slots")
        logits = [self._decoder.prefill(first + i, prompt) for i, prompt in enumerate(prompts)]
        self._lengths += [len(prompt) for prompt in prompts]
        return torch.stack(logits)

    def step(self, tokens: list[int], positions: list[int]) -> torch.Tensor:
        """Feed each row its token at its position; returns the next logits [rows, vocab]."""
        logits = self._decoder.decode(tokens, positions)
        self._lengths = [
            max(length, p + 1) for length, p in zip(self._lengths, positions, strict=True)
        ]
        return logits

    def keep(self, indices: list[int]) -> None:
        """Keep only rows ``indices`` (ascending), moving them down to slots ``0..n-1``."""
        for target, source in enumerate(indices):
            if source != target:
                self._decoder.move(source, target, self._lengths[source])
        self._lengths = [self._lengths[i] for i in indices]

    def score(self, sequences: list[list[int]]) -> list[list[float]]:
        """The log-probability of every token after the first, for each sequence."""
        return [
            next_token_logprobs(self._decoder.score(sequence)[:-1], sequence)
            for sequence in sequences
        ]
