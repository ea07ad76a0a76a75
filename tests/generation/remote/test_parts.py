"""The remote backend's plain parts: the API root, the choice among candidates, the slots."""

from __future__ import annotations

import asyncio

import pytest

from bot.errors import ServiceBusy
from bot.forms import constraint_for
from bot.forms.spec import Form, PieceSpec, PoemForm
from bot.generation.remote.candidates import best_candidate, lines_kept
from bot.generation.remote.slots import RequestSlots
from bot.generation.remote.wire import api_root

HAIKU = "An old silent pond\nA frog jumps into the pond\nSplash, silence again"


@pytest.mark.parametrize(
    ("given", "root"),
    [
        ("http://localhost:11434", "http://localhost:11434/v1"),
        ("http://localhost:8000/", "http://localhost:8000/v1"),
        ("http://localhost:8000/v1", "http://localhost:8000/v1"),
        ("http://localhost:8000/v1/", "http://localhost:8000/v1"),
        ("https://proxy.example/llm", "https://proxy.example/llm/v1"),
        ("https://proxy.example/api/v2", "https://proxy.example/api/v2"),
    ],
)
def test_api_root_adds_v1_where_it_is_missing(given, root):
    assert api_root(given) == root


def test_api_root_refuses_what_is_not_a_url():
    with pytest.raises(ValueError, match="http"):
        api_root("localhost:8000")


def test_a_haiku_that_keeps_its_form_is_accepted_to_the_end():
    constraint = constraint_for(PieceSpec(Form.POEM, "pond", poem_form=PoemForm.HAIKU))
    assert constraint is not None
    assert lines_kept(constraint, HAIKU) == (3, True)
    assert lines_kept(constraint, "An old silent pond\nA frog jumps in\nSplash") == (1, False)
    assert lines_kept(constraint, "Here is a haiku:\n" + HAIKU) == (0, False)


def test_the_first_candidate_that_keeps_the_form_wins_else_the_one_that_kept_it_longest():
    constraint = constraint_for(PieceSpec(Form.POEM, "pond", poem_form=PoemForm.HAIKU))
    broken = "An old silent pond\nA frog jumps in\nSplash"
    assert best_candidate(constraint, ["Here is one:\n" + HAIKU, broken, HAIKU, HAIKU]) == 2
    assert best_candidate(constraint, ["Here is one:", broken, "no"]) == 1
    assert best_candidate(constraint, ["a", "b"]) == 0  # nothing kept: the first
    assert best_candidate(None, [broken, HAIKU]) == 0


async def test_slots_cap_what_runs_queue_in_order_and_refuse_past_the_line():
    slots = RequestSlots(limit=1, max_waiting=2)
    first = slots.take()
    second, third = slots.take(), slots.take()
    assert (first.ahead, second.ahead, third.ahead) == (0, 1, 2)
    with pytest.raises(ServiceBusy):
        slots.take()
    assert slots.load == (1, 2)
    waiting = asyncio.create_task(third.wait())
    second.release()  # leaves the line without ever running
    first.release()
    await asyncio.wait_for(waiting, 1)
    assert third.granted and slots.load == (1, 0)
    third.release()
    third.release()  # twice is harmless
    assert slots.load == (0, 0)


async def test_a_waiter_cancelled_while_waiting_leaves_the_line():
    slots = RequestSlots(limit=1, max_waiting=4)
    first, second = slots.take(), slots.take()
    task = asyncio.create_task(second.wait())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    second.release()
    assert slots.load == (1, 0)
    first.release()
    assert slots.load == (0, 0)
