"""The same invariants, explored by Hypothesis (skipped where it is not installed)."""

from __future__ import annotations

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from bot.forms import PieceSpec  # noqa: E402
from tests.forms.fragments import FRAGMENTS  # noqa: E402
from tests.forms.samples import ALL_SPECS  # noqa: E402
from tests.forms.test_properties import check_invariants  # noqa: E402

outputs = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=80).map(
    "".join
)


@settings(max_examples=300, deadline=None)
@given(spec=st.sampled_from(ALL_SPECS), generated=outputs)
def test_invariants(spec: PieceSpec, generated: str) -> None:
    check_invariants(spec, generated)


@settings(max_examples=100, deadline=None)
@given(spec=st.sampled_from(ALL_SPECS), unit=outputs, copies=st.integers(2, 6), tail=outputs)
def test_invariants_with_loops(spec: PieceSpec, unit: str, copies: int, tail: str) -> None:
    check_invariants(spec, unit * copies + tail)
