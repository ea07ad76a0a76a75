"""A LoRA adapter read from peft's files into plain tensors, for the fast decoder.

peft stores, for each adapted module ``m``, ``base_model.model.<m>.lora_A.weight`` [rank, in]
and ``...lora_B.weight`` [out, rank]; the module then computes ``base(x) + scale * B(A(x))``
with ``scale = alpha / rank`` (``alpha / sqrt(rank)`` under rsLoRA). ``fan_in_fan_out`` (GPT-2's
Conv1D) only changes how a merge transposes: A and B are stored the same way either way.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from bot.errors import ModelUnavailable
from bot.generation.adapter_store import CONFIG_FILE, WEIGHTS_FILE
from bot.generation.torch_setup import torch

PREFIX = "base_model.model."


@dataclass(frozen=True)
class LoraModule:
    """One adapted linear layer's low-rank update."""

    down: torch.Tensor  # A [rank, in], float32
    up: torch.Tensor  # B [out, rank], float32
    scale: float


def read_lora(directory: Path) -> dict[str, LoraModule]:
    """The adapter in ``directory`` by module path (``transformer.h.0.attn.c_attn``). Raises
    ``ModelUnavailable`` naming what is wrong with it; what it cannot serve exactly (DoRA,
    trained biases, extra saved modules) is refused rather than served approximately."""
    from safetensors.torch import load_file

    name = directory.name
    try:
        config = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
        tensors = load_file(directory / WEIGHTS_FILE)
    except Exception as exc:  # a missing file, bad JSON, or safetensors' own SafetensorError
        raise ModelUnavailable(f"The voice {name!r} could not be read: {exc}") from exc
    problem = _unsupported(config)
    if problem is not None:
        raise ModelUnavailable(f"The voice {name!r} cannot be served: {problem}.")
    rank = int(config["r"])
    alpha = float(config.get("lora_alpha", rank))
    scale = alpha / math.sqrt(rank) if config.get("use_rslora") else alpha / rank
    modules: dict[str, LoraModule] = {}
    for key, down in tensors.items():
        if not key.endswith(".lora_A.weight"):
            continue
        path = key.removeprefix(PREFIX).removesuffix(".lora_A.weight")
        up = tensors.get(key.replace(".lora_A.", ".lora_B."))
        if up is None or up.shape[1] != down.shape[0]:
            raise ModelUnavailable(f"The voice {name!r} is damaged: {path} has no matching B.")
        modules[path] = LoraModule(down.float().contiguous(), up.float().contiguous(), scale)
    if not modules:
        raise ModelUnavailable(f"The voice {name!r} holds no LoRA weights.")
    return modules


def _unsupported(config: dict[str, object]) -> str | None:
    if config.get("peft_type") != "LORA":
        return f"it is a {config.get('peft_type')} adapter, not LoRA"
    if config.get("use_dora"):
        return "it uses DoRA"
    if config.get("bias", "none") != "none" or config.get("lora_bias"):
        return "it trained biases"
    if config.get("modules_to_save"):
        return "it saves whole modules besides LoRA"
    if config.get("rank_pattern") or config.get("alpha_pattern"):
        return "its layers have different ranks or alphas"
    return None
