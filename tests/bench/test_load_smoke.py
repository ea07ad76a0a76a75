"""The load test at a small size (20 commands from 5 members, tiny model): every interaction
is acknowledged, answered exactly once, never with silence or an apology. Timings are the
bench's business (python -m bench.load), not a test's."""

from __future__ import annotations

from pathlib import Path

from bench.load import Shape, run_level
from bench.load_outcomes import ERROR, REFUSED, SILENCE


async def test_a_small_load_is_answered_once_each_and_never_with_silence(
    tiny_gpt2_dir: Path,
) -> None:
    result = await run_level(
        Shape(level=1, commands=20, users=5, bursts=2, gap=1.0),
        str(tiny_gpt2_dir),
        silence_after=60,
    )
    assert len(result.settled) >= 20
    for sent, settled in result.settled:
        where = f"{sent.kind} by {sent.user}: {settled.outcome} {settled.text!r}"
        assert settled.callbacks == settled.answered == 1, where
        assert settled.outcome not in (SILENCE, ERROR, REFUSED), where
    assert result.heartbeat_warnings == []
    assert result.bot_errors == []
