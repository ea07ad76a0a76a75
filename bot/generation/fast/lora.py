"""LoRA adapters on the fast decoder: ``y = base(x) + (x @ A.T) @ (scale * B).T`` on the rows
that use an adapter.

peft adapts the model's own modules; the decoder fuses some of them (Llama's q/k/v into one
product, gate/up into another), so their A's are stacked and their B's laid out block-diagonally
to match the fused output. GPT-2's ``c_attn`` is one module already.

Each cache slot has its own copy of its row's A and B in one buffer per product (zeros for a
row without an adapter), so a decoding step applies every row's adapter with two batched
products over the buffers' first rows and no gathering; and a row's numbers are its own, the
same alone as beside other adapters or none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import ModelUnavailable
from bot.generation.fast.linear import PackedLinear
from bot.generation.fast.weights import Weights
from bot.generation.lora import LoraModule
from bot.generation.torch_setup import torch

PRODUCTS = ("qkv", "out", "up", "down")
# peft's module path -> (layer, product, which part of a fused product).
_GPT2 = re.compile(r"transformer\.h\.(\d+)\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)")
_GPT2_PRODUCTS = {
    "attn.c_attn": "qkv",
    "attn.c_proj": "out",
    "mlp.c_fc": "up",
    "mlp.c_proj": "down",
}
_LLAMA = re.compile(r"model\.layers\.(\d+)\.(self_attn|mlp)\.(\w+_proj)")
_LLAMA_PARTS = {
    "q_proj": ("qkv", 0),
    "k_proj": ("qkv", 1),
    "v_proj": ("qkv", 2),
    "o_proj": ("out", 0),
    "gate_proj": ("up", 0),
    "up_proj": ("up", 1),
    "down_proj": ("down", 0),
}


@dataclass(frozen=True)
class FusedLora:
    """One product's update: ``down`` [rank, in] and ``up`` [out, rank], scale folded in."""

    down: torch.Tensor
    up: torch.Tensor


# For each layer, the products the adapter changes.
FastAdapter = tuple[dict[str, FusedLora], ...]


def fuse_adapter(
    modules: dict[str, LoraModule], weights: Weights, dtype: torch.dtype, name: str
) -> FastAdapter:
    """``modules`` (``read_lora``) laid out for the decoder's products. Raises
    ``ModelUnavailable`` for an adapter made for another model."""
    parts: list[dict[str, dict[int, LoraModule]]] = [{} for _ in weights.layers]
    for path, module in modules.items():
        found = _place(path, weights.family)
        if found is None or found[0] >= len(weights.layers):
            raise ModelUnavailable(
                f"The voice {name!r} adapts {path}, which this model does not have: it was "
                "trained on another model."
            )
        layer, product, part = found
        parts[layer].setdefault(product, {})[part] = module
    fused = []
    for layer, products in zip(weights.layers, parts, strict=True):
        built = {}
        for product, pieces in products.items():
            linear = getattr(layer, product)
            built[product] = _fuse(pieces, _part_widths(weights, product), linear, dtype, name)
        fused.append(built)
    return tuple(fused)


def _place(path: str, family: str) -> tuple[int, str, int] | None:
    if family == "gpt2":
        match = _GPT2.fullmatch(path)
        return None if match is None else (int(match[1]), _GPT2_PRODUCTS[match[2]], 0)
    match = _LLAMA.fullmatch(path)
    if match is None or match[3] not in _LLAMA_PARTS:
        return None
    product, part = _LLAMA_PARTS[match[3]]
    return int(match[1]), product, part


def _part_widths(weights: Weights, product: str) -> list[int] | None:
    """The output widths of a fused product's parts, in order (None: not fused here)."""
    if weights.family != "llama":
        return None
    if product == "qkv":
        kv = weights.kv_heads * weights.head_dim
        return [weights.heads * weights.head_dim, kv, kv]
    if product == "up":
        half = weights.layers[0].up.out_features // 2
        return [half, half]
    return None


