"""Load a model for the CTranslate2 engine: convert the transformers checkpoint to int8 once
(seconds for GPT-2 small) and keep it in the cache; later starts read the converted copy.

Neither torch nor the transformers model is loaded once the copy exists, which keeps the
process small (about 0.2 GB for GPT-2 small instead of about 0.9 GB in torch float32).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from bot.errors import ModelUnavailable
from bot.generation.loading import (
    LoadedModel,
    context_window_of,
    end_token_ids,
    padding_token_id,
    resolve_source,
)
from bot.generation.types import ProgressCallback

log = logging.getLogger(__name__)

QUANTIZATION = "int8"


def ctranslate2_available() -> bool:
    """Whether the optional ``ctranslate2`` package is installed."""
    import importlib.util

    return importlib.util.find_spec("ctranslate2") is not None


def load_ct2_model(
    name: str, *, cache_dir: Path, replicas: int, progress: ProgressCallback | None = None
) -> LoadedModel:
    """Load ``name`` (anything ``load_model`` accepts) as a CTranslate2 generator."""
    report = progress or (lambda _stage, _fraction: None)
    if not ctranslate2_available():
        raise ModelUnavailable(
            "model.engine is 'ctranslate2' but the ctranslate2 package is not installed; "
            "run `pip install ctranslate2==4.8.5` or set model.engine = 'torch'."
        )
    _prefer_avx512()
    import ctranslate2

    started = time.perf_counter()
    report("Finding the model", 0.0)
    source, label = resolve_source(name, cache_dir, report)
    local = local_checkpoint(source)
    target = _converted(local, cache_dir, report)
    report(f"Loading tokenizer for {label}", 0.6)
    tokenizer = _tokenizer(local)
    report(f"Loading weights of {label}", 0.7)
    generator = ctranslate2.Generator(
        str(target),
        device="cpu",
        compute_type=QUANTIZATION,
        inter_threads=replicas,
        intra_threads=1,
    )
    config = json.loads((target / "config.json").read_text(encoding="utf-8"))
    eos_ids = end_token_ids(_configured_eos_ids(local), tokenizer)
    pad_id = padding_token_id(tokenizer, eos_ids)
    loaded = LoadedModel(
        name=label,
        model=generator,
        tokenizer=tokenizer,
        chat=bool(getattr(tokenizer, "chat_template", None)),
        eos_ids=eos_ids,
        pad_id=pad_id,
        context_window=context_window_of(_hf_config(local)),
        dtype=QUANTIZATION,
        load_seconds=time.perf_counter() - started,
    )
    log.info(
        "Loaded %s with CTranslate2 (%s, %d replicas, vocabulary %s) in %.1f s",
        label,
        QUANTIZATION,
        replicas,
        config.get("vocabulary_size", "?"),
        loaded.load_seconds,
    )
    report(f"{label} ready", 1.0)
    return loaded


def _prefer_avx512() -> None:
    # CTranslate2 picks AVX2 kernels on AMD CPUs even when AVX-512 is there; forcing it helped a
    # little here. Only when the CPU really has it, or the process would crash.
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return
    if " avx512f " in flags and " avx512bw " in flags:
        os.environ.setdefault("CT2_FORCE_CPU_ISA", "AVX512")


def local_checkpoint(source: str) -> Path:
    """The directory holding ``source``'s files: ``source`` itself, or for a hub id the snapshot
    in the Hugging Face cache (never ``Path(source)``, which is relative to the working
    directory and, for "gpt2", names nothing or the wrong thing)."""
    path = Path(source)
    if path.is_dir():
        return path
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(source, local_files_only=True))
    except LocalEntryNotFoundError as exc:
        raise ModelUnavailable(
            f"Model {source!r} is not fully in the local Hugging Face cache: {exc}"
        ) from exc


def _converted(path: Path, cache_dir: Path, report: ProgressCallback) -> Path:
    """The int8 CTranslate2 copy of the checkpoint in ``path``, converting it on first use."""
    stamp = "|".join(
        f"{f.name}:{f.stat().st_size}:{int(f.stat().st_mtime)}"
        for f in sorted(path.iterdir())
        if f.is_file()
    )
    digest = hashlib.sha256(f"{path.resolve()}|{stamp}".encode()).hexdigest()[:16]
    target = cache_dir / "ctranslate2" / f"{path.name}-{QUANTIZATION}-{digest}"
    if (target / "model.bin").is_file():
        return target
    report(f"Converting {path.name} for CTranslate2 once (seconds)", 0.2)
    from ctranslate2.converters import TransformersConverter

    started = time.perf_counter()
    staging = target.with_name(target.name + f".tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        TransformersConverter(str(path), low_cpu_mem_usage=True).convert(
            str(staging), quantization=QUANTIZATION, force=True
        )
    except Exception as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelUnavailable(f"Could not convert {path} for CTranslate2: {exc}") from exc
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)  # atomic: a crash mid-conversion never leaves half a model
    log.info("Converted %s for CTranslate2 in %.1f s", path, time.perf_counter() - started)
    return target


def _tokenizer(source: Path) -> Any:
    # AutoTokenizer imports torch (~230 MB); the fast tokenizer class alone does not.
    if (source / "tokenizer.json").is_file():
        from transformers import PreTrainedTokenizerFast

        return PreTrainedTokenizerFast.from_pretrained(source)
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(source)


def _hf_config(source: Path) -> dict[str, Any]:
    file = source / "config.json"
    return json.loads(file.read_text(encoding="utf-8")) if file.is_file() else {}


def _configured_eos_ids(source: Path) -> list[object]:
    """The ``eos_token_id`` entries of the checkpoint's configs (read without transformers)."""
    values: list[object] = []
    for name in ("generation_config.json", "config.json"):
        file = source / name
        if file.is_file():
            values.append(json.loads(file.read_text(encoding="utf-8")).get("eos_token_id"))
    return values
