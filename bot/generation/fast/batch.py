"""The running batch on ``FastDecoder``: row ``i`` of the batch is slot ``i`` of the cache."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.generation.adapter_store import LoadedAdapters
from bot.generation.fast.decoder import FastDecoder
from bot.generation.fast.lora import FastAdapter, fuse_adapter
from bot.generation.lora import read_lora
from bot.generation.scoring import next_token_logprobs
from bot.generation.torch_setup import torch


class SlotBatch:
    """The engine's ``DecodeBatch`` for the fast decoder."""

    def __init__(self, decoder: FastDecoder, pad_id: int, *, loaded_adapters: int = 4) -> None:
        self._decoder = decoder
        self._pad_id = pad_id
        self._lengths: list[int] = []  # cached positions of each row's slot
        self._row_adapters: list[str | None] = []  # each row's adapter (its folder)
        self._adapters: LoadedAdapters[FastAdapter] = LoadedAdapters(loaded_adapters)

    def load_adapter(self, adapter: str, *, keep: Sequence[str] = ()) -> None:
        """Read the adapter in folder ``adapter`` unless it is loaded already; raises
        ``ModelUnavailable`` for one that is broken or made for another model. Adapters in
        ``keep`` (those of rows about to be read) stay loaded."""
        decoder = self._decoder

        def read() -> FastAdapter:
            modules = read_lora(Path(adapter))
            return fuse_adapter(modules, decoder.weights, decoder.dtype, Path(adapter).name)

        in_use = [key for key in self._row_adapters if key is not None] + list(keep)
        self._adapters.get(adapter, read, in_use=in_use)

    def warm_up(self) -> None:
        """One prompt and one step, so the first user does not pay for lazy set-up."""
        self.prefill([[self._pad_id] * 4])
        self.step([self._pad_id], [4])
        self.keep([])

    def prefill(
        self, prompts: list[list[int]], adapters: Sequence[str | None] | None = None
    ) -> torch.Tensor:
        """Read ``prompts`` into the next free slots, one at a time (each row's numbers then
        never depend on its neighbours), each with its adapter (loaded by ``load_adapter``;
        None: the base model); returns their next logits [n, vocab]. If this raises, the
        running rows are untouched: only free slots were written."""
        first = len(self._lengths)
        if first + len(prompts) > self._decoder.slots:
            raise RuntimeError("more rows than cache slots")
        keys = list(adapters) if adapters is not None else [None] * len(prompts)
        logits = [
            self._decoder.prefill(first + i, prompt, None if key is None else self._adapters[key])
            for i, (prompt, key) in enumerate(zip(prompts, keys, strict=True))
        ]
        self._lengths += [len(prompt) for prompt in prompts]
        self._row_adapters += keys
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
        self._row_adapters = [self._row_adapters[i] for i in indices]

    def score(self, sequences: list[list[int]]) -> list[list[float]]:
        """The log-probability of every token after the first, for each sequence."""
        return [
            next_token_logprobs(self._decoder.score(sequence)[:-1], sequence)
            for sequence in sequences
        ]
