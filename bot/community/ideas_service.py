"""`IdeaService`: picks, generates and stores ideas for /idea, the console and the prompt of
the day. Front ends render the `Idea` it returns; the rules are in ``bot.community.ideas``.

Sources: ``curated`` draws from the shipped prompts without repeats (see
``bot.community.ideas``); ``ai`` asks the model through the write flow, checks the result is
one or two sentences, tries once more, and otherwise falls back to a curated prompt with a
note; ``any`` is curated, and asks the model only when no curated prompt fits the filter (a
theme outside the list), since the shipped prompts are the better read. When nothing fits a
filter, a curated prompt of a wider filter is shown (theme dropped, then genre), with a note.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from bot.community.ideas import (
    AI_EXAMPLES,
    RECENT_IDEAS,
    Draw,
    IdeaFilter,
    IdeaSource,
    ai_form,
    ai_idea_candidates,
    ai_idea_draft,
    draw_curated,
)
from bot.community.ideas_catalogue import CuratedPrompt, curated_prompts, matching
from bot.errors import InvalidRequest
from bot.storage import Database, IdeaRecord, NewIdea
from bot.writing.destination import WriteUpdate
from bot.writing.flow import WriteFlow
from bot.writing.requester import Requester, RequesterKind

log = logging.getLogger(__name__)

AI_TRIES = 2  # the first generation and one retry
NEW_CYCLE = "You've seen every idea for this here; starting over."
AI_FALLBACK = "I couldn't come up with a good idea of my own just now, so here is a curated one."


@dataclass(frozen=True)
class Idea:
    """An idea as shown: the stored record, whether it began a new cycle, and a note saying
    how it differs from what was asked (a wider filter, a curated fallback), if it does."""

    record: IdeaRecord
    new_cycle: bool = False
    note: str | None = None

    @property
    def id(self) -> int:
        """The stored idea's id (what its buttons carry)."""
        return self.record.id

    @property
    def text(self) -> str:
        """The prompt itself."""
        return self.record.text

    @property
    def filter(self) -> IdeaFilter:
        """The filter it was drawn for."""
        return IdeaFilter.from_pool(self.record.pool)


def idea_requester(person: Requester) -> Requester:
    """The requester an AI idea is written as: /idea on the person's behalf (filed under
    them, in their channel), with a slot of its own, one idea at a time each, and no
    cooldown: the retry of a bad prompt and the piece they then write from it are not held
    back by it. Other requesters (a schedule, a sprint) are returned as they are."""
    if person.kind is not RequesterKind.USER:
        return person
    return dataclasses.replace(person, kind=RequesterKind.IDEA, owner_id=person.id)


class _Kept:
    """A destination that keeps the finished text: nobody watches an idea being written."""

    def __init__(self) -> None:
        self.text = ""

    async def accept(self) -> None:
        """Nothing to acknowledge: the caller has answered its interaction already."""

    async def deliver(self, title: str, updates: AsyncIterator[WriteUpdate]) -> None:
        """Keep the finished piece's text."""
        async for update in updates:
            if update.piece is not None:
                self.text = update.piece.text

    async def stop(self, message: str) -> None:
        """Shutdown stopped it; the flow raises, and the caller says so."""


