"""Train a voice end to end: split the corpus, measure, train within the budget, measure
again, and save the adapter with its card. Runs on the caller's thread (the CLI's)."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.generation.loading import LoadedModel
from bot.storage.voices import CorpusText
from bot.voice.evaluation import sample_poems
from bot.voice.training import (
    CHECKPOINT_DIR,
    ProgressCallback,
    TrainingPlan,
    TrainingRun,
    perplexity,
    plan_dict,
    save_adapter,
    split_corpus,
    train,
    with_adapter,
)

FINGERPRINT_FILE = "corpus.sha256"


@dataclass(frozen=True)
class VoiceReport:
    """What a training run made, and how the adapter measured."""

    directory: Path
    authors: int
    pieces: int
    run: TrainingRun
    perplexity_before: float
    perplexity_after: float
    samples_before: list[str]
    samples_after: list[str]
    card: dict[str, Any]


def corpus_fingerprint(texts: Sequence[str], plan: TrainingPlan, model: str) -> str:
    """Names the run: a checkpoint is resumed only for the same texts, plan and model."""
    digest = hashlib.sha256()
    for part in [model, json.dumps(plan_dict(plan), sort_keys=True), *texts]:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _prepare(directory: Path, fingerprint: str) -> bool:
    """Make ``directory`` ready; True when an interrupted run of this same corpus is there to
    resume. A checkpoint of other texts (a member withdrew since) is thrown away."""
    directory.mkdir(parents=True, exist_ok=True)
    marker = directory / FINGERPRINT_FILE
    checkpoint = directory / CHECKPOINT_DIR
    if marker.exists() and marker.read_text() == fingerprint and checkpoint.exists():
        return True
    shutil.rmtree(checkpoint, ignore_errors=True)
    marker.write_text(fingerprint)
    return False


def train_voice(
    loaded: LoadedModel,
    texts: Sequence[CorpusText],
    directory: Path,
    plan: TrainingPlan,
    *,
    built_at: datetime,
    source: str,
    progress: ProgressCallback | None = None,
) -> VoiceReport:
    """Train an adapter on ``texts`` into ``directory`` and write its card."""
    train_texts, held_out = split_corpus(
        [text.text for text in texts], held_out_fraction=plan.held_out_fraction, seed=plan.seed
    )
    _prepare(directory, corpus_fingerprint(train_texts, plan, loaded.name))
    tokenizer = loaded.tokenizer
    model = with_adapter(loaded.model, plan)
    with model.disable_adapter():
        before = perplexity(model, tokenizer, held_out, plan.block_tokens)
        samples_before = sample_poems(model, tokenizer, chat=loaded.chat)
    run = train(model, tokenizer, train_texts, directory, plan, progress=progress)
    after = perplexity(model, tokenizer, held_out, plan.block_tokens)
    samples_after = sample_poems(model, tokenizer, chat=loaded.chat)
    authors = frozenset(author for text in texts for author in text.author_ids)
    card = {
        "base_model": loaded.name,
        "source": source,
        "authors": len(authors),
        "pieces": len(texts),
        "held_out": len(held_out),
        "built_at": built_at.isoformat(),
        "steps": run.steps,
        "stopped_by": run.stopped_by,
        "train_tokens_per_second": round(run.tokens_per_second, 1),
        "perplexity_before": round(before, 3),
        "perplexity_after": round(after, 3),
        "samples_before": samples_before,
        "samples_after": samples_after,
        "plan": plan_dict(plan),
    }
    save_adapter(model, directory, card)
    # Finished: a later run with the same name starts afresh instead of resuming this one.
    shutil.rmtree(directory / CHECKPOINT_DIR, ignore_errors=True)
    (directory / FINGERPRINT_FILE).unlink(missing_ok=True)
    return VoiceReport(
        directory=directory,
        authors=len(authors),
        pieces=len(texts),
        run=run,
        perplexity_before=before,
        perplexity_after=after,
        samples_before=samples_before,
        samples_after=samples_after,
        card=card,
    )
