"""Choose how the fast decoder stores a loaded model, build it, and let the original go."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import logging

from bot.config import GenerationSettings
from bot.generation.engine import DecodeBatch
from bot.generation.fast.batch import SlotBatch
from bot.generation.fast.decoder import FastDecoder
from bot.generation.fast.linear import bfloat16_is_fast
from bot.generation.fast.weights import read_weights, unsupported_reason
from bot.generation.loading import LoadedModel
from bot.generation.torch_setup import torch

log = logging.getLogger(__name__)


def weight_kind(dtype: str) -> str:
    """What ``model.dtype`` means for the fast decoder on this CPU: "auto" is int4 weights
    where they are 4-bit already and int8 elsewhere, with bfloat16 arithmetic; or float32
    where bfloat16 would be emulated."""
    if not bfloat16_is_fast():
        return "float32"
    return {"auto": "auto", "bfloat16": "bfloat16"}.get(dtype, "float32")


def fast_batch(
    loaded: LoadedModel, dtype: str, settings: GenerationSettings, *, loaded_adapters: int = 4
) -> DecodeBatch:
    """A ``SlotBatch`` over ``loaded`` (whose transformers model is then released), or the
    transformers batch for an architecture the fast decoder does not know."""
    reason = unsupported_reason(loaded.model)
    if reason is not None:
        from bot.generation.hf_batch import TransformersBatch
        from bot.generation.onednn import use_onednn_linears

        log.warning("The fast engine does not run %s; using the transformers engine", reason)
        use_onednn_linears(loaded.model)  # loaded without it, for the fast decoder's sake
        return TransformersBatch(loaded, loaded_adapters=loaded_adapters)
    kind = weight_kind(dtype)
    with torch.inference_mode():
        weights = read_weights(loaded.model, kind)
    # Every piece fits: prompts are capped, and so is what may be written after them.
    longest = settings.max_prompt_tokens + settings.max_new_tokens_cap + 1
    longest = min(longest, loaded.context_window)
    decoder = FastDecoder(
        weights,
        slots=settings.max_batch_size,
        max_length=longest,
        dtype=torch.float32 if kind == "float32" else torch.bfloat16,
    )
    kinds = sorted({linear.kind for linear in weights.linears})
    loaded.model = None
    loaded.dtype = "+".join(kinds)
    _release_memory()
    log.info(
        "Fast decoder: %s weights, %.0f MB read per step, %d slots of %d tokens",
        loaded.dtype,
        weights.nbytes / 1e6,
        settings.max_batch_size,
        longest,
    )
    return SlotBatch(decoder, loaded.pad_id, loaded_adapters=loaded_adapters)


def _release_memory() -> None:
    # The float32 model just released was hundreds of MB in many blocks; glibc keeps freed
    # heap memory for reuse unless asked to give it back.
    gc.collect()
    name = ctypes.util.find_library("c")
    if name:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(name).malloc_trim(0)
