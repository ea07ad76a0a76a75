"""The writer may rest: a generation backend whose model failed to load leaves the bot up.

``RestingGeneration`` wraps whichever backend the configuration built. When its ``start``
raises (a corrupt checkpoint, a model name that cannot be fetched offline, a model server
that does not answer), the bot still connects to Discord; everything that needs the model is
refused with ``WriterResting``, a domain error that the front ends show privately, and the
reason is kept (one short line, secrets removed) for ``/stats``, the heartbeat and the log.
``reload`` tries again without a restart (``python -m bot reload-model`` or the owner's
/owner reload-model); a second reload while one runs is refused kindly.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bot.errors import InkwellError, ModelUnavailable
from bot.generation.backends import GenerationBackend
from bot.generation.types import (
    GenerationRequest,
    GenerationResult,
    GenerationUpdate,
    ModelInfo,
    ProgressCallback,
    TextScore,
)
from bot.log_redaction import RedactSecrets

log = logging.getLogger(__name__)

MAX_REASON_CHARS = 300  # room for a path or two, and what was wrong with the file

RESTING = (
    "✍️ The writer is resting: its model could not be loaded, so I can't write right now. "
    "The bot's owner can see why in /stats and retry with /owner reload-model (or "
    "`python -m bot reload-model`). "
    "Please try again later."
)
WAKING = "✍️ The writer is waking up (its model is loading). Please try again in a minute."
ALREADY_LOADING = "The model is already loading; wait for that attempt to finish (see /stats)."


class WriterResting(ModelUnavailable):
    """The model is not loaded (it failed, or is loading): nothing that needs it can run."""


class AlreadyLoading(InkwellError):
    """A reload was asked for while the model was loading."""


class ModelState(enum.Enum):
    """Where the model stands."""

    LOADING = "loading"
    READY = "ready"
    RESTING = "resting"


@dataclass(frozen=True, slots=True)
class ModelStatus:
    """A snapshot for /stats and the heartbeat: the state, why it rests, and since when."""

    state: ModelState
    reason: str | None
    since: float  # unix time of the last change
    attempts: int  # load attempts so far, the first at start included


def short_reason(error: BaseException, secrets: Iterable[str | None] = ()) -> str:
    """One line about ``error`` for people: the first line of its message (after its type,
    unless it is a domain error), without anything secret-shaped, at most
    ``MAX_REASON_CHARS`` long."""
    if isinstance(error, InkwellError):  # written for people already: no type needed
        text = _first_line(error.user_message) or type(error).__name__
    else:
        first = _first_line(str(error))
        text = f"{type(error).__name__}: {first}" if first else type(error).__name__
    text = RedactSecrets(secrets).redact(text)
    if len(text) > MAX_REASON_CHARS:
        text = text[: MAX_REASON_CHARS - 1] + "…"
    return text


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


class RestingGeneration:
    """``backend``, with a failed load kept as a reason instead of raised, and a reload."""

    def __init__(
        self,
        backend: GenerationBackend,
        *,
        secrets: Iterable[str | None] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._backend = backend
        self._secrets = tuple(secrets)
        self._clock = clock
        self._state = ModelState.LOADING
        self._reason: str | None = None
        self._since = clock()
        self._attempts = 0
        self._lock = asyncio.Lock()
        self._progress: ProgressCallback | None = None

    @property
    def status(self) -> ModelStatus:
        """Where the model stands now."""
        return ModelStatus(self._state, self._reason, self._since, self._attempts)

    @property
    def ready(self) -> bool:
        """True when the model is loaded and writing."""
        return self._state is ModelState.READY

    def require_ready(self) -> None:
        """Raise ``WriterResting`` unless the model is loaded."""
        if self._state is ModelState.LOADING:
            raise WriterResting(WAKING)
        if self._state is ModelState.RESTING:
            raise WriterResting(RESTING)

    async def start(self, progress: ProgressCallback | None = None) -> None:
        """Load the model; a failure is kept, logged and not raised (the bot serves on)."""
        self._progress = progress
        async with self._lock:
            await self._load()

    async def reload(self) -> ModelStatus:
        """Try loading again (the backend does its slow work in a thread). A loaded model is
        closed first and loaded afresh, so new files on disk are picked up. Raises
        ``AlreadyLoading`` while an attempt runs."""
        if self._lock.locked():
            raise AlreadyLoading(ALREADY_LOADING)
        async with self._lock:
            log.info("Reloading the model (it was %s)", self._state.value)
            self._set(ModelState.LOADING, None)
            await self._backend.close()
            await self._load()
        return self.status

    async def _load(self) -> None:
        self._attempts += 1
        self._set(ModelState.LOADING, None)
        try:
            await self._backend.start(self._progress)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # whatever loading raised: the bot must stay up
            reason = short_reason(error, self._secrets)
            log.error("The model could not be loaded; the writer rests: %s", reason)
            log.debug("Model load failure", exc_info=error)
            # A half-started backend (the model loaded, the engine not) lets go of it.
            try:
                await self._backend.close()
            except Exception:
                log.exception("Closing the backend after a failed load failed too")
            self._set(ModelState.RESTING, reason)
            return
        self._set(ModelState.READY, None)
        log.info("The model is loaded: %s", self._backend.info.name)

    def _set(self, state: ModelState, reason: str | None) -> None:
        self._state, self._reason, self._since = state, reason, self._clock()

    async def close(self) -> None:
        """Close the wrapped backend."""
        await self._backend.close()

    @property
    def info(self) -> ModelInfo:
        """The loaded model (``WriterResting`` when there is none)."""
        self.require_ready()
        return self._backend.info

    def health(self) -> dict[str, Any]:
        """The backend's health, with the model's state and why it rests."""
        health = dict(self._backend.health()) if self.ready else {"ready": False}
        health["model_state"] = self._state.value
        if self._reason is not None:
            health["model_reason"] = self._reason
        return health

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationUpdate]:
        """The wrapped stream, refused while the writer rests."""
        self.require_ready()
        async for update in self._backend.stream(request):
            yield update

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        """The wrapped generate, refused while the writer rests."""
        self.require_ready()
        return await self._backend.generate(request)

    async def score(self, text: str) -> TextScore:
        """The wrapped score, refused while the writer rests."""
        self.require_ready()
        return await self._backend.score(text)
