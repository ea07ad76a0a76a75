"""/check and /score in the console: the same coach and score as on Discord.

``/check form:limerick There once was a cat / who …`` checks a poem whose lines are separated
by " / "; ``/score text`` explains the model's perplexity of a text.
"""

from __future__ import annotations

import sys
from typing import TextIO

from bot.console.parsing import parse_options
from bot.craft.coach import Coach, poem_from_option
from bot.craft.render import render_check, render_score
from bot.craft.score import explain
from bot.errors import InvalidRequest
from bot.forms import PoemForm
from bot.writing.pieces import WritingService

CRAFT_HELP = (
    "/check form:haiku|limerick|quatrain|sonnet|free line one / line two / … — the coach",
    "/score text — how predictable the model finds a text (perplexity), in plain words",
)
_FORMS = ", ".join(form.value for form in PoemForm)


class ConsoleCraft:
    """The coach and the score, printing to ``out``."""

    def __init__(self, writing: WritingService, out: TextIO = sys.stdout) -> None:
        self._coach = Coach(writing)
        self._writing = writing
        self._out = out

    async def check(self, rest: str) -> None:
        """``/check form:… text``: the poem's form checked, with a suggested fix."""
        options = parse_options("/check", rest, ("form", "text"), "text")
        raw_form, _, after = options.get("form", "haiku").partition(" ")
        if after.strip() and "text" not in options:
            options["text"] = after  # "/check form:haiku the poem…": the poem follows the form
        raw_form = raw_form.lower()
        try:
            poem_form = PoemForm(raw_form)
        except ValueError:
            raise InvalidRequest(f"/check knows these forms: {_FORMS}.") from None
        coached = await self._coach.check(poem_form, poem_from_option(options.get("text", "")))
        self._say(render_check(coached))

    async def score(self, rest: str) -> None:
        """``/score text``: the perplexity, in plain words."""
        options = parse_options("/score", rest, ("text",), "text")
        result = await self._writing.score(poem_from_option(options.get("text", "")))
        self._say(render_score(explain(result)))

    def _say(self, text: str) -> None:
        print(text, file=self._out, flush=True)
