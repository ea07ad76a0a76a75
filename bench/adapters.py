"""What a voice (LoRA adapter) costs while writing, against the base model in the same run.

    python -m bench.adapters                  # the bundled SmolLM2, fast engine (~3-5 min)
    python -m bench.adapters --model tiny     # a tiny random GPT-2, seconds
    python -m bench.adapters --engine torch --tokens 64 --reps 3

The adapter is trained here for a few steps with ``bot.voice.training`` (rank 8, every linear
layer, as ``python -m bot train`` makes them): its numbers are meaningless, its shapes and cost
are real. Every request writes exactly ``--tokens`` tokens (the end token is ignored).
"Grouped" writes the same 4 base + 4 voiced requests as two batches one after the other, the
alternative to mixing them in one batch.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.worker import PROMPTS, percentile

VOICE = "bench-voice"
CORPUS = [
    f"The {thing} of the harbour sings at dusk, and the gulls answer {n} times."
    for n, thing in enumerate(["lamp", "bell", "rope", "tide", "boat", "stone", "net", "mast"])
]


def model_name(model: str, scratch: Path) -> str:
    if model != "tiny":
        return model
    from tests.tiny_models import build_tiny_gpt2

    return str(build_tiny_gpt2(scratch / "tiny-gpt2"))


def train_voice(name: str, cache: Path, voices: Path, steps: int) -> float:
    """Train and save the benchmark's adapter; returns the seconds it took."""
    from bot.generation.loading import load_model
    from bot.voice.training import TrainingPlan, save_adapter, train, with_adapter

    started = time.perf_counter()
    loaded = load_model(name, cache_dir=cache, dtype="float32", onednn=False)
    plan = TrainingPlan(max_steps=steps, learning_rate=1e-3, batch_size=2, block_tokens=32)
    model = with_adapter(loaded.model, plan)
    train(model, loaded.tokenizer, CORPUS, voices / "run", plan)
    card = {"purpose": f"benchmark only: {steps} training steps on 8 made-up lines"}
    save_adapter(model, voices / VOICE, card)
    return time.perf_counter() - started


async def start_service(name: str, engine: str, cache: Path, voices: Path, threads: int) -> Any:
    from bot.config import GenerationSettings, ModelSettings, VoiceSettings
    from bot.generation.service import GenerationService

    service = GenerationService(
        ModelSettings(name=name, engine=engine, cache_dir=str(cache), threads=threads),
        GenerationSettings(max_batch_size=8, max_queue=64),
        VoiceSettings(adapters_dir=str(voices)),
    )
    await service.start()
    original = service.prepare

    def prepare(request: Any) -> Any:
        job = original(request)
        job.ignore_eos = True  # the same amount of work for every row
        return job

    service.prepare = prepare  # type: ignore[method-assign]
    return service


async def one(
    service: Any, index: int, adapter: str | None, tokens: int, seed: int
) -> tuple[int, float]:
    from bot.generation.types import ChatMessage, GenerationRequest, SamplingParams

    sampling = SamplingParams(
        temperature=0.8, top_p=0.9, top_k=50, max_new_tokens=tokens, seed=seed
    )
    prompt = PROMPTS[index % len(PROMPTS)]
    if service.info.chat:
        request = GenerationRequest(
            messages=(ChatMessage("user", prompt),), sampling=sampling, adapter=adapter
        )
    else:
        request = GenerationRequest(prompt=prompt, sampling=sampling, adapter=adapter)
    started = time.perf_counter()
    result = await service.generate(request)
    return result.new_tokens, time.perf_counter() - started


Scenario = Callable[[Any, int, int], Awaitable[tuple[float, float]]]


def together(adapters: list[str | None]) -> Scenario:
    """All rows submitted at once (one batch)."""

    async def run(service: Any, tokens: int, rep: int) -> tuple[float, float]:
        started = time.perf_counter()
        done = await asyncio.gather(
            *(one(service, i, a, tokens, 100 * rep + i) for i, a in enumerate(adapters))
        )
        wall = time.perf_counter() - started
        return sum(n for n, _ in done) / wall, percentile([s for _, s in done], 50)

    return run


def grouped(groups: list[list[str | None]]) -> Scenario:
    """Each group as its own batch, one after the other; latency counts from the start."""

    async def run(service: Any, tokens: int, rep: int) -> tuple[float, float]:
        started = time.perf_counter()
        tokens_done, latencies = 0, []
        for group in groups:
            done = await asyncio.gather(
                *(one(service, i, a, tokens, 100 * rep + i) for i, a in enumerate(group))
            )
            tokens_done += sum(n for n, _ in done)
            latencies += [time.perf_counter() - started for _ in done]
        wall = time.perf_counter() - started
        return tokens_done / wall, percentile(latencies, 50)

    return run


SCENARIOS: list[tuple[str, str | None, Scenario]] = [
    ("1 base", None, together([None])),
    ("1 voiced", "1 base", together([VOICE])),
    ("8 base", None, together([None] * 8)),
    ("8 voiced", "8 base", together([VOICE] * 8)),
    ("8 mixed (4 base + 4 voiced, one batch)", "8 base", together([None, VOICE] * 4)),
    ("8 grouped (4 base, then 4 voiced)", "8 base", grouped([[None] * 4, [VOICE] * 4])),
]


async def measure(service: Any, tokens: int, reps: int) -> list[tuple[str, float, float, str]]:
    await together([None, VOICE])(service, 4, 99)  # warm-up: the adapter is read here
    rows: list[tuple[str, float, float, str]] = []
    baseline: dict[str, float] = {}
    for label, against, scenario in SCENARIOS:
        # Reps interleave with nothing else; the median of each is reported.
        runs = [await scenario(service, tokens, rep) for rep in range(reps)]
        speed = statistics.median(r[0] for r in runs)
        p50 = statistics.median(r[1] for r in runs)
        baseline[label] = speed
        slower = "" if against is None else f"{baseline[against] / speed:.2f}x"
        rows.append((label, speed, p50, slower))
    return rows


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="inkwell-bench-") as scratch_dir:
        scratch = Path(scratch_dir)
        cache = Path(args.cache_dir) if args.cache_dir else _default_cache()
        voices = scratch / "voices"
        name = model_name(args.model, scratch)
        trained = train_voice(name, cache, voices, args.train_steps)
        service = await start_service(name, args.engine, cache, voices, args.threads)
        try:
            rows = await measure(service, args.tokens, args.reps)
            dtype = service.info.dtype
        finally:
            await service.close()
    print(
        f"\nModel {args.model} ({dtype}), engine {args.engine}, {args.tokens} tokens a request, "
        f"median of {args.reps}; adapter rank 8 on every linear layer "
        f"(trained {args.train_steps} steps in {trained:.0f} s)\n"
    )
    print("| Requests | tokens/s | p50 latency (s) | slower than base |")
    print("|---|---:|---:|---:|")
    for label, speed, p50, slower in rows:
        print(f"| {label} | {speed:.1f} | {p50:.2f} | {slower} |")


def _default_cache() -> Path:
    from bot.config import ModelSettings

    return ModelSettings().resolved_cache_dir()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bundled", help="'bundled', 'tiny' or a model name")
    parser.add_argument("--engine", default="fast", choices=["fast", "torch"])
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--train-steps", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, default=0, help="torch threads; 1 holds up best on a busy machine"
    )
    parser.add_argument("--cache-dir", default="", help="converted models; '' = the usual one")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
