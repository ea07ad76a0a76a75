"""A prepared request on its way through an engine (no torch here, so the CTranslate2 engine
can run without importing it)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.generation.types import GenerationUpdate, ResolvedSampling, StopRule

Sink = Callable[[GenerationUpdate | BaseException], None]


@dataclass
class Job:
    """What an engine needs to write one piece. ``sink`` must be thread-safe.

    ``ignore_eos`` makes the engine write exactly ``max_new_tokens`` (benchmarks use it to
    compare engines on the same amount of work); users never set it.
    """

    input_ids: list[int]
    sampling: ResolvedSampling
    stop: StopRule | None
    sink: Sink
    ignore_eos: bool = False
    cancelled: threading.Event = field(default_factory=threading.Event)
    submitted_at: float = field(default_factory=time.perf_counter)
