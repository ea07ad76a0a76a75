"""Train a LoRA adapter (``peft``) on a community's texts, on the CPU, within a budget.

The texts are split once, by a seeded shuffle, into a training set and a held-out tenth; the
training set is packed into fixed-length blocks of token ids, each text ending with the
model's end token so the adapter learns where a piece stops. Training stops at whichever
budget comes first (steps or minutes) and checkpoints every few steps: a run that is cut short
resumes from its last checkpoint with the same data order, because the order is a function of
the seed and the step alone.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bot.errors import InvalidRequest

CHECKPOINT_DIR = "checkpoint"
STATE_FILE = "trainer_state.json"
OPTIMIZER_FILE = "optimizer.pt"
MIN_TEXTS = 4  # fewer leaves no held-out text to measure the adapter on


@dataclass(frozen=True)
class TrainingPlan:
    """How long and how hard to train. ``max_steps`` and ``max_minutes`` are budgets: the
    first one reached ends the run."""

    max_steps: int = 200
    max_minutes: float = 30.0
    learning_rate: float = 3e-4
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.05
    batch_size: int = 4
    block_tokens: int = 128
    held_out_fraction: float = 0.1
    checkpoint_every: int = 20
    seed: int = 0


@dataclass(frozen=True)
class Progress:
    """One training step, for a progress bar."""

    step: int
    max_steps: int
    loss: float
    tokens_per_second: float
    seconds_left: float


@dataclass(frozen=True)
class TrainingRun:
    """What a finished (or budget-stopped) run did."""

    steps: int
    resumed_from: int
    train_tokens: int
    seconds: float
    tokens_per_second: float
    stopped_by: str  # "steps" or "minutes"


ProgressCallback = Callable[[Progress], None]


def split_corpus(
    texts: Sequence[str], *, held_out_fraction: float, seed: int
) -> tuple[list[str], list[str]]:
    """(training texts, held-out texts): a seeded shuffle, at least one text held out."""
    usable = [text.strip() for text in texts if text.strip()]
    if len(usable) < MIN_TEXTS:
        raise InvalidRequest(
            f"The corpus has {len(usable)} usable text(s); training needs at least {MIN_TEXTS}."
        )
    order = list(range(len(usable)))
    random.Random(seed).shuffle(order)
    held = max(1, round(len(usable) * held_out_fraction))
    held_ids = set(order[:held])
    train = [text for i, text in enumerate(usable) if i not in held_ids]
    return train, [usable[i] for i in sorted(held_ids)]


def token_blocks(tokenizer: Any, texts: Sequence[str], block_tokens: int) -> list[list[int]]:
    """The texts as one stream of ids (each followed by the end token), cut into blocks of
    ``block_tokens``; a short tail becomes its own, shorter block rather than being lost."""
    end = tokenizer.eos_token_id
    stream: list[int] = []
    for text in texts:
        stream.extend(tokenizer(text, add_special_tokens=False)["input_ids"])
        if end is not None:
            stream.append(end)
    blocks = [stream[i : i + block_tokens] for i in range(0, len(stream), block_tokens)]
    return [block for block in blocks if len(block) > 1]


def perplexity(model: Any, tokenizer: Any, texts: Sequence[str], block_tokens: int) -> float:
    """exp(mean next-token loss) over ``texts``, weighted by tokens."""
    import torch

    total_loss, total_tokens = 0.0, 0
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for block in token_blocks(tokenizer, texts, block_tokens):
            ids = torch.tensor([block])
            loss = model(input_ids=ids, labels=ids).loss
            predicted = len(block) - 1
            total_loss += float(loss) * predicted
            total_tokens += predicted
    model.train(was_training)
    if total_tokens == 0:
        raise InvalidRequest("The held-out texts have no tokens to measure.")
    return math.exp(total_loss / total_tokens)


def with_adapter(model: Any, plan: TrainingPlan) -> Any:
    """``model`` wrapped in a fresh LoRA adapter on every linear layer but the output head:
    attention alone (peft's default) barely moved a small model's perplexity, as QLoRA's
    authors found too."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(plan.seed)  # the adapter's starting weights, so a seed repeats a run
    config = LoraConfig(
        r=plan.rank,
        lora_alpha=plan.alpha,
        lora_dropout=plan.dropout,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
        fan_in_fan_out=model.config.model_type == "gpt2",  # GPT-2's Conv1D stores W transposed
    )
    return get_peft_model(model, config)


def _batch_order(count: int, seed: int, epoch: int) -> list[int]:
    order = list(range(count))
    random.Random(seed * 1_000_003 + epoch).shuffle(order)
    return order


def _batch_at(blocks: list[list[int]], step: int, plan: TrainingPlan) -> list[list[int]]:
    """The blocks of step ``step``: a pure function of the step, so a resumed run trains on
    exactly what the uninterrupted one would have."""
    per_epoch = max(1, math.ceil(len(blocks) / plan.batch_size))
    epoch, index = divmod(step, per_epoch)
    order = _batch_order(len(blocks), plan.seed, epoch)
    chosen = order[index * plan.batch_size : (index + 1) * plan.batch_size]
    return [blocks[i] for i in chosen]


def _padded(batch: list[list[int]], pad_id: int) -> tuple[Any, Any, Any]:
    import torch

    width = max(len(block) for block in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, block in enumerate(batch):
        ids[row, : len(block)] = torch.tensor(block)
        mask[row, : len(block)] = 1
    labels = ids.masked_fill(mask == 0, -100)
    return ids, mask, labels


def train(
    peft_model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    out_dir: Path,
    plan: TrainingPlan,
    *,
    progress: ProgressCallback | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> TrainingRun:
    """Train ``peft_model``'s adapter on ``texts`` until a budget is spent, checkpointing to
    ``out_dir/checkpoint`` (and resuming from it when one is there)."""
    import torch

    blocks = token_blocks(tokenizer, texts, plan.block_tokens)
    if not blocks:
        raise InvalidRequest("The training texts have no tokens to learn from.")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    checkpoint = out_dir / CHECKPOINT_DIR
    # The weights first: loading them may swap the parameter objects the optimizer would hold.
    start_step = _resume_weights(peft_model, checkpoint)
    optimizer = torch.optim.AdamW(
        [p for p in peft_model.parameters() if p.requires_grad], lr=plan.learning_rate
    )
    if start_step:
        optimizer.load_state_dict(torch.load(checkpoint / OPTIMIZER_FILE, weights_only=True))
    peft_model.train()
    started = clock()
    deadline = started + plan.max_minutes * 60
    step, tokens, stopped_by = start_step, 0, "steps"
    while step < plan.max_steps:
        if clock() >= deadline:
            stopped_by = "minutes"
            break
        ids, mask, labels = _padded(_batch_at(blocks, step, plan), pad_id)
        # The model's own dropout draws from this: seeded by step, a resumed run draws alike.
        torch.manual_seed(plan.seed * 1_000_003 + step)
        loss = peft_model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        tokens += int(mask.sum())
        elapsed = max(clock() - started, 1e-9)
        if step % plan.checkpoint_every == 0:
            _save_checkpoint(peft_model, optimizer, checkpoint, step)
        if progress is not None:
            per_step = elapsed / (step - start_step)
            left = min((plan.max_steps - step) * per_step, max(deadline - clock(), 0.0))
            progress(Progress(step, plan.max_steps, loss.item(), tokens / elapsed, left))
    seconds = clock() - started
    _save_checkpoint(peft_model, optimizer, checkpoint, step)
    return TrainingRun(
        steps=step,
        resumed_from=start_step,
        train_tokens=tokens,
        seconds=seconds,
        tokens_per_second=tokens / seconds if seconds > 0 else 0.0,
        stopped_by=stopped_by,
    )


def _save_checkpoint(peft_model: Any, optimizer: Any, checkpoint: Path, step: int) -> None:
    """Write the checkpoint beside the old one, then swap, so a kill mid-write leaves the
    previous checkpoint whole."""
    import torch

    partial = checkpoint.with_name(checkpoint.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    peft_model.save_pretrained(partial)
    torch.save(optimizer.state_dict(), partial / OPTIMIZER_FILE)
    (partial / STATE_FILE).write_text(json.dumps({"step": step}))
    shutil.rmtree(checkpoint, ignore_errors=True)
    partial.rename(checkpoint)


def _resume_weights(peft_model: Any, checkpoint: Path) -> int:
    """Load the last checkpoint's adapter weights; the step to go on from (0 if none)."""
    state = checkpoint / STATE_FILE
    if not state.exists():
        return 0
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    set_peft_model_state_dict(peft_model, load_file(checkpoint / "adapter_model.safetensors"))
    return int(json.loads(state.read_text())["step"])


def save_adapter(peft_model: Any, directory: Path, card: dict[str, Any]) -> None:
    """The adapter's weights and config, plus its card (what it was built from, and how it
    measured), in ``directory``."""
    peft_model.save_pretrained(directory)
    (directory / "card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False))


def load_adapter(model: Any, directory: Path) -> Any:
    """``model`` with the adapter saved in ``directory``, for inference."""
    from peft import PeftModel

    return PeftModel.from_pretrained(model, directory).eval()


def plan_dict(plan: TrainingPlan) -> dict[str, Any]:
    """The plan, for the adapter's card."""
    return asdict(plan)
