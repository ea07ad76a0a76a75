"""Import torch once, with the process settings that must be in place before it loads.

OpenMP threads wait between parallel regions. Spinning without end collapses throughput as soon
as anything else wants the CPU (measured here: 2 s -> 5.6 s per reply on 2 cores), but going
to sleep at once costs a wake-up per region: a decoding step of the fast engine has ~120 of
them, and with sleeping threads its products took 16 ms instead of 7 (two threads did no better
than one). A short spin (about 0.1 ms), then sleep, keeps the step fast and frees the core soon
after the work stops.
"""

from __future__ import annotations

import os

if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "100000")
# The hub's progress bars and telemetry have no place in a bot's logs.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import torch

__all__ = ["torch"]
