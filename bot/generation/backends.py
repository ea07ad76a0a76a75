"""The generation service the configuration asks for: the local engine or a model server.

Both offer ``start``/``close``, ``stream``/``generate``, ``score``, ``info`` and ``health``;
front ends hold a ``GenerationBackend`` and never ask which one it is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from bot.config import Settings, openai_api_key
from bot.generation.types import (
    GenerationRequest,
    GenerationResult,
    GenerationUpdate,
    ModelInfo,
    ProgressCallback,
    TextScore,
)


class GenerationBackend(Protocol):
    """What the bot needs from text generation, wherever it runs."""

    async def start(self, progress: ProgressCallback | None = None) -> None: ...
    async def close(self) -> None: ...
    @property
    def info(self) -> ModelInfo: ...
    def health(self) -> dict[str, Any]: ...
    def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationUpdate]: ...
    async def generate(self, request: GenerationRequest) -> GenerationResult: ...
    async def score(self, text: str) -> TextScore: ...


def build_generation_service(settings: Settings) -> GenerationBackend:
    """The configured backend, not started yet. Imported lazily: the remote one must not
    load torch, the local one needs no HTTP client."""
    if settings.model.backend == "openai":
        from bot.generation.remote.service import RemoteGenerationService

        return RemoteGenerationService(
            settings.model, settings.generation, api_key=openai_api_key()
        )
    from bot.generation.service import GenerationService

    return GenerationService(settings.model, settings.generation, settings.voice)
