"""A sprint's prompt from the AI: one or two whole sentences through the write flow, with
the sprint as the requester (its own fairness slot, filed under whoever started it), or one
of a few built-in prompts when the AI can't give a usable one."""

from __future__ import annotations

import logging
import random
import re

from bot.errors import InkwellError
from bot.forms import Form, PieceSpec
from bot.games.ai import Captured
from bot.generation.types import SamplingParams
from bot.storage import SprintRow
from bot.writing.drafts import Draft
from bot.writing.flow import WriteFlow
from bot.writing.requester import Requester, RequesterKind

log = logging.getLogger(__name__)

AI_PROMPT_SEED = "A one-sentence creative writing prompt for a timed writing sprint:"
MAX_PROMPT_CHARS = 240
# Used when the AI's prompt comes back empty or too long, or it can't write just now.
FALLBACK_PROMPTS = (
    "A door that was painted shut opens on its own.",
    "Someone finds a letter addressed to them, dated fifty years from now.",
    "The last lighthouse keeper gets an unexpected visitor.",
    "A town where it has rained for a hundred days, until today.",
    "Two strangers share an umbrella and one secret.",
    "A map that changes every time it is folded.",
)
_SENTENCE = re.compile(r"[^.!?]*[.!?]")


async def ai_prompt(
    flow: WriteFlow | None,
    sprint: SprintRow,
    parent_channel_id: int | None,
    choose: random.Random,
) -> str:
    """A prompt from the AI through the write flow, or one of ours when it can't."""
    text: str | None = None
    if flow is not None:
        requester = Requester(
            RequesterKind.SPRINT,
            sprint.id,
            f"Sprint #{sprint.id}",
            sprint.guild_id,
            sprint.channel_id,
            parent_channel_id,
            owner_id=sprint.starter_id,
        )
        draft = Draft(
            PieceSpec(form=Form.GENERATE, text=AI_PROMPT_SEED),
            SamplingParams(max_new_tokens=48),
            record=False,
        )
        captured = Captured()
        try:
            await flow.write(requester, captured, draft)
            text = clean_prompt(captured.text or "")
        except InkwellError as error:
            log.info("Sprint %d: no AI prompt (%s)", sprint.id, error.user_message)
    return text or choose.choice(FALLBACK_PROMPTS)


def clean_prompt(text: str) -> str | None:
    """The AI's prompt as one or two whole sentences on one line, or None if it isn't."""
    flat = " ".join(text.split())
    sentences = [s.strip() for s in _SENTENCE.findall(flat) if len(s.strip()) > 3]
    if not sentences:
        return None
    prompt = " ".join(sentences[:2])
    return prompt if 12 <= len(prompt) <= MAX_PROMPT_CHARS else None
