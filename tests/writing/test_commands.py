import pytest

from bot.console.parsing import parse_line
from bot.errors import InvalidRequest
from bot.forms import Form, Genre, Length, PoemForm
from bot.writing.commands import COMMANDS, help_lines, writing_request


def test_parse_line_reads_options_with_spaces_and_bare_text():
    assert parse_line("/poem topic:autumn rain form:haiku temperature:0.9") == (
        "poem",
        {"topic": "autumn rain", "form": "haiku", "temperature": "0.9"},
    )
    assert parse_line("/poem autumn rain form:sonnet") == (
        "poem",
        {"topic": "autumn rain", "form": "sonnet"},
    )
    assert parse_line("poem a time: of rain") == ("poem", {"topic": "a time: of rain"})


def test_parse_line_refuses_a_repeated_option():
    with pytest.raises(InvalidRequest, match="twice"):
        parse_line("/poem topic:a topic:b")


def test_writing_request_builds_spec_and_sampling():
    spec, sampling = writing_request(
        "poem", {"topic": " rain ", "form": "HAIKU", "temperature": "0.5", "seed": "42"}
    )
    assert (spec.form, spec.text, spec.poem_form) == (Form.POEM, "rain", PoemForm.HAIKU)
    assert (sampling.temperature, sampling.seed) == (0.5, 42)
    spec, _ = writing_request("script", {"premise": "heist", "characters": "Mo, Lu ,,"})
    assert spec.characters == ("Mo", "Lu")
    spec, _ = writing_request("story", {"premise": "x", "genre": "sci-fi", "length": "long"})
    assert (spec.genre, spec.length) == (Genre.SCIFI, Length.LONG)


@pytest.mark.parametrize(
    ("name", "options", "fragment"),
    [
        ("poem", {}, "/poem needs topic"),
        ("poem", {"topic": "   "}, "/poem needs topic"),
        ("poem", {"topic": "x", "form": "ode"}, "must be one of: free, haiku"),
        ("poem", {"topic": "x", "temperature": "hot"}, "must be a number"),
        ("poem", {"topic": "x", "temperature": "9"}, "between 0 and 2"),
        ("poem", {"topic": "x", "seed": "1.5"}, "must be a whole number"),
        ("poem", {"topic": "x" * 301}, "please keep it under 300"),
        ("poem", {"topic": "x", "colour": "red"}, "has no option 'colour'"),
        ("sing", {}, "There is no /sing command"),
        ("script", {"premise": "x", "characters": "a,b,c,d,e,f,g"}, "at most 6 characters"),
    ],
)
def test_bad_options_are_explained(name, options, fragment):
    with pytest.raises(InvalidRequest) as caught:
        writing_request(name, options)
    assert fragment in caught.value.user_message


def test_help_lists_every_command():
    text = "\n".join(help_lines())
    for name in COMMANDS:
        assert f"/{name} " in text
