"""Config loading on arbitrary documents and files: Settings or a ConfigError naming the key."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import tempfile
from pathlib import Path
from typing import Any, get_type_hints

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import ConfigError, Settings, load_settings, settings_from_dict
from tests.strategies import scaled

SECTIONS: dict[str, type] = {
    section.name: section.default_factory  # type: ignore[misc]
    for section in dataclasses.fields(Settings)
}
FIELDS: dict[str, dict[str, dataclasses.Field[Any]]] = {
    name: {f.name: f for f in dataclasses.fields(cls)} for name, cls in SECTIONS.items()
}
HINTS = {name: get_type_hints(cls) for name, cls in SECTIONS.items()}

# Everything tomllib can hand back as a value, the awkward floats included.
toml_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(-5, 70_000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 0.5, 1e308]),
    st.text(max_size=20),
    st.sampled_from(["", "bundled", "fast", "json", "INFO", "postgresql://u:secret@h/db"]),
    st.datetimes(),
    st.dates(),
    st.times(),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly known sections and keys (so validation is reached), some unknown ones."""
    raw: dict[str, Any] = {}
    for section in draw(st.lists(st.sampled_from(sorted(SECTIONS)), unique=True, max_size=4)):
        raw[section] = {}
        keys = st.one_of(st.sampled_from(sorted(FIELDS[section])), st.text(max_size=6))
        for key in draw(st.lists(keys, unique=True, max_size=3)):
            raw[section][key] = draw(
                _near_value(section, key) if key in FIELDS[section] else toml_values
            )
    if draw(st.integers(0, 9)) == 0:
        raw[draw(st.text(max_size=6))] = draw(toml_values)
    return raw


def _named_keys(raw: dict[str, Any]) -> list[str]:
    names = []
    for section, values in raw.items():
        names.append(section)
        if isinstance(values, dict):
            names += [f"{section}.{key}" for key in values]
    return names


@given(raw=documents())
def test_any_document_gives_settings_or_an_error_naming_a_key(raw: dict[str, Any]) -> None:
    try:
        loaded_settings = settings_from_dict(raw)
    except ConfigError as error:
        message = str(error)
        # Odd names are shown as Python writes them ('\x1f'), so that they can be seen.
        names = _named_keys(raw)
        assert any(name in message or repr(name) in message for name in names), message
        assert "secret" not in message  # storage.url may carry a password
        return
    for section, values in raw.items():
        for key, value in values.items():
            loaded = getattr(getattr(loaded_settings, section), key)
            if isinstance(loaded, float):
                assert math.isfinite(loaded), f"{section}.{key} = {loaded!r}"
            meta = FIELDS[section][key].metadata
            for item in loaded if isinstance(loaded, tuple) else (loaded,):
                if meta.get("low") is not None and not isinstance(item, (str, bool)):
                    assert item >= meta["low"]
                if meta.get("high") is not None and not isinstance(item, (str, bool)):
                    assert item <= meta["high"]
            assert value == loaded or list(loaded) == value


def _near_value(section: str, name: str) -> st.SearchStrategy[Any]:
    """Values of the key's own type around and beyond its limits, or anything at all."""
    meta = FIELDS[section][name].metadata
    edges = [meta[bound] for bound in ("low", "high") if meta.get(bound) is not None]
    around = [edge + delta for edge in edges for delta in (-1, -1e-9, 0, 1e-9, 1)]
    numbers = st.sampled_from([*around, *[int(edge) for edge in edges], math.nan, math.inf])
    return st.one_of(
        st.sampled_from([math.nan, math.inf, -math.inf]),
        numbers,
        st.lists(numbers, max_size=3),
        st.sampled_from(meta.get("choices") or ("",)).map(lambda c: f" {c}".lower()),
        toml_values,
    )


@st.composite
def single_keys(draw: st.DrawFn) -> tuple[str, str, Any]:
    section = draw(st.sampled_from(sorted(SECTIONS)))
    key = draw(st.sampled_from(sorted(FIELDS[section])))
    return section, key, draw(_near_value(section, key))


