"""Where a day's prompt comes from: the /idea pool (curated, or written by the model)."""

from __future__ import annotations

from bot.community.daily import PromptSource
from bot.community.ideas import SOURCES, IdeaSource
from bot.community.ideas_service import IdeaService
from bot.storage import Database
from bot.writing.flow import WriteFlow
from bot.writing.requester import Requester, RequesterKind


class IdeaPrompts:
    """Draws the day's prompt from the same pool as /idea, so a channel doesn't see a
    curated prompt twice until the pool runs out. An AI prompt is written as the schedule's
    own piece of work: the guild's share of the writer, not its owner's cooldown."""

    def __init__(self, ideas: IdeaService) -> None:
        self._ideas = ideas

    async def daily_prompt(
        self, *, guild_id: int, channel_id: int, source: str, owner_id: int
    ) -> str:
        """One prompt's text."""
        requester = Requester(
            RequesterKind.SCHEDULE,
            guild_id,
            "prompt of the day",
            guild_id,
            channel_id,
            owner_id=owner_id,
        )
        wanted: IdeaSource = source if source in SOURCES else "any"  # type: ignore[assignment]
        idea = await self._ideas.pick(
            channel_id, guild_id, owner_id, source=wanted, requester=requester
        )
        return idea.text


def prompt_source(database: Database, flow: WriteFlow) -> PromptSource:
    """The daily prompts' source for this bot."""
    return IdeaPrompts(IdeaService(database, flow))
