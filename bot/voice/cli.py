"""`python -m bot train`: a guild's voice (or a corpus file's) as a LoRA adapter.

It shows who consented before anything trains, a progress line while it trains, and the
before-and-after at the end; Ctrl-C keeps the last checkpoint, and the same command resumes.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bot.config import Settings
from bot.errors import InvalidRequest
from bot.storage.voices import SOURCES, Corpus, CorpusText
from bot.voice.corpus_file import read_corpus, write_corpus
from bot.voice.training import Progress, TrainingPlan

ADAPTER_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
CORPUS_FILE = "corpus.jsonl"


def add_train_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """`train`'s arguments."""
    train = commands.add_parser(
        "train",
        help="train a community's voice (a LoRA adapter) on what its members chose to share",
        description="Train a LoRA adapter on the current model (model.name) from a guild's "
        "anthology, daily submissions and starred pieces, by members who allowed it "
        "(/privacy training allow), or from a JSON Lines file. Stops at --max-steps or "
        "--max-minutes, checkpoints as it goes (run it again to resume), and ends with "
        "perplexity and sample poems before and after, on a held-out tenth.",
    )
    where = train.add_mutually_exclusive_group(required=True)
    where.add_argument("--guild", type=int, metavar="ID", help="the guild whose texts to use")
    where.add_argument("--file", type=Path, help='a corpus: JSON Lines with a "text" on each')
    train.add_argument(
        "--source",
        default=",".join(SOURCES),
        help=f"with --guild: which texts, comma-separated (default: {','.join(SOURCES)})",
    )
    train.add_argument("--out", required=True, metavar="NAME", help="the adapter's name")
    train.add_argument("--max-steps", type=int, default=TrainingPlan.max_steps)
    train.add_argument("--max-minutes", type=float, default=TrainingPlan.max_minutes)
    train.add_argument(
        "--dry-run",
        action="store_true",
        help="show the counts and write the corpus file into the adapter's folder, then stop",
    )


def adapter_name(text: str) -> str:
    """A valid adapter name, or InvalidRequest saying what one looks like."""
    if not ADAPTER_NAME.fullmatch(text):
        raise InvalidRequest(
            f"{text!r} can't be an adapter's name: use 1-40 lower-case letters, digits, "
            "'-' or '_', starting with a letter or digit."
        )
    return text


def _sources(text: str) -> list[str]:
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in SOURCES]
    if unknown or not chosen:
        raise InvalidRequest(f"--source takes {', '.join(SOURCES)}; got {text!r}.")
    return chosen


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def voices_folder(settings: Settings) -> Path:
    """Where adapters are kept."""
    return Path(settings.voice.adapters_dir)


async def _guild_corpus(settings: Settings, guild_id: int, sources: list[str]) -> Corpus:
    from bot.storage import Database

    database = await Database.open(settings.storage.location())
    try:
        return await database.voices.corpus(guild_id, sources)
    finally:
        await database.close()


async def _record(
    settings: Settings,
    name: str,
    guild_id: int | None,
    texts: list[CorpusText],
    card: dict[str, Any],
) -> None:
    from bot.storage import Database

    database = await Database.open(settings.storage.location())
    try:
        await database.voices.record_adapter(
            name=name,
            guild_id=guild_id,
            base_model=str(card["base_model"]),
            author_ids=[author for text in texts for author in text.author_ids],
            pieces=len(texts),
            card=card,
        )
    finally:
        await database.close()


class ProgressLine:
    """One line, rewritten in place on a terminal, every tenth of the run elsewhere."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._tty = out.isatty()

    def __call__(self, progress: Progress) -> None:
        done = progress.step / progress.max_steps
        width = 24
        bar = "█" * round(done * width) + "░" * (width - round(done * width))
        left = time.strftime("%M:%S", time.gmtime(progress.seconds_left))
        line = (
            f"step {progress.step}/{progress.max_steps} {bar} loss {progress.loss:.3f}"
            f" · {progress.tokens_per_second:.0f} tok/s · {left} left"
        )
        every = max(1, progress.max_steps // 10)
        if self._tty:
            self._out.write("\r" + line)
        elif progress.step % every == 0 or progress.step == progress.max_steps:
            self._out.write(line + "\n")
        self._out.flush()


def run_train(args: argparse.Namespace, settings: Settings, out: TextIO | None = None) -> int:
    """The `train` command; returns the exit code."""
    out = out or sys.stdout
    name = adapter_name(args.out)
    if args.max_steps < 1 or args.max_minutes <= 0:
        raise InvalidRequest("--max-steps must be at least 1 and --max-minutes above 0.")
    directory = voices_folder(settings) / name
    if args.file is not None:
        texts = read_corpus(args.file)
        source = f"file {args.file.name}"
        print(f"Corpus {args.file}: {len(texts)} texts.", file=out)
    else:
        sources = _sources(args.source)
        corpus = asyncio.run(_guild_corpus(settings, args.guild, sources))
        texts = list(corpus.texts)
        source = f"guild {args.guild}: {', '.join(sources)}"
        print(
            f"Corpus of guild {args.guild} ({', '.join(sources)}): {_count(len(texts), 'piece')} "
            f"by {_count(len(corpus.authors), 'consenting author')}; {corpus.left_out} left out "
            "because "
            "an author has not allowed training (/privacy training allow).",
            file=out,
        )
    directory.mkdir(parents=True, exist_ok=True)
    corpus_path = directory / CORPUS_FILE
    write_corpus(corpus_path, texts)
    if args.dry_run:
        print(f"Dry run: the corpus is in {corpus_path}; nothing was trained.", file=out)
        return 0
    plan = TrainingPlan(max_steps=args.max_steps, max_minutes=args.max_minutes)
    from bot.generation.loading import load_model
    from bot.voice.trainer import train_voice

    print(f"Loading {settings.model.name} …", file=out)
    loaded = load_model(
        settings.model.name,
        cache_dir=settings.model.resolved_cache_dir(),
        dtype="float32",
        onednn=False,
    )
    built_at = datetime.now(UTC)
    try:
        report = train_voice(
            loaded,
            texts,
            directory,
            plan,
            built_at=built_at,
            source=source,
            progress=ProgressLine(out),
        )
    except KeyboardInterrupt:
        print(f"\nStopped. Run the same command again to resume from {directory}.", file=out)
        return 130
    finally:
        # The corpus names who wrote what: it is kept only while the adapter trains.
        corpus_path.unlink(missing_ok=True)
    asyncio.run(_record(settings, name, args.guild, texts, report.card))
    print(
        f"\nTrained {name} in {report.run.seconds:.0f} s ({report.run.steps} steps, stopped "
        f"by {report.run.stopped_by}, {report.run.tokens_per_second:.0f} tokens/s).\n"
        f"Perplexity on the held-out tenth: {report.perplexity_before:.2f} before, "
        f"{report.perplexity_after:.2f} after.\n"
        f"Built from {_count(report.authors, 'author')} as of {built_at:%Y-%m-%d}. "
        f"Saved in {directory}.",
        file=out,
    )
    for seed, (before, after) in enumerate(
        zip(report.samples_before, report.samples_after, strict=True), 1
    ):
        print(f"\n— sample {seed}, before —\n{before}\n— sample {seed}, after —\n{after}", file=out)
    return 0
