"""Console option parsing on arbitrary input: a request or an InvalidRequest, nothing else."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.console.parsing import MAX_NUMBER, number_option, parse_line, parse_options, yes_option
from bot.errors import InvalidRequest
from bot.writing.commands import COMMANDS, Kind, writing_request
from tests.strategies import hostile_text

NAMES = sorted(COMMANDS)
# Option names as they would be typed, plus near misses that must stay plain text.
KEYS = sorted({option.name for command in COMMANDS.values() for option in command.options})
NEAR_MISSES = ("form\uff1a", "Form:", "form :", "xform:", "top_p:", "_:", "seed:-1", "seed:1e3")

option_words = st.sampled_from([f"{key}:" for key in KEYS] + list(NEAR_MISSES))
values = st.one_of(
    hostile_text(max_size=6),
    st.sampled_from(["haiku", "HAIKU ", "0.5", "nan", "inf", "-0", "1_000", "٣", "²", "9" * 30]),
    st.floats(allow_nan=True).map(str),
    st.integers().map(str),
)
lines = st.tuples(
    st.sampled_from([*NAMES, "nope", "POEM", ""]),
    st.lists(st.one_of(option_words, values), max_size=10),
).map(lambda parts: f"/{parts[0]} " + " ".join(parts[1]))


@given(line=st.one_of(lines, hostile_text()))
def test_any_line_becomes_a_request_or_an_invalid_request(line: str) -> None:
    try:
        name, options = parse_line(line)
    except InvalidRequest as error:
        assert error.user_message
        return
    command = COMMANDS.get(name)
    if command is None:
        return  # the console answers "no such command"; nothing more is parsed
    assert set(options) <= {option.name for option in command.options}
    assert all(value == value.strip() for value in options.values())
    try:
        spec, sampling = writing_request(name, options)
    except InvalidRequest as error:
        assert error.user_message
        return
    # What got through is within every option's documented limits.
    assert spec.text.strip()
    for option_name, value in (
        ("temperature", sampling.temperature),
        ("top_p", sampling.top_p),
        ("top_k", sampling.top_k),
        ("max_tokens", sampling.max_new_tokens),
        ("seed", sampling.seed),
    ):
        option = command.option(option_name)
        if value is None or option is None:
            continue
        assert option.low is not None and option.high is not None
        assert math.isfinite(value)
        assert option.low <= value <= option.high
        if option.kind is Kind.INT:
            assert isinstance(value, int)


def _no_key_inside(keys: list[str]) -> st.SearchStrategy[str]:
    pattern = re.compile(rf"(?:^|\s)(?:{'|'.join(keys)}):")
    return hostile_text(max_size=8).filter(lambda text: not pattern.search(text))


@st.composite
def typed_commands(draw: st.DrawFn) -> tuple[str, str, dict[str, str]]:
    name = draw(st.sampled_from(NAMES))
    command = COMMANDS[name]
    keys = [option.name for option in command.options]
    text = _no_key_inside(keys)
    main = draw(text)
    chosen = draw(st.lists(st.sampled_from(keys[1:]), unique=True, max_size=len(keys) - 1))
    given_values = {key: draw(text) for key in chosen}
    line = f"/{name} {main} " + " ".join(f"{key}:{value}" for key, value in given_values.items())
    expected = {key: value.strip() for key, value in given_values.items()}
    if main.strip():
        expected[command.text_option.name] = main.strip()
    return line, name, expected


@given(typed=typed_commands())
def test_each_option_gets_exactly_the_text_typed_after_it(
    typed: tuple[str, str, dict[str, str]],
) -> None:
    line, name, expected = typed
    assert parse_line(line) == (name, expected)


@given(raw=st.one_of(st.none(), hostile_text(max_size=5), st.integers().map(str)))
def test_a_number_option_is_a_positive_safe_integer_or_refused(raw: str | None) -> None:
    try:
        value = number_option("/favorites show", raw)
    except InvalidRequest as error:
        assert "positive whole number" in error.user_message
    else:
        assert 1 <= value <= MAX_NUMBER


@given(number=st.integers(1, MAX_NUMBER), prefix=st.sampled_from(["", "#", " ", " #"]))
def test_every_valid_id_is_read_back(number: int, prefix: str) -> None:
    assert number_option("/x", f"{prefix}{number} ") == number


@given(raw=st.one_of(st.none(), hostile_text(max_size=4)))
def test_yes_no_is_a_bool_or_refused(raw: str | None) -> None:
    try:
        answer = yes_option("/x", raw)
    except InvalidRequest as error:
        assert "yes or no" in error.user_message
    else:
        assert answer is ((raw or "no").strip().lower() in ("yes", "y", "true", "1"))


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "1e999", "9" * 5000])
def test_non_finite_and_huge_numbers_are_refused_with_a_message(raw: str) -> None:
    for name in ("temperature", "seed"):
        with pytest.raises(InvalidRequest):
            writing_request("poem", {"topic": "rain", name: raw})


identifiers = st.from_regex(r"\A[a-z_]{1,8}\Z")


@st.composite
def option_lines(draw: st.DrawFn) -> tuple[str, list[str], str | None, dict[str, str]]:
    """A line for any set of keys (as every console command has its own), and what it holds."""
    keys = draw(st.lists(identifiers, min_size=1, max_size=5, unique=True))
    main = draw(st.one_of(st.none(), st.sampled_from(keys)))
    text = _no_key_inside(keys)
    head = draw(text) if main is not None else ""
    given_values = {key: draw(text) for key in draw(st.permutations(keys)) if key != main}
    given_values = dict(list(given_values.items())[: draw(st.integers(0, len(given_values)))])
    line = f"{head} " + " ".join(f"{key}:{value}" for key, value in given_values.items())
    expected = {key: value.strip() for key, value in given_values.items()}
    if head.strip() and main is not None:
        expected[main] = head.strip()
    return line, keys, main, expected


@given(case=option_lines())
def test_every_console_commands_options_are_read_back_for_any_keys(
    case: tuple[str, list[str], str | None, dict[str, str]],
) -> None:
    line, keys, main, expected = case
    assert parse_options("/any", line, keys, main) == expected


@given(
    rest=st.one_of(hostile_text(), st.lists(st.one_of(option_words, values)).map(" ".join)),
    keys=st.lists(st.sampled_from(KEYS), max_size=4, unique=True),
    main=st.one_of(st.none(), st.sampled_from(KEYS)),
)
def test_parse_options_gives_known_keys_or_an_invalid_request(
    rest: str, keys: list[str], main: str | None
) -> None:
    try:
        options = parse_options("/any", rest, keys, main)
    except InvalidRequest as error:
        assert "/any" in error.user_message
        return
    assert set(options) <= {*keys, *([main] if main else [])}
