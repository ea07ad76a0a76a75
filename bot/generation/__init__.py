"""Text generation: the only package that imports torch and transformers.

Import the data types from here (cheap); import ``bot.generation.service`` only where the model
is really needed, since it loads torch.
"""

from bot.generation.types import (
    ChatMessage,
    DecodingConstraint,
    FinishReason,
    GenerationRequest,
    GenerationResult,
    GenerationUpdate,
    ModelInfo,
    ProgressCallback,
    ResolvedSampling,
    SamplingParams,
    ScoredToken,
    StopRule,
    TextScore,
)

__all__ = [
    "ChatMessage",
    "DecodingConstraint",
    "FinishReason",
    "GenerationRequest",
    "GenerationResult",
    "GenerationUpdate",
    "ModelInfo",
    "ProgressCallback",
    "ResolvedSampling",
    "SamplingParams",
    "ScoredToken",
    "StopRule",
    "TextScore",
]
