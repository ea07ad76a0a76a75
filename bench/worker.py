"""One benchmark configuration in its own process, so its memory is measured alone.

Usage: python -m bench.worker MODEL ENGINE --concurrency 1,4,8 --reps 3 --tokens 64
Prints one JSON object on the last line of stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

PROMPTS = [
    "The autumn rain falls softly on the",
    "Write a short poem about the sea:",
    "Once upon a time, in a city of glass,",
    "The old lighthouse keeper said",
]


def rss_bytes():
    """Resident memory of this process now (Linux /proc; no extra dependency)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def peak_rss_mb():
    # VmHWM starts afresh at exec; ru_maxrss would carry the parent's peak over.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1e3
    return float("nan")


def percentile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[index]


class LagProbe:
    """A 10 ms ticker on the event loop; lag = how late each tick woke up."""

    def __init__(self):
        self.lags: list[float] = []
        self._task = None

    async def _tick(self):
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            self.lags.append(max(0.0, now - last - 0.01))
            last = now

    def __enter__(self):
        self._task = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *exc):
        self._task.cancel()


class PoolRunner:
    """A runner whose ``_generate(prompt, tokens, seed, first)`` runs on ``self.pool``, noting
    the time of its first token in ``first``."""

    pool: Any

    def _generate(self, prompt, tokens, seed, first):
        raise NotImplementedError

    async def request(self, prompt, tokens, seed):
        first: list[float] = []
        loop = asyncio.get_running_loop()
        new = await loop.run_in_executor(self.pool, self._generate, prompt, tokens, seed, first)
        return new, first[0] if first else None

    async def close(self):
        self.pool.shutdown()


class Naive(PoolRunner):
    """Each request calls HF ``model.generate()`` in a thread of a ThreadPoolExecutor(2)."""

    def __init__(self, model_dir: str):
        from concurrent.futures import ThreadPoolExecutor

        from transformers import AutoModelForCausalLM, AutoTokenizer

        from bot.generation.torch_setup import torch

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
        self.pool = ThreadPoolExecutor(2)
        self.chat = bool(getattr(self.tokenizer, "chat_template", None))

    def _generate(self, prompt, tokens, seed, first):
        from transformers.generation.streamers import BaseStreamer

        class FirstToken(BaseStreamer):
            calls = 0

            def put(self, value):
                self.calls += 1
                if self.calls == 2:  # the first call carries the prompt
                    first.append(time.perf_counter())

            def end(self):
                pass

        if self.chat:
            ids = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}],
                add_generation_prompt=True,
                return_tensors="pt",
                return_dict=True,
            )["input_ids"]
        else:
            ids = self.tokenizer(prompt, return_tensors="pt")["input_ids"]
        self.torch.manual_seed(seed)
        with self.torch.inference_mode():
            out = self.model.generate(
                ids,
                attention_mask=self.torch.ones_like(ids),
                do_sample=True,
                top_p=0.9,
                temperature=0.8,
                min_new_tokens=tokens,
                max_new_tokens=tokens,
                pad_token_id=self.tokenizer.eos_token_id,
                streamer=FirstToken(),
            )
        return out.shape[1] - ids.shape[1]


class LlamaCpp(PoolRunner):
    """llama.cpp (``llama-cpp-python``) on the bundled GGUF file: what a user would run
    instead (it is Ollama's engine). Its Python API writes one sequence at a time, so
    concurrent requests take turns on one thread, as they would through ``Llama`` in a bot."""

    def __init__(self, threads: int):
        from concurrent.futures import ThreadPoolExecutor

        from llama_cpp import Llama

        from bot.generation.loading import bundled_gguf_path

        cores = threads or os.cpu_count() or 1
        self.llm = Llama(
            model_path=str(bundled_gguf_path()),
            n_ctx=1024,
            n_threads=cores,
            n_threads_batch=cores,
            verbose=False,
        )
        # Every request writes exactly ``tokens`` tokens, as the other engines do.
        ends = {self.llm.token_eos(), *self.llm.tokenize(b"<|im_end|>", special=True)}
        self.no_end = {token: -1e9 for token in ends}
        self.pool = ThreadPoolExecutor(1)

    def _generate(self, prompt, tokens, seed, first):
        new = 0
        stream = self.llm.create_completion(
            prompt,
            max_tokens=tokens,
            temperature=0.8,
            top_p=0.9,
            top_k=50,
            seed=seed,
            logit_bias=self.no_end,
            stream=True,
        )
        for _chunk in stream:
            if not first:
                first.append(time.perf_counter())
            new += 1
        return new


