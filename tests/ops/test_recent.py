"""The last hour for /stats: latency percentiles, tokens per second and errors, forgotten
after the window."""

from __future__ import annotations

from bot.ops.recent import RecentWindow, percentile


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_percentiles_rates_and_errors_over_the_window():
    clock = Clock()
    window = RecentWindow(3600.0, clock=clock)
    empty = window.summary()
    assert (empty.generations, empty.p50_seconds, empty.tokens_per_second) == (0, None, None)
    for seconds in range(1, 21):  # 1 s .. 20 s, 10 tokens each
        window.generation(float(seconds), 10)
    window.error()
    summary = window.summary()
    assert summary.generations == 20 and summary.errors == 1
    assert summary.p50_seconds == 10.0 and summary.p95_seconds == 19.0
    assert summary.tokens_per_second == 200 / sum(range(1, 21))

    clock.now += 1800
    window.generation(2.0, 40)
    clock.now += 1801  # the first twenty and the error are over an hour old
    summary = window.summary()
    assert (summary.generations, summary.errors) == (1, 0)
    assert summary.p50_seconds == summary.p95_seconds == 2.0
    assert summary.tokens_per_second == 20.0


def test_nearest_rank_percentile():
    assert percentile([5.0], 0.95) == 5.0
    assert percentile([1.0, 2.0], 0.5) == 1.0
    assert percentile([float(n) for n in range(1, 101)], 0.95) == 95.0
