"""The writing commands every front end offers, and how their options become a request.

The console parses ``/poem topic:autumn form:haiku`` against these definitions; the Discord cogs
declare the same options with ``app_commands`` and hand them to ``writing_request`` too, so both
front ends validate and interpret options the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.errors import InvalidRequest
from bot.forms import Form, Genre, Length, PieceSpec, PoemForm
from bot.generation.types import SamplingParams

MAX_TOPIC_CHARS = 300
MAX_TEXT_CHARS = 1500
MAX_CHARACTERS = 6


class Kind(StrEnum):
    """How an option's value is read."""

    TEXT = "text"
    INT = "whole number"
    FLOAT = "number"
    CHOICE = "choice"


@dataclass(frozen=True)
class Option:
    """One option of a command, with the limits both front ends enforce."""

    name: str
    kind: Kind
    description: str
    required: bool = False
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    max_chars: int | None = None


@dataclass(frozen=True)
class Command:
    """A writing command and its options; ``text_option`` receives bare text in the console."""

    name: str
    form: Form
    description: str
    options: tuple[Option, ...]

    @property
    def text_option(self) -> Option:
        """The command's main text option (always the first)."""
        return self.options[0]

    def option(self, name: str) -> Option | None:
        """The option called ``name``, if the command has it."""
        return next((option for option in self.options if option.name == name), None)


TEMPERATURE = Option(
    "temperature", Kind.FLOAT, "Creativity: 0 = safe and repetitive, 2 = wild", low=0.0, high=2.0
)
SEED = Option("seed", Kind.INT, "Same seed + same options = the same piece", low=0, high=2**53 - 1)
LENGTH = Option(
    "length",
    Kind.CHOICE,
    "How long the piece should be",
    choices=tuple(length.value for length in Length),
)

COMMANDS: dict[str, Command] = {
    command.name: command
    for command in (
        Command(
            "poem",
            Form.POEM,
            "Write a poem about a topic",
            (
                Option(
                    "topic",
                    Kind.TEXT,
                    "What the poem is about",
                    required=True,
                    max_chars=MAX_TOPIC_CHARS,
                ),
                Option(
                    "form",
                    Kind.CHOICE,
                    "The poem's form",
                    choices=tuple(form.value for form in PoemForm),
                ),
                TEMPERATURE,
                LENGTH,
                SEED,
            ),
        ),
        Command(
            "story",
            Form.STORY,
            "Write a short story from a premise",
            (
                Option(
                    "premise",
                    Kind.TEXT,
                    "What happens, or how it starts",
                    required=True,
                    max_chars=MAX_TOPIC_CHARS,
                ),
                Option(
                    "genre",
                    Kind.CHOICE,
                    "The story's genre",
                    choices=tuple(genre.value for genre in Genre),
                ),
                LENGTH,
                TEMPERATURE,
                SEED,
            ),
        ),
        Command(
            "script",
            Form.SCRIPT,
            "Write a short screenplay scene",
            (
                Option(
                    "premise",
                    Kind.TEXT,
                    "What the scene is about",
                    required=True,
                    max_chars=MAX_TOPIC_CHARS,
                ),
                Option(
                    "characters", Kind.TEXT, "Character names, separated by commas", max_chars=200
                ),
                LENGTH,
                TEMPERATURE,
                SEED,
            ),
        ),
        Command(
            "continue",
            Form.CONTINUE,
            "Carry on your own text",
            (
                Option(
                    "text",
                    Kind.TEXT,
                    "The start you wrote; Inkwell continues it",
                    required=True,
                    max_chars=MAX_TEXT_CHARS,
                ),
                LENGTH,
                TEMPERATURE,
                SEED,
            ),
        ),
        Command(
            "generate",
            Form.GENERATE,
            "Continue a raw prompt with full control",
            (
                Option(
                    "prompt",
                    Kind.TEXT,
                    "The exact text the model continues",
                    required=True,
                    max_chars=MAX_TEXT_CHARS,
                ),
                TEMPERATURE,
                Option(
                    "top_p",
                    Kind.FLOAT,
                    "Nucleus sampling: keep this much probability mass",
                    low=0.01,
                    high=1.0,
                ),
                Option(
                    "top_k",
                    Kind.INT,
                    "Pick only among the k likeliest words (0 = 200)",
                    low=0,
                    high=200,
                ),
                Option("max_tokens", Kind.INT, "Most new tokens to write", low=1, high=4096),
                SEED,
            ),
        ),
    )
}


