"""The forward pass over ``Weights``, with a key/value cache of fixed slots.

Rows of the running batch live in slots ``0..rows-1``; when a row leaves, the rows after it
move down (a copy of their cache, once), so every step reads the cache as one view, never a
gathered copy. The cache is allocated once and only touched as far as it is used: its resident
memory grows with the longest piece written so far (in every slot), not with the context
window.

Attention spans the batch's longest row, rounded up to ``SPAN_QUANTUM`` so that a row's
result does not depend on how long the other rows are: the positions a row does not have are
masked, and the sums over them add exact zeros in the same order.
"""

from __future__ import annotations

from bot.generation.fast.linear import PackedLinear
from bot.generation.fast.lora import FastAdapter, SlotLora
from bot.generation.fast.weights import Layer, Weights
from bot.generation.torch_setup import torch

SPAN_QUANTUM = 64

F = torch.nn.functional


class FastDecoder:
    """Prefill a prompt into a slot, decode one token for every occupied slot, or score."""

    def __init__(
        self, weights: Weights, *, slots: int, max_length: int, dtype: torch.dtype
    ) -> None:
        self.weights = weights
        self.slots = slots
        self.max_length = max_length
        self.dtype = dtype
        w = weights
        shape = (slots, w.kv_heads, _round_up(max_length, SPAN_QUANTUM), w.head_dim)
        # Allocated, not zeroed: pages are only resident once written (see ``_clear_to``).
        self._keys = [torch.empty(shape, dtype=dtype) for _ in w.layers]
        self._values = [torch.empty(shape, dtype=dtype) for _ in w.layers]
        self._cleared = 0
        self._scale = w.head_dim**-0.5
        self._q_width = w.heads * w.head_dim
        self._kv_width = w.kv_heads * w.head_dim
        self._lora = SlotLora(w, slots, dtype)

    # --- the three passes ----------------------------------------------------------------

    def prefill(
        self, slot: int, ids: list[int], adapter: FastAdapter | None = None
    ) -> torch.Tensor:
        """Read the prompt ``ids`` into ``slot``, whose row then writes with ``adapter`` (None:
        the base model); returns the next token's logits [vocab]."""
        hidden = self._forward_prompt(ids, slot, adapter)
        self._lora.place(slot, adapter)
        return self._logits(hidden[-1:])[0]

    def score(self, ids: list[int]) -> torch.Tensor:
        """Logits after every token of ``ids`` [len, vocab], touching no slot."""
        return self._logits(self._forward_prompt(ids, None))

    def decode(self, tokens: list[int], positions: list[int]) -> torch.Tensor:
        """Feed token ``tokens[i]`` at ``positions[i]`` to slot ``i`` for every occupied slot;
        returns the next logits [rows, vocab]."""
        w = self.weights
        rows = len(tokens)
        token_ids = torch.tensor(tokens, dtype=torch.long)
        position_ids = torch.tensor(positions, dtype=torch.long)
        span = min(_round_up(max(positions) + 1, SPAN_QUANTUM), self._keys[0].shape[2])
        self._clear_to(span)
        visible = torch.arange(span).unsqueeze(0) <= position_ids.unsqueeze(1)
        mask = visible.view(rows, 1, 1, span)
        rotary = self._rotary(position_ids)
        slot_ids = torch.arange(rows)
        groups = w.heads // w.kv_heads
        hidden = self._embed(token_ids, position_ids)
        adapted = self._lora.any_in(rows)
        for index, layer in enumerate(w.layers):
            x = layer.attention_norm(hidden).to(self.dtype)
            qkv = self._product(layer.qkv, "qkv", index, x, step=adapted)
            q, k, v = self._attention_inputs(qkv, rotary)
            keys, values = self._keys[index], self._values[index]
            keys[slot_ids, :, position_ids] = k
            values[slot_ids, :, position_ids] = v
            # A query head's group shares one key/value head: [rows, kv_heads, group, dim].
            attended = F.scaled_dot_product_attention(
                q.reshape(rows, w.kv_heads, groups, w.head_dim),
                keys[:rows, :, :span],
                values[:rows, :, :span],
                attn_mask=mask,
                scale=self._scale,
            )
            attended = attended.reshape(rows, self._q_width)
            out = self._product(layer.out, "out", index, attended, step=adapted)
            hidden = hidden + out.float()
            hidden = hidden + self._feed_forward(layer, index, hidden, step=adapted)
        return self._logits(hidden)

    def move(self, source: int, target: int, length: int) -> None:
        """Copy the first ``length`` cached positions of slot ``source`` into ``target``."""
        for keys, values in zip(self._keys, self._values, strict=True):
            keys[target, :, :length] = keys[source, :, :length]
            values[target, :, :length] = values[source, :, :length]
        self._lora.move(source, target)

    # --- pieces --------------------------------------------------------------------------

    def _forward_prompt(
        self, ids: list[int], slot: int | None, adapter: FastAdapter | None = None
    ) -> torch.Tensor:
        w = self.weights
        length = len(ids)
        position_ids = torch.arange(length)
        rotary = self._rotary(position_ids)
        hidden = self._embed(torch.tensor(ids, dtype=torch.long), position_ids)
        for index, layer in enumerate(w.layers):
            x = layer.attention_norm(hidden).to(self.dtype)
            qkv = self._product(layer.qkv, "qkv", index, x, adapter=adapter, prompt=True)
            q, k, v = self._attention_inputs(qkv, rotary)
            if slot is not None:
                if index == 0:
                    self._clear_to(_round_up(length, SPAN_QUANTUM))
                self._keys[index][slot, :, :length] = k.transpose(0, 1)
                self._values[index][slot, :, :length] = v.transpose(0, 1)
            attended = F.scaled_dot_product_attention(
                q.transpose(0, 1).unsqueeze(0),
                k.transpose(0, 1).unsqueeze(0),
                v.transpose(0, 1).unsqueeze(0),
                is_causal=True,
                scale=self._scale,
                enable_gqa=w.heads != w.kv_heads,
            )
            attended = attended[0].transpose(0, 1).reshape(length, self._q_width)
            out = self._product(layer.out, "out", index, attended, adapter=adapter, prompt=True)
            hidden = hidden + out.float()
            hidden = hidden + self._feed_forward(layer, index, hidden, prompt=True, adapter=adapter)
        return hidden

    def _attention_inputs(
        self, qkv: torch.Tensor, rotary: tuple[torch.Tensor, torch.Tensor] | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Split one product's rows into queries, keys and values per head (positions
        rotated where the model uses rotary embeddings)."""
        w, rows = self.weights, qkv.shape[0]
        keys_end = self._q_width + self._kv_width
        q = qkv[:, : self._q_width].view(rows, w.heads, w.head_dim)
        k = qkv[:, self._q_width : keys_end].view(rows, w.kv_heads, w.head_dim)
        v = qkv[:, keys_end:].view(rows, w.kv_heads, w.head_dim)
        if rotary is not None:
            q, k = _rotate(q, *rotary), _rotate(k, *rotary)
        return q, k, v

    def _feed_forward(
        self,
        layer: Layer,
        index: int,
        hidden: torch.Tensor,
        *,
        prompt: bool = False,
        step: bool = False,
        adapter: FastAdapter | None = None,
    ) -> torch.Tensor:
        """The feed-forward block: ``step`` adds the slots' adapters to a step's rows;
        ``adapter`` is the one a prompt's tokens are read with."""
        x = layer.feed_forward_norm(hidden).to(self.dtype)
        up = self._product(layer.up, "up", index, x, step=step, adapter=adapter, prompt=prompt)
        if self.weights.gated:
            gate, value = up.chunk(2, dim=-1)
            up = F.silu(gate) * value
        else:
            up = F.gelu(up, approximate="tanh" if self.weights.tanh_gelu else "none")
        down = self._product(
            layer.down, "down", index, up, step=step, adapter=adapter, prompt=prompt
        )
        return down.float()

    def _product(
        self,
        linear: PackedLinear,
        product: str,
        index: int,
        x: torch.Tensor,
        *,
        step: bool = False,
        adapter: FastAdapter | None = None,
        prompt: bool = False,
    ) -> torch.Tensor:
        """``linear(x)`` plus the LoRA update: the slots' adapters for a step's rows
        (``step``), or ``adapter``'s for a prompt's tokens."""
        out = linear(x, prompt=prompt)
        if step:
            return self._lora.add_step(index, product, x, out)
        if adapter is not None:
            return SlotLora.add_prompt(adapter, index, product, x, out)
        return out

    def _embed(self, token_ids: torch.Tensor, position_ids: torch.Tensor) -> torch.Tensor:
        hidden = self.weights.embedding.rows(token_ids)
        if self.weights.positions is not None:
            hidden = hidden + self.weights.positions[position_ids]
        return hidden

    def _logits(self, hidden: torch.Tensor) -> torch.Tensor:
        x = self.weights.final_norm(hidden).to(self.dtype)
        return self.weights.head(x).float()

    def _rotary(self, position_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
        inv_freq = self.weights.inv_freq
        if inv_freq is None:
            return None
        angles = position_ids.float().unsqueeze(1) * inv_freq.unsqueeze(0)
        angles = torch.cat([angles, angles], dim=-1)
        scale = self.weights.rotary_scale
        cos = (angles.cos() * scale).to(self.dtype).unsqueeze(1)
        sin = (angles.sin() * scale).to(self.dtype).unsqueeze(1)
        return cos, sin

    def _clear_to(self, span: int) -> None:
        # Never-written cache memory may hold NaN bit patterns, and a masked position's zero
        # weight times NaN is still NaN; so positions are zeroed (for all slots) once, the
        # first time any row reaches them.
        if span <= self._cleared:
            return
        for keys, values in zip(self._keys, self._values, strict=True):
            keys[:, :, self._cleared : span].zero_()
            values[:, :, self._cleared : span].zero_()
        self._cleared = span


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary position embedding in the transformers layout (halves, not pairs)."""
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


def _round_up(value: int, quantum: int) -> int:
    return -(-value // quantum) * quantum
