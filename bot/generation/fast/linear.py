"""Linear layers stored for decoding on a CPU: 4-bit or 8-bit weights, read at every step.

A decoding step is bound by reading the weights, so fewer bytes are faster. Measured on two
cores over SmolLM2's 30 layers (one row): int4 3.1 ms, int8 7 ms, bfloat16 17 ms, float32
16 ms; at eight rows int4 10 ms, int8 20 ms. int4 keeps 16 levels per group of 32 weights,
which is exactly what the bundled 4-bit GGUF model holds, so "auto" takes it only where it loses
nothing (the weights already sit on such a grid) and int8, one scale per output row, elsewhere.
Each row's result is the same whatever else is in the batch, so a seed writes the same piece
alone or in a crowd.
"""

from __future__ import annotations

from bot.generation.torch_setup import torch

# The int8 kernel needs its input width in multiples of 16 (other widths crash or go wrong).
INT8_WIDTH_MULTIPLE = 16
# A prompt longer than this is read with one dequantized bfloat16 product, which beats the
# row-by-row int8 kernel there. Only prompts: a decoding step of any batch size stays on the
# int8 kernel, whose rows never depend on each other.
DEQUANTIZE_ABOVE_ROWS = 24
INT4_GROUP = 32  # weights per scale and zero point, along the input
INT4_ROWS_MULTIPLE = 16  # the int4 kernel's output width must be a multiple of this
# Weights within this fraction of a 4-bit step of the 4-bit grid are already 4-bit.
ALREADY_4_BIT = 0.02


def bfloat16_is_fast() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX-512 BF16 or AMX); without it the
    products are emulated and float32 is the better choice."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


class PackedLinear:
    """``y = x @ W.T + b`` for ``x`` in the decoder's compute dtype.

    ``kind`` is "int4" (16 levels per group of 32 inputs), "int8" (one scale per output row),
    "auto" (int4 where the weights are already 4-bit, else int8), "int8-table" (int8 for a
    table only read by row), or "bfloat16" / "float32" (kept as they are, in that dtype). A
    width the kernels cannot take falls back a step.
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, kind: str) -> None:
        weight = weight.detach().float()
        self.out_features, self.in_features = weight.shape
        int4 = _int4(weight) if kind in ("int4", "auto") else None
        if int4 is not None and (kind == "int4" or int4[2] <= ALREADY_4_BIT):
            kind = "int4"
        elif kind == "int8-table":  # only looked up by row: any width will do
            kind = "int8"
        elif kind in ("int4", "auto", "int8"):
            kind = "int8" if self.in_features % INT8_WIDTH_MULTIPLE == 0 else "bfloat16"
        self.kind = kind
        compute = torch.float32 if kind == "float32" else torch.bfloat16
        self.bias = None if bias is None else bias.detach().to(compute).clone()
        self.scale: torch.Tensor | None = None
        if kind == "int4":
            assert int4 is not None
            self.weight, self.scale, _ = int4
        elif kind == "int8":
            scale = weight.abs().amax(dim=1).clamp(min=1e-8) / 127.0
            self.weight = (weight / scale[:, None]).round().clamp(-127, 127).to(torch.int8)
            self.weight = self.weight.contiguous()
            self.scale = scale.to(torch.bfloat16).contiguous()
        else:
            self.weight = weight.to(compute).clone()

    @property
    def nbytes(self) -> int:
        """Bytes read from memory for one product."""
        extra = 0 if self.scale is None else self.scale.numel() * self.scale.element_size()
        return self.weight.numel() * self.weight.element_size() + extra

    def __call__(self, x: torch.Tensor, *, prompt: bool = False) -> torch.Tensor:
        """Apply the layer to ``x`` of shape [rows, in_features]; ``prompt`` says the rows are
        one prompt's tokens (read once), not a decoding step's rows."""
        if self.kind == "int4":
            assert self.scale is not None
            out = torch._weight_int4pack_mm_for_cpu(x, self.weight, INT4_GROUP, self.scale)
            if out.shape[1] != self.out_features:
                out = out[:, : self.out_features]
        elif self.kind == "float32":
            if prompt or x.shape[0] == 1:
                return torch.nn.functional.linear(x, self.weight, self.bias)
            # Float32 products (MKL's and oneDNN's alike) give a row different bits alone and
            # in a batch, so a step's rows are multiplied one by one: slower, but a seed
            # writes the same piece under load.
            return torch.cat(
                [torch.nn.functional.linear(row, self.weight, self.bias) for row in x.split(1)]
            )
        elif self.scale is None:
            return torch.nn.functional.linear(x, self.weight, self.bias)
        elif prompt and x.shape[0] > DEQUANTIZE_ABOVE_ROWS:
            weight = self.weight.to(torch.bfloat16) * self.scale[:, None]
            return torch.nn.functional.linear(x, weight, self.bias)
        else:
            out = torch._weight_int8pack_mm(x, self.weight, self.scale)
        return out if self.bias is None else out + self.bias

    def rows(self, ids: torch.Tensor) -> torch.Tensor:
        """Rows ``ids`` of the weight as float32 (a tied output layer doubles as the input
        embedding, unless it is packed as int4)."""
        if self.kind == "int4":
            raise ValueError("packed int4 weights have no rows to read; keep an int8 table")
        rows = self.weight[ids].float()
        return rows if self.scale is None else rows * self.scale[ids, None].float()


def _int4(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float] | None:
    """(packed weight, scales and zero points, worst error in steps) for the int4 kernel, or
    None where the shape does not fit it."""
    rows, width = weight.shape
    if width % INT4_GROUP != 0:
        return None
    padded_rows = -(-rows // INT4_ROWS_MULTIPLE) * INT4_ROWS_MULTIPLE
    if padded_rows != rows:
        weight = torch.cat([weight, weight.new_zeros(padded_rows - rows, width)])
    groups = weight.view(padded_rows, width // INT4_GROUP, INT4_GROUP)
    low = groups.amin(dim=-1, keepdim=True)
    step = ((groups.amax(dim=-1, keepdim=True) - low) / 15).clamp(min=1e-8)
    levels = ((groups - low) / step).round().clamp(0, 15)
    worst = float(((levels * step + low - groups).abs() / step).max())
    # The kernel reads w = (level - 8) * scale + zero.
    zero = low + 8 * step
    scales = torch.stack([step.squeeze(-1), zero.squeeze(-1)], dim=-1)
    scales = scales.transpose(0, 1).contiguous().to(torch.bfloat16)
    packed = torch._convert_weight_to_int4pack_for_cpu(
        levels.view(padded_rows, width).to(torch.int32), 2
    )
    return packed, scales, worst