def parse_value(command: Command, option: Option, raw: object) -> object:
    """Check one option's value (text from the console or a typed value from Discord)."""
    where = f"/{command.name} {option.name}"
    if option.kind is Kind.TEXT:
        text = str(raw).strip()
        if option.max_chars is not None and len(text) > option.max_chars:
            raise InvalidRequest(
                f"{where} is {len(text)} characters long; please keep it under {option.max_chars}."
            )
        return text
    if option.kind is Kind.CHOICE:
        value = str(raw).strip().lower()
        if value not in option.choices:
            raise InvalidRequest(
                f"{where} must be one of: {', '.join(option.choices)} (you gave {str(raw)!r})."
            )
        return value
    return _parse_number(where, option, raw)


def _parse_number(where: str, option: Option, raw: object) -> float | int:
    number_type = int if option.kind is Kind.INT else float
    if isinstance(raw, bool):
        raise InvalidRequest(f"{where} must be a {option.kind.value}.")
    try:
        value = number_type(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidRequest(
            f"{where} must be a {option.kind.value} (you gave {str(raw)!r})."
        ) from None
    if (
        value != value
        or (option.low is not None and value < option.low)
        or (option.high is not None and value > option.high)
    ):
        raise InvalidRequest(
            f"{where} must be between {option.low:g} and {option.high:g} (you gave {raw})."
        )
    return value


def writing_request(name: str, options: Mapping[str, object]) -> tuple[PieceSpec, SamplingParams]:
    """Turn a command and its raw options into what the writing service needs.

    Options whose value is None are treated as not given.
    """
    command = COMMANDS.get(name)
    if command is None:
        raise InvalidRequest(f"There is no /{name} command. Try /help.")
    values: dict[str, object] = {}
    for key, raw in options.items():
        option = command.option(key)
        if option is None:
            allowed = ", ".join(option.name for option in command.options)
            raise InvalidRequest(f"/{name} has no option {key!r}. Its options: {allowed}.")
        if raw is not None:
            values[key] = parse_value(command, option, raw)
    main = command.text_option
    if not values.get(main.name):
        raise InvalidRequest(f"/{name} needs {main.name}: — {main.description.lower()}.")
    characters = tuple(
        name.strip() for name in str(values.get("characters", "")).split(",") if name.strip()
    )
    if len(characters) > MAX_CHARACTERS:
        raise InvalidRequest(f"A scene can have at most {MAX_CHARACTERS} characters.")
    spec = PieceSpec(
        form=command.form,
        text=str(values[main.name]),
        poem_form=PoemForm(values.get("form", PoemForm.FREE)),
        genre=Genre(values.get("genre", Genre.ANY)),
        characters=characters,
        length=Length(values.get("length", Length.MEDIUM)),
    )
    sampling = SamplingParams(
        temperature=_optional_float(values.get("temperature")),
        top_p=_optional_float(values.get("top_p")),
        top_k=_optional_int(values.get("top_k")),
        max_new_tokens=_optional_int(values.get("max_tokens")),
        seed=_optional_int(values.get("seed")),
    )
    return spec, sampling


def _optional_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _optional_int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


def help_lines() -> list[str]:
    """One line per command with its options, for /help in every front end."""
    lines = []
    for command in COMMANDS.values():
        parts = [
            f"{option.name}:"
            + ("…" if option.required else "|".join(option.choices) if option.choices else "?")
            for option in command.options
        ]
        lines.append(f"/{command.name} {' '.join(parts)} — {command.description}")
    return lines
