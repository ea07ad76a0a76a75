import pytest

from bot.writing.fairness import RateLimited, UserGate


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_generation_in_flight_per_user_and_others_unaffected():
    gate = UserGate(Clock())
    with gate.slot(1, cooldown_seconds=0):
        with (
            pytest.raises(RateLimited, match="still writing your previous piece"),
            gate.slot(1, cooldown_seconds=0),
        ):
            pass
        with gate.slot(2, cooldown_seconds=0):
            pass


def test_cooldown_starts_when_the_generation_ends():
    clock = Clock()
    gate = UserGate(clock)
    with gate.slot(1, cooldown_seconds=10):
        clock.now += 30  # a long generation does not use up the cooldown
    clock.now += 8.5
    with (
        pytest.raises(RateLimited, match="wait 2 more seconds"),
        gate.slot(1, cooldown_seconds=10),
    ):
        pass
    clock.now += 1.6
    with gate.slot(1, cooldown_seconds=10):
        pass


def test_a_failed_generation_frees_the_slot_without_a_cooldown():
    gate = UserGate(Clock())
    with pytest.raises(ValueError), gate.slot(1, cooldown_seconds=60):
        raise ValueError("boom")
    with gate.slot(1, cooldown_seconds=60):  # "try again" must really be possible
        pass
