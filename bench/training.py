"""How fast a voice trains on this machine: training tokens/s on the bundled model (or a tiny
one), and what that means in minutes per 10,000 tokens of corpus (one pass).

    python -m bench.training                  # bundled SmolLM2, 10 steps (~2-5 min on 2 cores)
    python -m bench.training --model tiny     # seconds
    python -m bench.training --steps 20 --block 256

Steps are exactly those of `python -m bot train` (bot.voice.training), on a made-up corpus;
the first step is left out of the rate, since it pays for warming up.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

from bench.adapters import CORPUS, model_name


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.training")
    parser.add_argument("--model", default="bundled", help="'bundled', 'tiny' or a model name")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--block", type=int, default=128)
    args = parser.parse_args(argv)

    from bot.generation.loading import load_model
    from bot.generation.torch_setup import torch
    from bot.voice.training import Progress, TrainingPlan, train, with_adapter

    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        name = model_name(args.model, scratch)
        loaded = load_model(name, cache_dir=scratch / "cache", dtype="float32", onednn=False)
        plan = TrainingPlan(
            max_steps=args.steps, batch_size=args.batch, block_tokens=args.block, max_minutes=60
        )
        model = with_adapter(loaded.model, plan)
        marks: list[tuple[float, int]] = []

        def seen(progress: Progress) -> None:
            marks.append((time.perf_counter(), progress.step))

        texts = CORPUS * 40  # enough blocks that every step trains on a full batch
        run = train(model, loaded.tokenizer, texts, scratch / "out", plan, progress=seen)
    per_step = run.train_tokens / max(run.steps, 1)
    warm = (marks[-1][0] - marks[0][0]) / max(marks[-1][1] - marks[0][1], 1)
    rate = per_step / warm
    print(f"CPU: {cpu_name()} · torch threads {torch.get_num_threads()}")
    print("| model | steps | tokens/step | training tokens/s | minutes per 10,000 tokens |")
    print("|---|--:|--:|--:|--:|")
    print(
        f"| {loaded.name} | {run.steps} | {per_step:.0f} | {rate:.0f} | {10_000 / rate / 60:.1f} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
