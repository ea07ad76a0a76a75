"""LoRA adapters on a transformers model, per row of a batch: each adapted module gets a
forward hook that adds ``scale * B(A(x))`` to the rows that use an adapter.

peft's own multi-adapter model cannot wrap the torch engine's layers (they are routed through
oneDNN, a module type peft does not know), and hooks need no second copy of the model; the
arithmetic is peft's (``bot.generation.lora``), and the tests hold it to ``PeftModel``'s output.
Rows that use the same adapter are multiplied together, as peft's mixed batches do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import ModelUnavailable
from bot.generation.adapter_store import LoadedAdapters
from bot.generation.lora import LoraModule, read_lora
from bot.generation.torch_setup import torch


class RowAdapters:
    """The adapters loaded into ``model`` and which row of the next forward uses which."""

    def __init__(self, model: torch.nn.Module, capacity: int) -> None:
        self._model = model
        self._loaded: LoadedAdapters[dict[str, _Update]] = LoadedAdapters(capacity)
        self._hooked: set[str] = set()
        self._rows: list[str | None] = []  # the adapter of each row of the forward under way

    def load(self, adapter: str, *, in_use: Sequence[str] = ()) -> None:
        """Read the adapter in folder ``adapter`` unless it is loaded; raises
        ``ModelUnavailable`` for one that is broken or made for another model."""
        self._loaded.get(adapter, lambda: self._read(Path(adapter)), in_use=in_use)

    def use(self, rows: Sequence[str | None]) -> None:
        """Set the adapter of each row of the forward passes that follow (None: base)."""
        self._rows = list(rows)

    def _read(self, directory: Path) -> dict[str, _Update]:
        modules = read_lora(directory)
        for path, lora in modules.items():
            target = self._target(path, directory.name)
            in_features, out_features = _features(target)
            if lora.down.shape[1] != in_features or lora.up.shape[0] != out_features:
                raise ModelUnavailable(
                    f"The voice {directory.name!r} does not fit this model's shapes: it was "
                    "trained on another model."
                )
        for path in modules:
            if path not in self._hooked:
                self._model.get_submodule(path).register_forward_hook(self._hook(path))
                self._hooked.add(path)
        return {path: _Update.of(lora) for path, lora in modules.items()}

    def _target(self, path: str, name: str) -> torch.nn.Module:
        try:
            return self._model.get_submodule(path)
        except AttributeError:
            raise ModelUnavailable(
                f"The voice {name!r} adapts {path}, which this model does not have: it was "
                "trained on another model."
            ) from None

    def _hook(self, path: str) -> Any:
        def add_update(module: torch.nn.Module, inputs: tuple[Any, ...], output: Any) -> Any:
            rows = self._rows
            if not any(rows) or len(rows) != output.shape[0]:
                return None
            x = inputs[0]
            voices = list(dict.fromkeys(key for key in rows if key is not None))
            if len(voices) == 1 and None not in rows:  # every row the same voice: no indexing
                lora = self._loaded[voices[0]].get(path)
                return output if lora is None else output + lora.apply(x).to(output.dtype)
            output = output.clone()
            for adapter in voices:
                lora = self._loaded[adapter].get(path)
                if lora is None:
                    continue
                index = torch.tensor([i for i, key in enumerate(rows) if key == adapter])
                update = lora.apply(x.index_select(0, index))
                output.index_add_(0, index, update.to(output.dtype))
            return output

        return add_update


@dataclass(frozen=True)
class _Update:
    """One module's update, as the hook multiplies it: A.T and (scale * B).T."""

    down_t: torch.Tensor  # [in, rank]
    up_t: torch.Tensor  # [rank, out]

    @staticmethod
    def of(lora: LoraModule) -> _Update:
        return _Update(lora.down.T.contiguous(), (lora.up * lora.scale).T.contiguous())

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        return (x.to(self.down_t.dtype) @ self.down_t) @ self.up_t


def _features(module: torch.nn.Module) -> tuple[int, int]:
    """(in, out) of a linear layer: ``nn.Linear``, the oneDNN one, or GPT-2's Conv1D (whose
    weight is [in, out])."""
    if hasattr(module, "in_features") and hasattr(module, "out_features"):
        return int(module.in_features), int(module.out_features)
    weight = getattr(module, "weight", None)
    if isinstance(weight, torch.Tensor) and weight.dim() == 2:
        return int(weight.shape[0]), int(weight.shape[1])
    return -1, -1
