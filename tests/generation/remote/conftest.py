"""One ``python -m bot serve`` per test module (a tiny model with a long context, so that a
piece can run long enough to be caught in the middle), and remote services pointed at it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import GenerationSettings, ModelSettings
from bot.generation.remote.service import RemoteGenerationService
from tests.generation.remote.model_server import model_server
from tests.tiny_models import build_tiny_gpt2

LONG = 4000  # tokens: seconds of writing for the tiny model, far past any test's wait


@pytest.fixture(scope="module")
def long_context_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_gpt2(tmp_path_factory.mktemp("tiny-long"), n_positions=LONG + 96)


@pytest.fixture(scope="module")
def server_url(long_context_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with model_server(
        tmp_path_factory.mktemp("serve"),
        long_context_model,
        max_new_tokens_cap=LONG,
        max_batch_size=4,
    ) as url:
        yield url


@contextlib.asynccontextmanager
async def remote(base_url: str, **model: object) -> AsyncIterator[RemoteGenerationService]:
    """A started remote service; ``model`` overrides ``ModelSettings`` (timeouts, retries),
    ``max_batch_size``/``max_queue`` there go to the generation settings."""
    generation = {k: model.pop(k) for k in ("max_batch_size", "max_queue") if k in model}
    service = RemoteGenerationService(
        ModelSettings(backend="openai", base_url=base_url, **model),  # type: ignore[arg-type]
        GenerationSettings(max_new_tokens_cap=LONG, max_prompt_tokens=96, **generation),  # type: ignore[arg-type]
    )
    await service.start()
    try:
        yield service
    finally:
        await service.close()
