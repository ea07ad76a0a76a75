import math

import pytest

from bot.config import GenerationSettings
from bot.errors import InvalidRequest
from bot.generation.types import SamplingParams
from bot.generation.validation import MAX_TOP_K, resolve_sampling

SETTINGS = GenerationSettings(
    max_new_tokens_cap=100, default_temperature=0.7, default_top_p=0.8, default_top_k=40
)


def resolve(room: int = 1000, **params):
    return resolve_sampling(SamplingParams(**params), SETTINGS, room_for_tokens=room)


def test_defaults_come_from_settings_and_seed_is_filled_in():
    sampling = resolve()
    assert (sampling.temperature, sampling.top_p, sampling.top_k) == (0.7, 0.8, 40)
    assert sampling.max_new_tokens == 100
    assert 0 <= sampling.seed < 2**31


def test_max_tokens_clamped_to_cap_and_context_room():
    assert resolve(max_new_tokens=5000).max_new_tokens == 100
    assert resolve(room=30, max_new_tokens=50).max_new_tokens == 30


def test_top_k_zero_means_widest_allowed_and_large_values_clamp():
    assert resolve(top_k=0).top_k == MAX_TOP_K
    assert resolve(top_k=10_000).top_k == MAX_TOP_K


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"temperature": -0.1}, "temperature must be between 0 and 2"),
        ({"temperature": 2.5}, "you gave 2.5"),
        ({"temperature": math.nan}, "temperature must be a number"),
        ({"top_p": 0.0}, "top_p must be greater than 0"),
        ({"top_p": 1.5}, "top_p must be between 0 and 1"),
        ({"top_k": -3}, "top_k must be 0 or more"),
        ({"max_new_tokens": 0}, "max_tokens must be at least 1"),
        ({"seed": -1}, "seed must be between 0"),
        ({"seed": 2**60}, "seed must be between 0"),
        ({"seed": 1.5}, "seed must be a whole number"),
    ],
)
def test_bad_values_get_a_message_naming_the_option(params, fragment):
    with pytest.raises(InvalidRequest) as caught:
        resolve(**params)
    assert fragment in caught.value.user_message


def test_full_context_is_refused():
    with pytest.raises(InvalidRequest, match="context window"):
        resolve(room=0)
