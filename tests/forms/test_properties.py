"""Properties that must hold for any output, checked on many seeded random outputs."""

from __future__ import annotations

import random

import pytest

from bot.forms import PieceSpec, finish, stable_prefix, stop_index
from bot.forms.patterns import PARTIAL_SPECIAL_TOKEN, SPECIAL_TOKEN
from tests.forms.fragments import random_output
from tests.forms.samples import ALL_SPECS

SEEDS = range(300)


def check_invariants(spec: PieceSpec, generated: str) -> None:
    """Everything that must hold for ``spec`` and any ``generated`` text."""
    cut = stop_index(spec, generated)
    assert cut is None or 0 <= cut <= len(generated)

    final = finish(spec, generated, hit_length_limit=True)
    whole = finish(spec, generated, hit_length_limit=False)
    preview = stable_prefix(spec, generated)

    # The streamed preview is a prefix of what the finished piece will be.
    assert final.startswith(preview.rstrip()), (generated, preview, final)

    for piece in (final, whole, preview):
        assert piece == piece.strip()
        assert SPECIAL_TOKEN.search(piece) is None
        assert "\r" not in piece
        assert "\n\n\n" not in piece
        assert all(line == line.rstrip() for line in piece.split("\n"))

    # Never empty while there was anything to show before the end-of-text token.
    special = SPECIAL_TOKEN.search(generated)
    before_end = generated if special is None else generated[: special.start()]
    before_end = PARTIAL_SPECIAL_TOKEN.sub("", before_end)
    if any(char.isalnum() for char in before_end):
        assert final, generated
        assert whole, generated


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda spec: spec.title())
def test_invariants_on_random_outputs(spec: PieceSpec) -> None:
    for seed in SEEDS:
        check_invariants(spec, random_output(random.Random(seed)))


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda spec: spec.title())
def test_invariants_on_every_prefix_of_a_stream(spec: PieceSpec) -> None:
    generated = random_output(random.Random(hash(spec.title()) % 1000), max_fragments=120)
    for end in range(len(generated) + 1):
        check_invariants(spec, generated[:end])
