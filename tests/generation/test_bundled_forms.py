"""The real bundled model (SmolLM2-135M-Instruct) under the form constraints: a haiku that is
5-7-5, a limerick that is AABBA, a game's line for its slot and a title, in one batch."""

from __future__ import annotations

import asyncio

import pytest

from bot.config import GenerationSettings, ModelSettings
from bot.forms import Form, PieceSpec, PoemForm
from bot.forms.checker import check
from bot.forms.degeneracy import degeneracy
from bot.generation.service import GenerationService
from bot.generation.types import SamplingParams
from bot.writing.pieces import WritingService

pytestmark = pytest.mark.slow

SO_FAR = "Grey waves fold and break\nsalt wind combs the empty dunes"


async def test_the_bundled_model_keeps_forms(tmp_path):
    service = GenerationService(
        ModelSettings(name="bundled", cache_dir=str(tmp_path)), GenerationSettings()
    )
    await service.start()
    try:
        writing = WritingService(service)
        specs = [
            PieceSpec(Form.POEM, "autumn rain", poem_form=PoemForm.HAIKU),
            PieceSpec(Form.POEM, "a cat who loves the sea", poem_form=PoemForm.LIMERICK),
            PieceSpec(Form.LINE, SO_FAR, poem_form=PoemForm.HAIKU, line_number=2, topic="Sea"),
            PieceSpec(Form.TITLE, SO_FAR + "\none gull, then no gull"),
        ]
        haiku, limerick, line, title = await asyncio.gather(
            *(writing.write(spec, SamplingParams(seed=7)) for spec in specs)
        )
    finally:
        await service.close()
    assert check(PoemForm.HAIKU, haiku.text).label() == "5·7·5 ✓", haiku.text
    assert check(PoemForm.LIMERICK, limerick.text).label() == "AABBA ✓", limerick.text
    assert not degeneracy(haiku.text).loop and not degeneracy(limerick.text).non_words
    assert "\n" not in line.text
    assert check(PoemForm.FREE, line.text).counts == (5,), line.text
    assert title.text and "\n" not in title.text and len(title.text) <= 60