class IdeaService:
    """Ideas for channels; every idea shown is stored, so buttons survive restarts."""

    def __init__(
        self,
        database: Database,
        flow: WriteFlow,
        *,
        prompts: Sequence[CuratedPrompt] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._database = database
        self._flow = flow
        self._prompts = tuple(curated_prompts() if prompts is None else prompts)
        self._rng = rng or random.Random()

    async def pick(
        self,
        channel_id: int,
        guild_id: int | None,
        user_id: int,
        *,
        genre: str | None = None,
        theme: str | None = None,
        source: IdeaSource = "any",
        requester: Requester | None = None,
    ) -> Idea:
        """A new idea for ``channel_id``, stored under ``user_id`` (who asked, or who set up a
        schedule), never a curated repeat until the filter's pool runs out.

        ``requester`` is who an AI idea is written for in the write flow (default: the user in
        that channel); a user is turned into an ``idea_requester``, anything else (a
        schedule) is used as given. Raises ``InvalidRequest`` for an unknown genre or source,
        and what the write flow raises (shutdown, channel rules, a busy writer) for AI ideas.
        """
        if source not in ("any", "curated", "ai"):
            raise InvalidRequest("An idea's source is any, curated or ai.")
        wanted = IdeaFilter.of(genre, theme)
        pool = matching(self._prompts, wanted.genre, wanted.theme)
        if source == "ai" or (source == "any" and not pool):
            who = idea_requester(requester or Requester.user(user_id, "idea", guild_id, channel_id))
            text = await self._generate(who, wanted, channel_id)
            if text is not None:
                form, poem_form = ai_form(wanted)
                record = await self._database.ideas.add(
                    NewIdea(
                        channel_id=channel_id,
                        user_id=user_id,
                        guild_id=guild_id,
                        source="ai",
                        requested=source,
                        pool=wanted.pool,
                        text=text,
                        form=form,
                        genre=wanted.genre,
                        poem_form=poem_form,
                    )
                )
                return Idea(record)
            if source == "ai":
                return await self._curated(
                    channel_id, guild_id, user_id, wanted, source, AI_FALLBACK
                )
        return await self._curated(channel_id, guild_id, user_id, wanted, source, None)

    async def get(self, idea_id: int) -> IdeaRecord:
        """A stored idea (for its buttons); ``NotFound`` when it is gone."""
        return await self._database.ideas.require(idea_id)

    async def another(
        self,
        idea_id: int,
        channel_id: int,
        guild_id: int | None,
        user_id: int,
        *,
        requester: Requester | None = None,
    ) -> Idea:
        """A new idea for the same filter and source as a stored one, in ``channel_id``."""
        before = await self.get(idea_id)
        wanted = IdeaFilter.from_pool(before.pool)
        source = before.requested if before.requested in ("any", "curated", "ai") else "any"
        return await self.pick(
            channel_id,
            guild_id,
            user_id,
            genre=wanted.genre,
            theme=wanted.theme,
            source=source,  # type: ignore[arg-type]
            requester=requester,
        )

    # --- curated ---------------------------------------------------------------------------

    async def _curated(
        self,
        channel_id: int,
        guild_id: int | None,
        user_id: int,
        wanted: IdeaFilter,
        source: IdeaSource,
        note: str | None,
    ) -> Idea:
        drawn_for, pool = self._widest_needed(wanted)
        if drawn_for != wanted and note is None:
            note = (
                f"I have no curated {wanted.describe()}, "
                f"so here is one of my {drawn_for.describe()}."
            )
        # One transaction: reading what the channel saw and storing the new idea can't
        # interleave with another pick for the same channel.
        async with self._database.transaction():
            state = await self._database.ideas.pool_state(channel_id, drawn_for.pool)
            recent = await self._database.ideas.recent_keys(channel_id, RECENT_IDEAS)
            draw: Draw = draw_curated(pool, state.cycle, set(state.seen), recent, self._rng)
            record = await self._database.ideas.add(
                NewIdea(
                    channel_id=channel_id,
                    user_id=user_id,
                    guild_id=guild_id,
                    source="curated",
                    requested=source,
                    curated_key=draw.prompt.id,
                    pool=drawn_for.pool,
                    cycle=draw.cycle,
                    text=draw.prompt.text,
                    form=draw.prompt.form,
                    genre=draw.prompt.genre,
                    poem_form=draw.prompt.poem_form,
                )
            )
        return Idea(record, new_cycle=draw.new_cycle, note=note)

    def _widest_needed(self, wanted: IdeaFilter) -> tuple[IdeaFilter, list[CuratedPrompt]]:
        """The filter itself if a curated prompt fits it, else without its theme, else all."""
        for candidate in (wanted, IdeaFilter(wanted.genre, None), IdeaFilter()):
            pool = matching(self._prompts, candidate.genre, candidate.theme)
            if pool:
                return candidate, pool
        raise InvalidRequest("I have no curated ideas at all; this Inkwell was packaged badly.")

    # --- generated -------------------------------------------------------------------------

    async def _generate(
        self, requester: Requester, wanted: IdeaFilter, channel_id: int
    ) -> str | None:
        """One or two sentences from the model, or None after ``AI_TRIES`` bad attempts. A
        copy of a curated prompt (often one of the examples) or of an idea the channel saw
        recently is a bad attempt too: it is not new."""
        taken = {_same_text(prompt.text) for prompt in self._prompts}
        taken.update(
            _same_text(text)
            for text in await self._database.ideas.recent_texts(channel_id, RECENT_IDEAS)
        )
        examples = matching(self._prompts, wanted.genre, wanted.theme) or matching(
            self._prompts, wanted.genre
        )
        examples = examples or list(self._prompts)
        for attempt in range(AI_TRIES):
            # The retry shows one example only: a shorter prompt, in case length was the cause.
            shown = self._rng.sample(
                examples, min(AI_EXAMPLES if attempt == 0 else 1, len(examples))
            )
            kept = _Kept()
            try:
                await self._flow.write(requester, kept, ai_idea_draft(wanted, shown))
            except InvalidRequest as error:  # our own prompt was refused (too long for the model)
                log.warning("AI idea prompt refused: %s", error.user_message)
                continue
            candidates = ai_idea_candidates(kept.text)
            fresh = [text for text in candidates if _same_text(text) not in taken]
            if fresh:
                return fresh[0]
            if candidates:
                log.info("AI idea attempt %d repeated known ideas: %r", attempt + 1, candidates)
                continue
            log.info("AI idea attempt %d was not one or two sentences: %r", attempt + 1, kept.text)
        return None


def _same_text(text: str) -> str:
    """``text`` reduced to its lowercase words, so a copy with other spacing, case or
    punctuation is recognised."""
    return " ".join(re.findall(r"\w+", text.casefold()))
