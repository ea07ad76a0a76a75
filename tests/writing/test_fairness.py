import pytest

from bot.errors import ServiceBusy
from bot.writing.fairness import FairnessGate, RateLimited

GUILD_A, GUILD_B = 10, 20


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_generation_in_flight_per_user_and_others_unaffected():
    gate = FairnessGate(Clock())
    with gate.slot(1, GUILD_A, cooldown_seconds=0):
        with (
            pytest.raises(RateLimited, match="still writing your previous piece"),
            gate.slot(1, GUILD_B, cooldown_seconds=0),
        ):
            pass
        with gate.slot(2, GUILD_A, cooldown_seconds=0):
            pass


def test_cooldown_starts_when_the_generation_ends():
    clock = Clock()
    gate = FairnessGate(clock)
    with gate.slot(1, GUILD_A, cooldown_seconds=10):
        clock.now += 30  # a long generation does not use up the cooldown
    clock.now += 8.5
    with (
        pytest.raises(RateLimited, match="wait 2 more seconds"),
        gate.slot(1, GUILD_A, cooldown_seconds=10),
    ):
        pass
    clock.now += 1.6
    with gate.slot(1, GUILD_A, cooldown_seconds=10):
        pass


def test_a_cooldown_in_one_guild_does_not_block_the_user_in_another():
    gate = FairnessGate(Clock())
    with gate.slot(1, GUILD_A, cooldown_seconds=600):
        pass
    with pytest.raises(RateLimited), gate.slot(1, GUILD_A, cooldown_seconds=600):
        pass
    with gate.slot(1, GUILD_B, cooldown_seconds=600):  # another server, its own cooldown
        pass
    with gate.slot(1, None, cooldown_seconds=600):  # and direct messages too
        pass


def test_a_failed_generation_frees_the_slot_without_a_cooldown():
    gate = FairnessGate(Clock())
    with pytest.raises(ValueError), gate.slot(1, GUILD_A, cooldown_seconds=60):
        raise ValueError("boom")
    with gate.slot(1, GUILD_A, cooldown_seconds=60):  # "try again" must really be possible
        pass


def test_a_guild_holds_at_most_its_share_and_others_still_get_in():
    gate = FairnessGate(Clock(), max_per_guild=2)
    with gate.slot(1, GUILD_A, 0), gate.slot(2, GUILD_A, 0):
        with pytest.raises(ServiceBusy, match="already has 2 pieces"), gate.slot(3, GUILD_A, 0):
            pass
        with gate.slot(3, GUILD_B, 0), gate.slot(4, None, 0):  # other servers and DMs
            pass
    with gate.slot(3, GUILD_A, 0):  # the share is free again once pieces end
        pass


def test_a_refused_request_takes_no_share_of_its_guild():
    gate = FairnessGate(Clock(), max_per_guild=1)
    with gate.slot(1, GUILD_A, 0):
        for _ in range(3):
            with pytest.raises(RateLimited), gate.slot(1, GUILD_A, 0):
                pass
    with gate.slot(2, GUILD_A, 0):
        pass


def test_hold_blocks_pieces_and_is_refused_while_one_runs():
    gate = FairnessGate(Clock())
    with gate.hold(1, "busy"), pytest.raises(RateLimited), gate.slot(1, GUILD_A, 0):
        pass
    with gate.slot(1, GUILD_A, 0), pytest.raises(RateLimited, match="busy"), gate.hold(1, "busy"):
        pass
    with gate.slot(1, GUILD_A, cooldown_seconds=0):  # nothing left held
        pass
