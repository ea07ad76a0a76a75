"""Import torch once, with the process settings that must be in place before it loads.

OpenMP threads that spin while waiting collapse throughput as soon as anything else wants the
CPU (measured here: 2 s -> 5.6 s per reply on 2 cores), so they are told to sleep instead.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# The hub's progress bars and telemetry have no place in a bot's logs.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import torch

__all__ = ["torch"]