def _fuse(
    pieces: dict[int, LoraModule],
    widths: list[int] | None,
    linear: PackedLinear,
    dtype: torch.dtype,
    name: str,
) -> FusedLora:
    out_features, in_features = linear.out_features, linear.in_features
    widths = widths or [out_features]
    rank = sum(piece.down.shape[0] for piece in pieces.values())
    down = torch.zeros(rank, in_features)
    up = torch.zeros(out_features, rank)
    row, column = 0, 0
    for part, width in enumerate(widths):
        piece = pieces.get(part)
        if piece is not None:
            r = piece.down.shape[0]
            if piece.down.shape[1] != in_features or piece.up.shape[0] != width:
                raise ModelUnavailable(
                    f"The voice {name!r} does not fit this model's shapes: it was trained on "
                    "another model."
                )
            down[column : column + r] = piece.down
            up[row : row + width, column : column + r] = piece.up * piece.scale
            column += r
        row += width
    return FusedLora(down.to(dtype), up.to(dtype))


class SlotLora:
    """Per-slot copies of each row's adapter, and their products for a step or a prompt."""

    def __init__(self, weights: Weights, slots: int, dtype: torch.dtype) -> None:
        self._weights = weights
        self._slots = slots
        self._dtype = dtype
        # Per layer and product: (A.T [slots, in, rank], B.T [slots, rank, out]), transposed
        # once here so a step multiplies them as they lie; allocated when the first adapter
        # comes, grown when a wider one does.
        self._buffers: list[dict[str, tuple[torch.Tensor, torch.Tensor]]] = [
            {} for _ in weights.layers
        ]
        self._used = [False] * slots

    def place(self, slot: int, adapter: FastAdapter | None) -> None:
        """Give ``slot`` the adapter ``adapter`` (None: the base model)."""
        if adapter is None:
            if self._used[slot]:
                for buffers in self._buffers:
                    for down, up in buffers.values():
                        down[slot].zero_()
                        up[slot].zero_()
            self._used[slot] = False
            return
        for index, (buffers, layer) in enumerate(zip(self._buffers, adapter, strict=True)):
            for product in set(buffers) | set(layer):
                lora = layer.get(product)
                rank = 0 if lora is None else lora.down.shape[0]
                down, up = self._buffer(index, product, rank)
                down[slot].zero_()
                up[slot].zero_()
                if lora is not None:
                    down[slot, :, :rank] = lora.down.T
                    up[slot, :rank] = lora.up.T
        self._used[slot] = True

    def move(self, source: int, target: int) -> None:
        """Copy slot ``source``'s adapter into ``target``."""
        for buffers in self._buffers:
            for down, up in buffers.values():
                down[target] = down[source]
                up[target] = up[source]
        self._used[target] = self._used[source]

    def any_in(self, rows: int) -> bool:
        """Whether any of slots ``0..rows-1`` uses an adapter."""
        return any(self._used[:rows])

    def add_step(
        self, index: int, product: str, x: torch.Tensor, out: torch.Tensor
    ) -> torch.Tensor:
        """``out`` plus each row's update, for a step's rows ``x`` [rows, in]."""
        buffers = self._buffers[index].get(product)
        if buffers is None:
            return out
        rows = x.shape[0]
        down, up = buffers
        # Batched products even for one row: the same kernel alone and in a crowd keeps a
        # row's bits its own.
        low = torch.bmm(x.to(self._dtype).unsqueeze(1), down[:rows])
        updated = torch.baddbmm(out.to(self._dtype).unsqueeze(1), low, up[:rows])
        return updated.squeeze(1).to(out.dtype)

    @staticmethod
    def add_prompt(
        adapter: FastAdapter, index: int, product: str, x: torch.Tensor, out: torch.Tensor
    ) -> torch.Tensor:
        """``out`` plus the update of ``adapter`` for one prompt's tokens ``x`` [len, in]."""
        lora = adapter[index].get(product)
        if lora is None:
            return out
        delta = (x.to(lora.down.dtype) @ lora.down.T) @ lora.up.T
        return (out.to(delta.dtype) + delta).to(out.dtype)

    def _buffer(self, index: int, product: str, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
        buffers = self._buffers[index]
        current = buffers.get(product)
        if current is not None and current[0].shape[2] >= rank:
            return current
        linear = getattr(self._weights.layers[index], product)
        down = torch.zeros(self._slots, linear.in_features, rank, dtype=self._dtype)
        up = torch.zeros(self._slots, rank, linear.out_features, dtype=self._dtype)
        if current is not None:  # a wider adapter came: the others keep theirs, zero-padded
            old = current[0].shape[2]
            down[:, :, :old] = current[0]
            up[:, :old] = current[1]
        buffers[product] = (down, up)
        return down, up
