"""Form-true poems from a real (tiny, random) model: constrained rows run in the engine's
normal batches beside free ones, each with its own constraint state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.config import GenerationSettings, ModelSettings
from bot.forms import Form, PieceSpec, PoemForm
from bot.forms.checker import check
from bot.generation.service import GenerationService
from bot.generation.types import SamplingParams
from bot.writing.pieces import WritingService


@pytest.fixture
async def writing(tiny_gpt2_dir) -> AsyncIterator[WritingService]:
    service = GenerationService(
        ModelSettings(name=str(tiny_gpt2_dir)), GenerationSettings(max_prompt_tokens=200)
    )
    await service.start()
    yield WritingService(service)
    await service.close()


@pytest.mark.parametrize("poem_form", [PoemForm.HAIKU, PoemForm.LIMERICK, PoemForm.QUATRAIN])
async def test_poems_keep_their_form_even_from_a_random_model(writing, poem_form):
    spec = PieceSpec(Form.POEM, "the sea at night", poem_form=poem_form)
    pieces = await asyncio.gather(
        *(writing.write(spec, SamplingParams(seed=seed)) for seed in range(4))
    )
    for piece in pieces:
        report = check(poem_form, piece.text)
        assert report.passes, (piece.text, report.problems)


async def test_constrained_and_free_rows_share_a_batch(writing):
    haiku = PieceSpec(Form.POEM, "rain", poem_form=PoemForm.HAIKU)
    story = PieceSpec(Form.GENERATE, "Once upon a time")
    alone = await writing.write(story, SamplingParams(seed=5, max_new_tokens=30))
    results = await asyncio.gather(
        writing.write(story, SamplingParams(seed=5, max_new_tokens=30)),
        *(writing.write(haiku, SamplingParams(seed=seed)) for seed in range(3)),
    )
    assert results[0].text == alone.text  # the free row is untouched by its neighbours
    assert all(check(PoemForm.HAIKU, piece.text).passes for piece in results[1:])


@pytest.mark.parametrize(("number", "syllables"), [(0, 5), (1, 7), (2, 5), (4, 7)])
async def test_a_game_line_keeps_its_slot(writing, number, syllables):
    so_far = "\n".join(
        ["Grey waves fold and break", "salt wind combs the empty dunes", "x"][:number]
    )
    spec = PieceSpec(Form.LINE, so_far, poem_form=PoemForm.HAIKU, line_number=number)
    piece = await writing.write(spec, SamplingParams(seed=number))
    assert "\n" not in piece.text
    assert check(PoemForm.FREE, piece.text).counts == (syllables,)


async def test_a_limerick_line_rhymes_with_its_stanza(writing):
    so_far = "There once was a cat from Peru\nWho dreamed he was eating a shoe\na\nb"
    spec = PieceSpec(Form.LINE, so_far, poem_form=PoemForm.LIMERICK, line_number=4)
    piece = await writing.write(spec, SamplingParams(seed=1))
    report = check(PoemForm.LIMERICK, "\n".join([*so_far.split("\n")[:2], "x", "y", piece.text]))
    assert report.lines[4].rhyme_letter == "A", piece.text
