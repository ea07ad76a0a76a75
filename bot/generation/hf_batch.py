"""The running batch on a transformers model: one ``DynamicCache`` for all rows.

A new row is prefilled on its own and joins the running batch with its cache left-padded to
the batch's length; a row that leaves is cut out of every layer's keys and values, and columns
that are padding for every remaining row are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.generation.loading import LoadedModel
from bot.generation.lora_hooks import RowAdapters
from bot.generation.scoring import score_sequences
from bot.generation.torch_setup import torch


class TransformersBatch:
    """The engine's ``DecodeBatch`` for any transformers causal language model."""

    def __init__(self, loaded: LoadedModel, *, loaded_adapters: int = 4) -> None:
        self._model = loaded.model
        self._pad_id = loaded.pad_id
        self._cache: Any = None  # DynamicCache for the running rows, or None
        self._mask: torch.Tensor | None = None  # [rows, cache length]; 0 marks left padding
        self._adapters = RowAdapters(loaded.model, loaded_adapters)
        self._row_adapters: list[str | None] = []  # each running row's adapter (its folder)

    def load_adapter(self, adapter: str, *, keep: Sequence[str] = ()) -> None:
        """Read the adapter in folder ``adapter`` unless it is loaded already; raises
        ``ModelUnavailable`` for one that is broken or made for another model. Adapters in
        ``keep`` (those of rows about to be read) stay loaded."""
        in_use = [key for key in self._row_adapters if key is not None] + list(keep)
        self._adapters.load(adapter, in_use=in_use)

    def warm_up(self) -> None:
        """Run one token through the model, so the first user does not pay for lazy set-up."""
        self._model(input_ids=torch.tensor([[self._pad_id]]), use_cache=False)

    def prefill(
        self, prompts: list[list[int]], adapters: Sequence[str | None] | None = None
    ) -> torch.Tensor:
        """Read ``prompts`` and append them as rows, each with its adapter (loaded by
        ``load_adapter``; None: the base model); returns their next logits [n, vocab].
        If this raises, the running rows are untouched."""
        keys = list(adapters) if adapters is not None else [None] * len(prompts)
        from transformers import DynamicCache

        longest = max(len(prompt) for prompt in prompts)
        ids = torch.full((len(prompts), longest), self._pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), longest), dtype=torch.long)
        for index, prompt in enumerate(prompts):
            ids[index, longest - len(prompt) :] = torch.tensor(prompt)
            mask[index, longest - len(prompt) :] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache()
        self._adapters.use(keys)
        output = self._model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            cache=cache,
            use_cache=True,
            logits_to_keep=1,
        )
        self._merge(cache, mask)
        self._row_adapters += keys
        return output.logits[:, -1, :]

    def step(self, tokens: list[int], positions: list[int]) -> torch.Tensor:
        """Feed each row its token at its position; returns the next logits [rows, vocab]."""
        assert self._mask is not None
        rows = len(tokens)
        self._mask = torch.cat([self._mask, torch.ones((rows, 1), dtype=torch.long)], 1)
        self._adapters.use(self._row_adapters)
        output = self._model(
            input_ids=torch.tensor(tokens, dtype=torch.long).unsqueeze(1),
            attention_mask=self._mask,
            position_ids=torch.tensor(positions, dtype=torch.long).unsqueeze(1),
            cache=self._cache,
            use_cache=True,
        )
        return output.logits[:, -1, :]

    def keep(self, indices: list[int]) -> None:
        """Keep only rows ``indices`` (ascending), in that order."""
        self._row_adapters = [self._row_adapters[i] for i in indices]
        if not indices:
            self._cache, self._mask = None, None
            return
        assert self._mask is not None
        index = torch.tensor(indices, dtype=torch.long)
        mask = self._mask.index_select(0, index)
        # Columns that are padding for every remaining row are dead weight in each step.
        first_live = int(mask.any(dim=0).to(torch.long).argmax())
        for layer in self._cache.layers:
            layer.keys = layer.keys.index_select(0, index)[:, :, first_live:, :]
            layer.values = layer.values.index_select(0, index)[:, :, first_live:, :]
        self._mask = mask[:, first_live:]

    def score(self, sequences: list[list[int]]) -> list[list[float]]:
        """The log-probability of every token after the first, for each sequence."""
        self._adapters.use([])  # texts are scored by the base model
        return score_sequences(self._model, self._pad_id, sequences)

    def _merge(self, cache: Any, mask: torch.Tensor) -> None:
        if self._cache is None or self._mask is None:
            self._cache, self._mask = cache, mask
            return
        old_len, new_len = self._mask.shape[1], mask.shape[1]
        target = max(old_len, new_len)
        # Everything is built before anything is assigned: a failure (out of memory) leaves
        # the running rows as they were, and only the new ones fail.
        merged = [
            [
                torch.cat(
                    [
                        _left_pad(getattr(old_layer, name), target - old_len, dim=2),
                        _left_pad(getattr(new_layer, name), target - new_len, dim=2),
                    ],
                    dim=0,
                )
                for name in ("keys", "values")
            ]
            for old_layer, new_layer in zip(self._cache.layers, cache.layers, strict=True)
        ]
        merged_mask = torch.cat(
            [
                _left_pad(self._mask, target - old_len, dim=1),
                _left_pad(mask, target - new_len, dim=1),
            ],
            dim=0,
        )
        for layer, (keys, values) in zip(self._cache.layers, merged, strict=True):
            layer.keys, layer.values = keys, values
        self._mask = merged_mask


def _left_pad(tensor: torch.Tensor, amount: int, *, dim: int) -> torch.Tensor:
    if amount == 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = amount
    return torch.cat([tensor.new_zeros(shape), tensor], dim=dim)
