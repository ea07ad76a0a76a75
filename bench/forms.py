"""Benchmark form-true poems: constrained decoding against raw writing, in one run.

    python -m bench.forms            # bundled SmolLM2, 50 topics x 2 seeds, haiku + limerick
    python -m bench.forms --quick    # 10 topics x 1 seed
    python -m bench.forms --model /path/to/model --topics 20 --seeds 1

For each form, the same requests (topic, seed, default settings) are written twice: raw (the
prompt and stop rule alone, as before) and constrained (the form held in decoding). Reported:
how many keep the form by Inkwell's checker and by an independent CMUdict count (first
pronunciation only, this file's own code), degenerate candidates, non-words, the p50 time of one
piece written alone, and tokens/s with 8 requests at a time. Poems go to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.__main__ import cache_dir, machine  # noqa: E402
from bot import forms  # noqa: E402
from bot.config import GenerationSettings, ModelSettings  # noqa: E402
from bot.forms import Form, PieceSpec, PoemForm  # noqa: E402
from bot.forms.checker import check  # noqa: E402
from bot.forms.constraint import warm_up  # noqa: E402
from bot.forms.degeneracy import degeneracy  # noqa: E402
from bot.forms.lexicon import is_known  # noqa: E402
from bot.forms.pronounce import dictionary_path, words_of  # noqa: E402
from bot.generation.service import GenerationService  # noqa: E402
from bot.generation.types import FinishReason, SamplingParams  # noqa: E402
from bot.writing.pieces import WritingService  # noqa: E402

TOPICS = (
    "the sea at night", "autumn rain", "a lost key", "my grandmother's kitchen", "the first snow",
    "a city bus at dawn", "an old dog", "the moon", "a broken umbrella", "summer thunder",
    "a lighthouse", "morning coffee", "a paper boat", "the last train home", "a garden in spring",
    "an empty theatre", "a fox in the field", "the smell of bread", "a quiet library",
    "falling leaves", "a mountain lake", "the desert wind", "a candle", "a forgotten letter",
    "the harbour", "a cat on a windowsill", "fireflies", "a bicycle", "the river in winter",
    "a thunderstorm", "a wedding", "an astronaut", "a lemon tree", "the market on Sunday",
    "a clock that stopped", "a kite", "a birthday", "the owl", "fog on the hills",
    "a violin", "the school bell", "a spider's web", "a shipwreck", "the first day of school",
    "a pot of tea", "a rainbow", "a frozen pond", "a village fair", "a snail", "the stars",
)  # fmt: skip
FORMS = (PoemForm.HAIKU, PoemForm.LIMERICK)
CONCURRENCY = 8
LATENCY_PIECES = 8


# --- an independent count: the raw CMUdict file, first pronunciation, nothing else ----------


def load_cmudict() -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    for line in dictionary_path().read_bytes().decode("latin-1").splitlines():
        if not line.startswith(";;;"):
            word, _, phones = line.partition("  ")
            entries.setdefault(word.split("(")[0].lower(), []).append(phones)
    return entries


def independent_counts(cmu: dict[str, list[str]], text: str) -> list[int | None]:
    """Syllables per line by the first CMUdict pronunciation; None where a word is missing."""
    counts: list[int | None] = []
    for line in (raw for raw in text.split("\n") if raw.strip()):
        total: int | None = 0
        for word in words_of(line):
            phones = cmu.get(word.lower().replace("\u2019", "'"))
            if not phones or total is None:
                total = None
                continue
            total += sum(phone[-1].isdigit() for phone in phones[0].split())
        counts.append(total)
    return counts


def rhyming_part(phones: str) -> str:
    parts = phones.split()
    for index in range(len(parts) - 1, -1, -1):
        if parts[index][-1] in "12":
            return " ".join(parts[index:])
    return phones


def independent_rhyme(cmu: dict[str, list[str]], first: str, second: str) -> bool:
    a, b = cmu.get(first.lower()), cmu.get(second.lower())
    if not a or not b or first.lower() == second.lower():
        return False
    return bool({rhyming_part(p) for p in a} & {rhyming_part(p) for p in b})


def independent_pass(cmu: dict[str, list[str]], poem_form: PoemForm, text: str) -> bool:
    counts = independent_counts(cmu, text)
    if poem_form is PoemForm.HAIKU:
        return counts == [5, 7, 5]
    lines = [line for line in text.split("\n") if line.strip()]
    if len(lines) != 5 or None in counts:
        return False
    ends = [words_of(line)[-1] if words_of(line) else "" for line in lines]
    rhymed = (
        independent_rhyme(cmu, ends[0], ends[1])
        and independent_rhyme(cmu, ends[0], ends[4])
        and independent_rhyme(cmu, ends[2], ends[3])
    )
    long_ok = all(7 <= counts[i] <= 11 for i in (0, 1, 4))  # type: ignore[operator]
    short_ok = all(4 <= counts[i] <= 7 for i in (2, 3))  # type: ignore[operator]
    longer = min(counts[i] for i in (0, 1, 4)) > max(counts[i] for i in (2, 3))  # type: ignore[type-var]
    return rhymed and long_ok and short_ok and longer


# --- writing ----------------------------------------------------------------------------------


async def write(
    service: GenerationService, writing: WritingService, spec: PieceSpec, seed: int, held: bool
) -> dict:
    request = writing.request_for(spec, SamplingParams(seed=seed))
    if not held:
        request = dataclasses.replace(request, constraint=None)
    result = await service.generate(request)
    hit_limit = result.finish_reason is FinishReason.LENGTH
    text = forms.finish(spec, result.text, hit_length_limit=hit_limit)
    return {"text": text, "tokens": result.new_tokens, "seconds": result.seconds}


async def run_mode(
    service: GenerationService, poem_form: PoemForm, held: bool, topics: list[str], seeds: int
) -> dict:
    writing = WritingService(service)
    jobs = [(topic, seed) for topic in topics for seed in range(seeds)]
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(topic: str, seed: int) -> dict:
        async with gate:
            spec = PieceSpec(Form.POEM, topic, poem_form=poem_form)
            return {"topic": topic, "seed": seed} | await write(service, writing, spec, seed, held)

    started = time.perf_counter()
    pieces = await asyncio.gather(*(one(topic, seed) for topic, seed in jobs))
    wall = time.perf_counter() - started
    alone = []
    for topic in topics[:LATENCY_PIECES]:  # one at a time: the time a user waits
        spec = PieceSpec(Form.POEM, topic, poem_form=poem_form)
        alone.append((await write(service, writing, spec, 1000, held))["seconds"])
    return {"pieces": pieces, "wall": wall, "alone": alone}


def summarise(cmu: dict[str, list[str]], poem_form: PoemForm, run: dict) -> dict:
    pieces = run["pieces"]
    words = [w for p in pieces for w in words_of(p["text"])]
    degenerate = [degeneracy(p["text"]) for p in pieces]
    return {
        "n": len(pieces),
        "checker": sum(check(poem_form, p["text"]).passes for p in pieces),
        "independent": sum(independent_pass(cmu, poem_form, p["text"]) for p in pieces),
        "loops": sum(d.loop for d in degenerate),
        "degenerate": sum(d.degenerate for d in degenerate),
        "non_words": sum(not is_known(w) for w in words) / max(1, len(words)),
        "p50": statistics.median(run["alone"]),
        "tok_s": sum(p["tokens"] for p in pieces) / run["wall"],
    }


def table(rows: list[tuple[str, str, dict]]) -> str:
    lines = [
        "| form | decoding | keeps form (checker) | keeps form (CMUdict) | loops | degenerate "
        "| non-words | p50 alone | tok/s at 8 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for form, mode, s in rows:
        n = s["n"]
        lines.append(
            f"| {form} | {mode} | {s['checker']}/{n} ({s['checker'] / n:.0%}) "
            f"| {s['independent']}/{n} ({s['independent'] / n:.0%}) | {s['loops']} "
            f"| {s['degenerate']} | {s['non_words']:.1%} | {s['p50']:.1f} s | {s['tok_s']:.0f} |"
        )
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> None:
    settings = GenerationSettings(max_batch_size=CONCURRENCY, max_queue=256)
    service = GenerationService(
        ModelSettings(name=args.model, cache_dir=str(cache_dir())), settings
    )
    await service.start()
    await asyncio.to_thread(warm_up)  # as the Discord cog does at start
    cmu = load_cmudict()
    topics = list(TOPICS[: args.topics])
    rows, poems = [], {}
    started = time.perf_counter()
    try:
        for poem_form in FORMS:
            for held in (False, True):
                mode = "constrained" if held else "raw"
                print(f"... {poem_form.value} / {mode}", file=sys.stderr, flush=True)
                run = await run_mode(service, poem_form, held, topics, args.seeds)
                rows.append((poem_form.value, mode, summarise(cmu, poem_form, run)))
                poems[f"{poem_form.value}/{mode}"] = run["pieces"]
    finally:
        await service.close()
    took = time.perf_counter() - started
    print(
        f"\nMachine: {machine()}; model {service_name(args.model)}; {len(topics)} topics x ", end=""
    )
    print(f"{args.seeds} seed(s), default sampling; took {took:.0f} s\n")
    print(table(rows))
    out = HERE / "results" / time.strftime("forms-%Y%m%d-%H%M%S.json")
    out.parent.mkdir(exist_ok=True)
    summary = [{"form": f, "mode": m, **s} for f, m, s in rows]
    out.write_text(json.dumps({"machine": machine(), "rows": summary, "poems": poems}, indent=1))
    print(f"\nJSON: {out}")


def service_name(model: str) -> str:
    return "SmolLM2-135M-Instruct (bundled)" if model == "bundled" else model


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.forms", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--model", default="bundled")
    parser.add_argument("--topics", type=int, default=len(TOPICS))
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="10 topics x 1 seed")
    args = parser.parse_args()
    if args.quick:
        args.topics, args.seeds = 10, 1
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
