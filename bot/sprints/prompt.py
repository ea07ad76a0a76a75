"""A sprint's prompt: from the AI through the write flow, with the sprint as the requester (its
own fairness slot, filed under whoever started it), or one of Inkwell's curated prompts when
the AI can't give a usable one.

The AI is asked, and its answer checked, exactly as ``/idea`` does it (few-shot from curated
prompts; one or two whole sentences, no mentions or links), so both kinds read alike.
"""

from __future__ import annotations

import logging
import random

from bot.community.ideas import IdeaFilter, ai_idea_draft, clean_ai_idea
from bot.community.ideas_catalogue import curated_prompts
from bot.errors import InkwellError
from bot.games.ai import Captured
from bot.storage import SprintRow
from bot.writing.flow import WriteFlow
from bot.writing.requester import Requester, RequesterKind

log = logging.getLogger(__name__)

EXAMPLES = 3


def curated_prompt(choose: random.Random) -> str:
    """One of the curated prompts, at random."""
    return choose.choice(curated_prompts()).text


async def ai_prompt(
    flow: WriteFlow | None,
    sprint: SprintRow,
    parent_channel_id: int | None,
    choose: random.Random,
) -> str:
    """A prompt from the AI, or a curated one when it can't write a usable one now."""
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
        examples = choose.sample(curated_prompts(), EXAMPLES)
        captured = Captured()
        try:
            await flow.write(requester, captured, ai_idea_draft(IdeaFilter(), examples))
            text = clean_ai_idea(captured.text or "")
        except InkwellError as error:
            log.info("Sprint %d: no AI prompt (%s)", sprint.id, error.user_message)
        except Exception:
            # The sprint matters more than its prompt: it goes on with a curated one.
            log.exception("Sprint %d: writing its prompt failed", sprint.id)
    return text or curated_prompt(choose)