@settings(max_examples=scaled(400))  # cheap: about 1 ms each
@given(entry=single_keys())
def test_one_key_with_any_value_is_taken_in_range_or_refused_by_name(
    entry: tuple[str, str, Any],
) -> None:
    section, key, value = entry
    try:
        loaded_settings = settings_from_dict({section: {key: value}})
    except ConfigError as error:
        assert f"{section}.{key}" in str(error)
        return
    loaded = getattr(getattr(loaded_settings, section), key)
    meta = FIELDS[section][key].metadata
    for item in loaded if isinstance(loaded, tuple) else (loaded,):
        if isinstance(item, float):
            assert math.isfinite(item), f"{section}.{key} = {item!r}"
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            assert meta["low"] is None or item >= meta["low"]
            assert meta["high"] is None or item <= meta["high"]
        if meta.get("choices"):
            assert item in meta["choices"]


def _valid_value(section: str, name: str) -> st.SearchStrategy[Any]:
    """Values each rule allows, edges included."""
    meta = FIELDS[section][name].metadata
    hint = HINTS[section][name]
    low, high = meta.get("low"), meta.get("high")
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers(int(low) if low is not None else None, int(high) if high else None)
    if hint is float:
        return st.floats(low, high, allow_nan=False)
    if hint == tuple[int, ...]:
        return st.just([])  # cross-checked against shard_count: covered by the other property
    if meta.get("choices"):
        return st.sampled_from(meta["choices"])
    if section == "storage" and name == "url":
        return st.sampled_from(["", "postgresql://u@h/db", "postgres://h/db"])
    return st.text(max_size=20)


@st.composite
def valid_documents(draw: st.DrawFn) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for section in draw(st.lists(st.sampled_from(sorted(SECTIONS)), unique=True)):
        chosen = draw(st.lists(st.sampled_from(sorted(FIELDS[section])), unique=True))
        raw[section] = {name: draw(_valid_value(section, name)) for name in chosen}
    health = raw.get("health", {})
    beat, stale = health.get("heartbeat_interval", 15.0), health.get("stale_after", 60.0)
    if stale <= beat:  # the one rule between two keys: drop it from this property
        health.pop("stale_after", None)
        health.pop("heartbeat_interval", None)
    return raw


@given(raw=valid_documents())
def test_every_allowed_value_is_read_back_as_given(raw: dict[str, Any]) -> None:
    loaded_settings = settings_from_dict(raw)
    for section, values in raw.items():
        for key, value in values.items():
            loaded = getattr(getattr(loaded_settings, section), key)
            assert loaded == (tuple(value) if isinstance(value, list) else value)
            assert type(loaded) is HINTS[section][key] or isinstance(loaded, tuple)


# Fragments of TOML, right and wrong, so that files often parse and reach validation.
toml_pieces = st.one_of(
    st.sampled_from(
        [
            "[model]\n",
            "[generation]\n",
            "[discord]\n",
            "[health]\n",
            "[nosuch]\n",
            "[[model]]\n",
            "name = ",
            "threads = ",
            "default_temperature = ",
            "shard_ids = ",
            "stale_after = ",
            "model.name = ",
            '"x"',
            "'''a\nb'''",
            "nan",
            "-inf",
            "1e999",
            "0x10",
            "1979-05-27T07:32:00Z",
            "[1, 2]",
            "{ a = 1 }",
            "true",
            "\n",
            "# comment\n",
            "=",
            '"\\u0000"',
        ]
    ),
    st.text(max_size=6),
)
file_bytes = st.one_of(
    st.lists(toml_pieces, max_size=20).map(lambda parts: "".join(parts).encode()),
    st.binary(max_size=40),
    st.lists(toml_pieces, max_size=8).map(lambda parts: "".join(parts).encode("utf-16")),
)


@given(content=file_bytes)
def test_any_file_gives_settings_or_a_config_error(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        path.write_bytes(content)
        try:
            load_settings(path)
        except ConfigError as error:
            assert str(error)


def test_a_folder_or_unreadable_path_is_a_config_error() -> None:
    with tempfile.TemporaryDirectory() as folder:
        try:
            load_settings(Path(folder))
        except ConfigError as error:
            assert folder in str(error)
        else:
            raise AssertionError("a folder loaded as a config file")


def test_datetimes_are_refused_for_every_kind_of_key() -> None:
    for section, fields in FIELDS.items():
        for key in fields:
            try:
                settings_from_dict({section: {key: dt.datetime(2026, 1, 1)}})
            except ConfigError as error:
                assert f"{section}.{key}" in str(error)
            else:
                raise AssertionError(f"{section}.{key} took a datetime")
