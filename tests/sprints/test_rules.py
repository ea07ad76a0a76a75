"""The pure sprint rules: planning, the time each member sprinted, counts, results, bests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sprints import rules
from bot.sprints.rules import ImplausibleCount, Result, SprintError, Totals

START = 10_000.0
END = START + 30 * 60


@dataclass(frozen=True)
class M:
    user_id: int = 1
    user_name: str = "Ada"
    starting_words: int = 0
    words: int | None = None
    joined_at: float = START - 60
    left_at: float | None = None


def test_plan_adds_the_delay_and_refuses_out_of_range():
    assert rules.plan(100.0, 15, 5) == rules.Plan(400.0, 400.0 + 900)
    assert rules.plan(100.0, 1, 0).starts_at == 100.0
    for minutes, delay in ((0, 0), (121, 0), (10, -1), (10, 61)):
        with pytest.raises(SprintError):
            rules.plan(0.0, minutes, delay)


def test_the_count_window_is_two_minutes_after_the_end_or_after_a_late_wakeup():
    assert rules.count_until(END, END - 5) == END + 120
    assert rules.count_until(END, END + 3600) == END + 3600 + 120


def test_time_sprinted_runs_from_start_or_join_to_end_or_leave():
    assert rules.sprinted_seconds(M(), START, END) == 1800
    assert rules.sprinted_seconds(M(joined_at=START + 600), START, END) == 1200
    assert rules.sprinted_seconds(M(left_at=START + 300), START, END) == 300
    assert rules.sprinted_seconds(M(joined_at=END + 5), START, END) == 0


def test_wc_is_absolute_and_wrote_adds_to_the_last_count_or_the_start():
    assert rules.total_after_wc(500) == 500
    assert rules.total_after_wrote(M(starting_words=1000), 200) == 1200
    assert rules.total_after_wrote(M(starting_words=1000, words=1300), 50) == 1350
    with pytest.raises(SprintError, match="below zero"):
        rules.total_after_wrote(M(words=10), -20)


def test_implausible_counts_are_refused_with_the_reason():
    member = M(starting_words=1000)
    assert rules.check_count(member, 1000 + 30 * 150, START, END, 150) == 4500
    with pytest.raises(ImplausibleCount, match=r"4,501 words in 30 minutes is 150 words a minute"):
        rules.check_count(member, 1000 + 4501, START, END, 150)
    # Mid-sprint the time so far counts, but never less than a minute.
    with pytest.raises(ImplausibleCount, match="at most 150"):
        rules.check_count(member, 1000 + 151, START, START + 10, 150)
    assert rules.check_count(member, 1000 + 150, START, START + 10, 150) == 150
    with pytest.raises(SprintError, match="fewer than the 1,000 words you started with"):
        rules.check_count(member, 900, START, END, 150)


def test_results_rank_by_words_with_shared_places_and_wpm_from_own_time():
    members = [
        M(1, "Ada", words=600),
        M(2, "Bo", starting_words=100, words=700, joined_at=START + 900),  # 600 in 15 min
        M(3, "Cy", words=300),
        M(4, "Di"),  # no count: not in the results
    ]
    found = rules.results(members, START, END)
    assert [r.name for r in found] == ["Bo", "Ada", "Cy"]  # tie on words: faster first
    assert found[0].wpm == pytest.approx(40.0) and found[1].wpm == pytest.approx(20.0)
    ranked = rules.rank(found, {1: Totals(best_words=1000, best_wpm=10.0)})
    assert [r.place for r in ranked] == [1, 1, 3]
    ada = ranked[1]
    assert not ada.best_words and ada.best_wpm


def test_totals_add_up_and_keep_the_bests():
    first = rules.add_result(Totals(), Result(1, "Ada", 600, 30.0))
    second = rules.add_result(first, Result(1, "Ada", 300, 5.0))
    assert second == Totals(sprints=2, words=900, minutes=35.0, best_words=600, best_wpm=60.0)
    # No time sprinted: the count adds up, the best speed stays.
    third = rules.add_result(second, Result(1, "Ada", 0, 0.0))
    assert third.best_wpm == 60.0 and third.sprints == 3


@given(
    joined=st.floats(START - 600, END + 600),
    left=st.none() | st.floats(START - 600, END + 600),
    total=st.integers(0, 100_000),
    max_wpm=st.integers(1, 500),
)
def test_an_accepted_count_is_never_faster_than_the_limit(joined, left, total, max_wpm):
    member = M(joined_at=joined, left_at=left)
    seconds = rules.sprinted_seconds(member, START, END)
    assert 0 <= seconds <= END - START
    try:
        words = rules.check_count(member, total, START, END, max_wpm)
    except ImplausibleCount:
        assert total > max_wpm * max(seconds / 60, 1)
    else:
        assert words == total and words <= max_wpm * max(seconds / 60, 1)


def test_a_long_results_table_fits_in_one_message():
    from bot.sprints.notices import Results, Style, results_text
    from tests.storage.test_sprints import row_for_text

    ranked = tuple(
        rules.Ranked(i + 1, Result(i, "W" * 32, 1000 - i, 30.0), False, False) for i in range(200)
    )
    text = results_text(row_for_text(), Results(ranked, 210, early=False), Style(str, str))
    assert len(text) <= 2000 and "more." in text and "10 members sent no count" in text