class Service:
    """The real GenerationService; requests forced to ``tokens`` new tokens (EOS ignored)."""

    def __init__(self, model_dir: str, engine: str, threads: int):
        from bot.config import GenerationSettings, ModelSettings
        from bot.generation.service import GenerationService

        dtype = "bfloat16" if engine.endswith("-bf16") else "auto"
        name = engine.removesuffix("-bf16")
        settings = GenerationSettings(max_batch_size=16, max_queue=64)
        self.service = GenerationService(
            ModelSettings(name=model_dir, dtype=dtype, engine=name, threads=threads), settings
        )

    async def start(self):
        await self.service.start()
        original = self.service.prepare

        def prepare(request):
            job = original(request)
            job.ignore_eos = True
            return job

        self.service.prepare = prepare

    async def request(self, prompt, tokens, seed):
        from bot.generation.types import ChatMessage, GenerationRequest, SamplingParams

        sampling = SamplingParams(
            temperature=0.8, top_p=0.9, top_k=50, max_new_tokens=tokens, seed=seed
        )
        if self.service.info.chat:
            request = GenerationRequest(messages=(ChatMessage("user", prompt),), sampling=sampling)
        else:
            request = GenerationRequest(prompt=prompt, sampling=sampling)
        first = None
        async for update in self.service.stream(request):
            if first is None and (update.text or update.result):
                first = time.perf_counter()
            if update.result is not None:
                return update.result.new_tokens, first
        raise RuntimeError("no result")

    async def close(self):
        await self.service.close()


async def burst(runner, concurrency, tokens, rep):
    async def one(i):
        started = time.perf_counter()
        new, first = await runner.request(PROMPTS[i % len(PROMPTS)], tokens, seed=1000 * rep + i)
        done = time.perf_counter()
        return new, done - started, (first or done) - started

    with LagProbe() as probe:
        started = time.perf_counter()
        results = await asyncio.gather(*(one(i) for i in range(concurrency)))
        wall = time.perf_counter() - started
    return {
        "tokens_per_s": sum(r[0] for r in results) / wall,
        "new_tokens": sum(r[0] for r in results),
        "latency_p50": percentile([r[1] for r in results], 50),
        "latency_p95": percentile([r[1] for r in results], 95),
        "ttft_p50": percentile([r[2] for r in results], 50),
        "loop_lag_p99_ms": 1000 * percentile(probe.lags, 99),
    }


async def main_async(args):
    rss_start = rss_bytes()
    started = time.perf_counter()
    if args.engine == "naive":
        runner = Naive(args.model)
    elif args.engine == "llamacpp":
        runner = LlamaCpp(args.threads)
    else:
        runner = Service(args.model, args.engine, args.threads)
        await runner.start()
    load_s = time.perf_counter() - started
    rss_loaded = rss_bytes()
    await burst(runner, 2, 8, rep=99)  # warm-up: lazy initialisation, allocator pools
    out = {"engine": args.engine, "load_s": load_s, "levels": {}}
    for concurrency in args.concurrency:
        reps = [await burst(runner, concurrency, args.tokens, rep) for rep in range(args.reps)]
        out["levels"][str(concurrency)] = {
            key: statistics.median(r[key] for r in reps) for key in reps[0]
        } | {"reps": len(reps)}
    await runner.close()
    out["rss_start_mb"] = rss_start / 1e6
    out["rss_loaded_mb"] = rss_loaded / 1e6
    out["rss_end_mb"] = rss_bytes() / 1e6
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument(
        "engine",
        choices=["naive", "fast", "fast-bf16", "torch", "torch-bf16", "ctranslate2", "llamacpp"],
    )
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    print(json.dumps(asyncio.run(main_async(args))), flush=True)


if __name__ == "__main__":
    main()
