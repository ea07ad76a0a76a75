"""The weights of a transformers model, regrouped for ``FastDecoder``.

Two families are read: Llama (SmolLM2, the bundled model: RMSNorm, rotary positions, grouped
key/value heads, a gated SiLU feed-forward) and GPT-2 (LayerNorm, learned positions, GELU).
Query, key and value become one product, as do the two halves of a gated feed-forward, so a
layer costs four products. Anything else stays on the transformers engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.generation.fast.linear import PackedLinear
from bot.generation.torch_setup import torch

LLAMA_FAMILY = ("llama",)
GPT2_TANH_GELU = ("gelu_new", "gelu_pytorch_tanh", "gelu_fast")


@dataclass(frozen=True)
class Norm:
    """RMSNorm (``bias`` None, ``rms`` True) or LayerNorm."""

    weight: torch.Tensor
    bias: torch.Tensor | None
    eps: float
    rms: bool

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise float32 ``x`` over its last dimension."""
        shape = (x.shape[-1],)
        if self.rms:
            return torch.nn.functional.rms_norm(x, shape, self.weight, self.eps)
        return torch.nn.functional.layer_norm(x, shape, self.weight, self.bias, self.eps)


@dataclass(frozen=True)
class Layer:
    """One transformer block."""

    attention_norm: Norm
    qkv: PackedLinear
    out: PackedLinear
    feed_forward_norm: Norm
    up: PackedLinear  # gate and up halves side by side, for a gated feed-forward
    down: PackedLinear


@dataclass(frozen=True)
class Weights:
    """Everything the decoder reads, with the shapes it needs."""

    family: str  # "llama" | "gpt2"
    layers: tuple[Layer, ...]
    final_norm: Norm
    head: PackedLinear
    embedding: PackedLinear  # looked up by row; the head itself when tied and not int4
    positions: torch.Tensor | None  # GPT-2's learned position embeddings, float32
    inv_freq: torch.Tensor | None  # rotary frequencies (Llama)
    rotary_scale: float
    heads: int
    kv_heads: int
    head_dim: int
    hidden: int
    gated: bool  # SiLU(gate) * up, else GELU
    tanh_gelu: bool

    @property
    def linears(self) -> list[PackedLinear]:
        """Every product of a step: four per layer and the head."""
        found = [self.head]
        for layer in self.layers:
            found += [layer.qkv, layer.out, layer.up, layer.down]
        return found

    @property
    def nbytes(self) -> int:
        """Weight bytes one decoding step reads (the memory-bandwidth floor's numerator)."""
        return sum(linear.nbytes for linear in self.linears)


def unsupported_reason(model: Any) -> str | None:
    """Why ``model`` cannot run on the fast decoder, or None when it can."""
    config = model.config
    kind = getattr(config, "model_type", "")
    if kind in LLAMA_FAMILY:
        if getattr(config, "mlp_bias", False):
            return "a Llama model with feed-forward biases"
        if getattr(config, "hidden_act", "silu") != "silu":
            return f"a Llama model with {config.hidden_act} activations"
        return None
    if kind == "gpt2":
        if getattr(config, "scale_attn_by_inverse_layer_idx", False):
            return "a GPT-2 model that scales attention by layer"
        if not getattr(config, "scale_attn_weights", True):
            return "a GPT-2 model without attention scaling"
        if config.activation_function not in (*GPT2_TANH_GELU, "gelu"):
            return f"a GPT-2 model with {config.activation_function} activations"
        return None
    return f"the {kind or 'unknown'} architecture"


def read_weights(model: Any, kind: str) -> Weights:
    """Regroup ``model`` (checked by ``unsupported_reason``) with linears packed as ``kind``."""
    if model.config.model_type == "gpt2":
        return _gpt2(model, kind)
    return _llama(model, kind)


def _linear(weight: torch.Tensor, bias: torch.Tensor | None, kind: str) -> PackedLinear:
    return PackedLinear(weight, bias, kind)


def _embedding(head: PackedLinear, table: torch.Tensor, *, tied: bool) -> PackedLinear:
    """The input embedding: a tied head doubles as it, unless packed as int4 (which has no
    rows to look up); otherwise an int8 table, one scale per token."""
    if tied and head.kind != "int4":
        return head
    return PackedLinear(table, None, "int8-table")


