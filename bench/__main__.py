"""Benchmark the generation service against the naive baseline, in one run.

    python -m bench                      # ~6 min: GPT-2 small + SmolLM2, 1/4/8/16 requests, 2 reps
    python -m bench --quick              # ~1-2 minutes: GPT-2 small, 8 requests, 1 rep
    python -m bench --models gpt2 --engines naive,ctranslate2 --concurrency 8 --reps 5

Every (model, engine) runs in its own subprocess (bench/worker.py) so RSS and load time are its
own. Results: a markdown table on stdout and JSON in bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
# llamacpp: the optional baseline (pip install -e ".[bench]"; README → Benchmarks), bundled
# model only, since it reads the GGUF file itself.
ENGINES = ["naive", "fast", "fast-bf16", "torch", "torch-bf16", "ctranslate2", "llamacpp"]


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "inkwell"


def gpt2_small_dir() -> Path:
    """GPT-2 small (GPT2Config() defaults, 124M, random weights) with the real tokenizer."""
    target = cache_dir() / "bench" / "gpt2-small-random"
    if (target / "model.safetensors").is_file():
        return target
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    sys.path.insert(0, str(ROOT))
    from tests.tiny_models import gpt2_tokenizer_files

    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    encoder, merges = gpt2_tokenizer_files()
    shutil.copyfile(encoder, staging / "vocab.json")
    shutil.copyfile(merges, staging / "merges.txt")
    GPT2TokenizerFast.from_pretrained(staging).save_pretrained(staging)
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config()).save_pretrained(staging)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def model_path(name: str) -> str:
    if name == "gpt2":
        return str(gpt2_small_dir())
    if name == "smollm2":
        sys.path.insert(0, str(ROOT))
        from bot.generation.loading import resolve_source

        return resolve_source("bundled", cache_dir(), lambda *_: None)[0]
    return name


def prepare_ct2(model: str) -> None:
    """Convert once outside the measured process (conversion loads torch and the model)."""
    code = (
        "from pathlib import Path; from bot.generation.ct2_loading import load_ct2_model; "
        f"load_ct2_model({model!r}, cache_dir=Path({str(cache_dir())!r}), replicas=1)"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)


def run_worker(model: str, engine: str, args: argparse.Namespace) -> dict:
    command = [
        sys.executable, "-m", "bench.worker", model, engine,
        "--concurrency", ",".join(map(str, args.concurrency)),
        "--reps", str(args.reps), "--tokens", str(args.tokens), "--threads", str(args.threads),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{engine} on {model} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(runs: list[dict]) -> str:
    lines = [
        "| model | engine | conc. | tok/s | x naive | p50 lat s | p95 lat s | TTFT p50 s "
        "| loop lag p99 ms | RSS loaded MB | peak RSS MB | load s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        base = next(
            (r for r in runs if r["model"] == run["model"] and r["engine"] == "naive"), None
        )
        for level, m in run["levels"].items():
            ratio = ""
            if base and level in base["levels"]:
                ratio = f"{m['tokens_per_s'] / base['levels'][level]['tokens_per_s']:.1f}"
            lines.append(
                f"| {run['model']} | {run['engine']} | {level} | {m['tokens_per_s']:.0f} | "
                f"{ratio} | {m['latency_p50']:.2f} | {m['latency_p95']:.2f} | "
                f"{m['ttft_p50']:.3f} | {m['loop_lag_p99_ms']:.1f} | "
                f"{run['rss_loaded_mb']:.0f} | {run['peak_rss_mb']:.0f} | {run['load_s']:.1f} |"
            )
    return "\n".join(lines)


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="GPT-2, 8 requests, 1 rep")
    parser.add_argument("--models", default="gpt2,smollm2", help="gpt2, smollm2 or a path")
    parser.add_argument(
        "--engines", default="naive,torch,ctranslate2", help=f"any of {','.join(ENGINES)}"
    )
    parser.add_argument("--concurrency", default="1,4,8,16")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0, help="model.threads (0 = auto)")
    args = parser.parse_args()
    if args.quick:
        args.models, args.engines, args.concurrency, args.reps = (
            "gpt2", "naive,ctranslate2", "8", 1,
        )  # fmt: skip
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    engines = args.engines.split(",")
    started = time.perf_counter()
    runs = []
    for name in args.models.split(","):
        model = model_path(name)
        if "ctranslate2" in engines:
            prepare_ct2(model)
        for engine in engines:
            if engine == "llamacpp" and name != "smollm2":
                continue  # it reads the bundled GGUF file; the others have none
            print(f"... {name} / {engine}", file=sys.stderr, flush=True)
            runs.append({"model": name} | run_worker(model, engine, args))
    report = table(runs)
    took = time.perf_counter() - started
    print(f"\nMachine: {machine()}; {args.tokens} new tokens per request, ", end="")
    print(f"medians of {args.reps} rep(s); took {took:.0f} s\n")
    print(report)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / time.strftime("bench-%Y%m%d-%H%M%S.json")
    out.write_text(json.dumps({"machine": machine(), "args": vars(args), "runs": runs}, indent=1))
    print(f"\nJSON: {out}")


if __name__ == "__main__":
    main()
