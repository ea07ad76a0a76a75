"""A game's AI turn and a poem's title, written by real (tiny, random) models through the
writing service: whatever the model babbles, one line comes out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import GenerationSettings, ModelSettings
from bot.errors import PromptTooLong
from bot.forms import Form, PieceSpec, PoemForm
from bot.generation.service import GenerationService
from bot.generation.types import SamplingParams
from bot.writing.pieces import WritingService
from tests.generation.tiny_chat import build_tiny_chat_model

POEM = "Grey waves fold and break\nsalt wind combs the empty dunes"


@pytest.fixture(scope="module")
def tiny_chat_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_chat_model(tmp_path_factory.mktemp("tiny-chat"))


@pytest.fixture(params=["base", "chat"])
async def writing(request, tiny_gpt2_dir, tiny_chat_dir) -> AsyncIterator[WritingService]:
    model = tiny_gpt2_dir if request.param == "base" else tiny_chat_dir
    service = GenerationService(
        ModelSettings(name=str(model)), GenerationSettings(max_prompt_tokens=512)
    )
    await service.start()
    yield WritingService(service)
    await service.close()


def assert_one_line(text: str, most: int) -> None:
    assert text.strip() == text and text, repr(text)
    assert "\n" not in text and len(text) <= most, repr(text)


@pytest.mark.parametrize("poem_form", list(PoemForm))
async def test_a_game_line_is_one_line(writing, poem_form):
    assert writing.model.chat in (True, False)
    for seed, (text, number) in enumerate([("", 0), (POEM, 2), (POEM + "\nx", 3)]):
        spec = PieceSpec(Form.LINE, text, poem_form=poem_form, line_number=number, topic="The Sea")
        piece = await writing.write(spec, SamplingParams(seed=seed))
        assert_one_line(piece.text, 200)
        assert piece.spec.title() == "Line: The Sea"


async def test_a_title_is_one_short_line(writing):
    for seed in range(4):
        piece = await writing.write(PieceSpec(Form.TITLE, POEM), SamplingParams(seed=seed))
        assert_one_line(piece.text, 60)
        assert not piece.text.startswith(('"', "\u201c"))
        assert piece.spec.title() == "Title"


LONG_POEM = "\n".join(
    f"line {n} of the long tide, the harbour lamps are burning low" for n in range(12)
)


def prompt_tokens(service: GenerationService, writing: WritingService, spec: PieceSpec) -> int:
    return len(service.prepare(writing.request_for(spec, SamplingParams())).input_ids)


@pytest.mark.parametrize("form", [Form.LINE, Form.TITLE])
async def test_a_long_poem_is_cut_to_the_prompt_limit_not_refused(form, tiny_gpt2_dir):
    """A model with a short prompt limit reads as much of the poem as fits: the game's AI
    turn still writes its line (a long game once failed its title on the tiny model)."""
    settings = ModelSettings(name=str(tiny_gpt2_dir))
    roomy = GenerationService(settings, GenerationSettings(max_prompt_tokens=2048))
    await roomy.start()
    try:
        spec = PieceSpec(form, LONG_POEM, line_number=12, topic="The Sea")
        whole = prompt_tokens(roomy, WritingService(roomy), spec)
        three = PieceSpec(form, "\n".join(LONG_POEM.split("\n")[:3]), line_number=12)
        limit = (prompt_tokens(roomy, WritingService(roomy), three) + whole) // 2
    finally:
        await roomy.close()
    tight = GenerationService(settings, GenerationSettings(max_prompt_tokens=limit))
    await tight.start()
    try:
        writing = WritingService(tight)
        with pytest.raises(PromptTooLong):
            tight.prepare(writing.request_for(spec, SamplingParams()))
        piece = await writing.write(spec, SamplingParams(seed=1))
        assert_one_line(piece.text, 200)
        assert piece.spec == spec  # attributed to what was asked, not the cut context
        # Anything that is not context is refused as before, with the limit in the message.
        with pytest.raises(PromptTooLong, match=f"the limit is {limit}"):
            await writing.write(PieceSpec(Form.CONTINUE, LONG_POEM * 2), SamplingParams())
    finally:
        await tight.close()