def _fused(modules: list[Any], kind: str) -> PackedLinear:
    weight = torch.cat([module.weight.detach() for module in modules], dim=0)
    biases = [module.bias for module in modules]
    bias = None if all(b is None for b in biases) else torch.cat([_bias(m) for m in modules])
    return _linear(weight, bias, kind)


def _bias(module: Any) -> torch.Tensor:
    if module.bias is not None:
        return module.bias.detach()
    return torch.zeros(module.weight.shape[0])


def _float(tensor: torch.Tensor | None) -> torch.Tensor | None:
    # A copy, always: the loader's weights are views into one block, and keeping any view
    # would keep the whole float32 model resident.
    return None if tensor is None else tensor.detach().float().clone()


def _norm(module: Any, eps: float, *, rms: bool) -> Norm:
    weight = _float(module.weight)
    assert weight is not None
    return Norm(weight, None if rms else _float(module.bias), eps, rms)


def _llama(model: Any, kind: str) -> Weights:
    config = model.config
    heads = config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    eps = config.rms_norm_eps
    layers = []
    for block in model.model.layers:
        attention, mlp = block.self_attn, block.mlp
        layers.append(
            Layer(
                attention_norm=_norm(block.input_layernorm, eps, rms=True),
                qkv=_fused([attention.q_proj, attention.k_proj, attention.v_proj], kind),
                out=_linear(attention.o_proj.weight, attention.o_proj.bias, kind),
                feed_forward_norm=_norm(block.post_attention_layernorm, eps, rms=True),
                up=_fused([mlp.gate_proj, mlp.up_proj], kind),
                down=_linear(mlp.down_proj.weight, None, kind),
            )
        )
    head = _linear(model.lm_head.weight, None, kind)
    tied = model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    embedding = _embedding(head, model.model.embed_tokens.weight, tied=tied)
    rotary = model.model.rotary_emb
    return Weights(
        family="llama",
        layers=tuple(layers),
        final_norm=_norm(model.model.norm, eps, rms=True),
        head=head,
        embedding=embedding,
        positions=None,
        inv_freq=rotary.inv_freq.detach().float().clone(),
        rotary_scale=float(getattr(rotary, "attention_scaling", 1.0)),
        heads=heads,
        kv_heads=config.num_key_value_heads,
        head_dim=head_dim,
        hidden=config.hidden_size,
        gated=True,
        tanh_gelu=False,
    )


def _gpt2(model: Any, kind: str) -> Weights:
    config = model.config
    eps = config.layer_norm_epsilon
    layers = []
    for block in model.transformer.h:
        # GPT-2's Conv1D keeps its weight as [in, out]; a linear layer's is [out, in].
        layers.append(
            Layer(
                attention_norm=_norm(block.ln_1, eps, rms=False),
                qkv=_linear(block.attn.c_attn.weight.t(), block.attn.c_attn.bias, kind),
                out=_linear(block.attn.c_proj.weight.t(), block.attn.c_proj.bias, kind),
                feed_forward_norm=_norm(block.ln_2, eps, rms=False),
                up=_linear(block.mlp.c_fc.weight.t(), block.mlp.c_fc.bias, kind),
                down=_linear(block.mlp.c_proj.weight.t(), block.mlp.c_proj.bias, kind),
            )
        )
    head = _linear(model.lm_head.weight, None, kind)
    tied = model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr()
    embedding = _embedding(head, model.transformer.wte.weight, tied=tied)
    return Weights(
        family="gpt2",
        layers=tuple(layers),
        final_norm=_norm(model.transformer.ln_f, eps, rms=False),
        head=head,
        embedding=embedding,
        positions=_float(model.transformer.wpe.weight),
        inv_freq=None,
        rotary_scale=1.0,
        heads=config.n_head,
        kv_heads=config.n_head,
        head_dim=config.n_embd // config.n_head,
        hidden=config.n_embd,
        gated=False,
        tanh_gelu=config.activation_function in GPT2_TANH_GELU,
    )
