"""IdeaService against real storage and a scripted writer: no repeats per channel and pool,
new cycles, filters that fall back wider, and AI ideas checked, retried and replaced."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest

from bot.community.ideas_catalogue import CuratedPrompt
from bot.community.ideas_service import AI_FALLBACK, IdeaService
from bot.errors import InvalidRequest
from bot.storage import Database
from bot.writing.destination import WriteUpdate
from bot.writing.requester import Requester, RequesterKind

PROMPTS = (
    CuratedPrompt("horror-01", "A door knocks back.", "horror", "story", None, ("home", "fear")),
    CuratedPrompt("horror-02", "The sea keeps a ring.", "horror", "story", None, ("sea",)),
    CuratedPrompt("poetry-01", "Rain on apples.", "poetry", "poem", "haiku", ("rain",)),
    CuratedPrompt("comedy-01", "A goat reads the news.", "comedy", "script", None, ("animals",)),
)


class ScriptedFlow:
    """Stands in for WriteFlow: answers each write with the next scripted text."""

    def __init__(self, *texts: str) -> None:
        self.texts = list(texts)
        self.requests: list[tuple[Requester, object]] = []

    async def write(self, requester, destination, draft):
        self.requests.append((requester, draft))
        await destination.accept()
        text = self.texts.pop(0)

        async def updates() -> AsyncIterator[WriteUpdate]:
            yield WriteUpdate(text=text[:3])
            yield WriteUpdate(piece=SimpleNamespace(text=text))  # type: ignore[arg-type]

        await destination.deliver(draft.spec.title(), updates())
        return None


@pytest.fixture
async def db(tmp_path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "inkwell.db")
    try:
        yield database
    finally:
        await database.close()


def service(db: Database, flow: ScriptedFlow | None = None) -> IdeaService:
    return IdeaService(db, flow or ScriptedFlow(), prompts=PROMPTS, rng=random.Random(4))  # type: ignore[arg-type]


async def test_a_channel_sees_every_curated_idea_once_then_starts_over(db):
    ideas = service(db)
    shown = [await ideas.pick(1, 9, 100) for _ in range(len(PROMPTS))]
    assert sorted(i.record.curated_key for i in shown) == sorted(p.id for p in PROMPTS)
    assert not any(i.new_cycle for i in shown) and {i.record.cycle for i in shown} == {0}
    again = await ideas.pick(1, 9, 100)
    assert again.new_cycle and again.record.cycle == 1
    assert again.record.curated_key != shown[-1].record.curated_key
    # Another channel has its own history.
    elsewhere = await ideas.pick(2, 9, 100)
    assert not elsewhere.new_cycle and elsewhere.record.cycle == 0


async def test_filters_keep_their_own_pool_and_another_keeps_the_filter(db):
    ideas = service(db)
    first = await ideas.pick(1, 9, 100, genre="horror")
    second = await ideas.another(first.id, 1, 9, 200)
    assert {first.record.curated_key, second.record.curated_key} == {"horror-01", "horror-02"}
    assert second.record.pool == "genre=horror;theme=*" and second.record.user_id == 200
    third = await ideas.another(second.id, 1, 9, 200)
    assert third.new_cycle and third.record.genre == "horror"
    themed = await ideas.pick(1, 9, 100, theme="Rain")
    assert themed.text == "Rain on apples." and themed.record.poem_form == "haiku"
    assert themed.filter.theme == "rain" and themed.note is None


async def test_a_filter_nothing_fits_falls_back_wider_with_a_note(db):
    ideas = service(db)
    idea = await ideas.pick(1, 9, 100, genre="horror", theme="space", source="curated")
    assert idea.record.genre == "horror" and idea.record.pool == "genre=horror;theme=*"
    assert (
        idea.note
        == "I have no curated horror ideas about “space”, so here is one of my horror ideas."
    )
    with pytest.raises(InvalidRequest):
        await ideas.pick(1, 9, 100, genre="western")
    with pytest.raises(InvalidRequest):
        await ideas.pick(1, 9, 100, source="maybe")  # type: ignore[arg-type]


async def test_an_ai_idea_is_checked_and_stored(db):
    flow = ScriptedFlow('1. "A violin that only plays at funerals goes missing."\nPrompt: more')
    ideas = service(db, flow)
    idea = await ideas.pick(1, 9, 100, genre="horror", source="ai")
    assert idea.text == "A violin that only plays at funerals goes missing."
    assert idea.record.source == "ai" and idea.record.curated_key is None
    assert idea.record.requested == "ai" and idea.record.form == "story"
    ((requester, draft),) = flow.requests
    assert requester.kind is RequesterKind.IDEA and requester.id == requester.owner_id == 100
    assert not draft.record and draft.spec.text.count("Prompt: ") == 2  # both horror examples
    # AI ideas don't use up the curated pool.
    assert (await db.ideas.pool_state(1, idea.record.pool)).seen == frozenset()
    # Another asks the AI again.
    flow.texts.append("The poem a lighthouse writes to the moon is finally answered.")
    again = await ideas.another(idea.id, 1, 9, 100)
    assert again.record.source == "ai"


async def test_a_bad_generation_is_retried_once_then_replaced_by_a_curated_idea(db):
    flow = ScriptedFlow("lorem ipsum ,,, ;;", "A fine idea. It has three. Sentences here.")
    ideas = service(db, flow)
    schedule = Requester(RequesterKind.SCHEDULE, 5, "daily", 9, 1, owner_id=100)
    idea = await ideas.pick(1, 9, 100, genre="poetry", source="ai", requester=schedule)
    assert len(flow.requests) == 2 and all(r is schedule for r, _ in flow.requests)
    assert idea.record.source == "curated" and idea.note == AI_FALLBACK
    assert idea.record.curated_key == "poetry-01"


async def test_any_asks_the_ai_only_when_no_curated_idea_fits(db):
    flow = ScriptedFlow("An astronaut finds her childhood kite orbiting the station.")
    ideas = service(db, flow)
    curated = await ideas.pick(1, 9, 100, genre="horror")
    assert curated.record.source == "curated" and not flow.requests
    generated = await ideas.pick(1, 9, 100, theme="kites")
    assert generated.record.source == "ai" and generated.record.pool == "genre=*;theme=kites"
    assert "about kites" in flow.requests[0][1].spec.text


class RefusingFlow(ScriptedFlow):
    """The first prompt is refused as too long, as a small max_prompt_tokens would."""

    async def write(self, requester, destination, draft):
        if not self.requests:
            self.requests.append((requester, draft))
            raise InvalidRequest("That prompt is 200 tokens long; the limit is 96.")
        return await super().write(requester, destination, draft)


async def test_a_refused_ai_prompt_is_retried_shorter(db):
    flow = RefusingFlow("A glassblower's breath is trapped in every bottle she makes.")
    ideas = service(db, flow)
    idea = await ideas.pick(1, 9, 100, genre="horror", source="ai")
    assert idea.record.source == "ai" and len(flow.requests) == 2
    first, retry = (draft.spec.text for _, draft in flow.requests)
    assert first.count("Prompt: ") == 2 and retry.count("Prompt: ") == 1  # both, then one


async def test_ai_ideas_take_no_cooldown_from_the_user_who_asked(tmp_path, db):
    """With a real write flow and a long cooldown: two AI ideas in a row, then a piece of the
    user's own, are all written (an idea has its own slot and no cooldown)."""
    from bot.community.ideas import piece_draft
    from bot.config import GenerationSettings, ModelSettings
    from bot.generation.service import GenerationService
    from bot.writing.fairness import FairnessGate
    from bot.writing.flow import WriteFlow
    from bot.writing.pieces import WritingService
    from tests.generation.scripted_model import build_scripted_gpt2

    # Two prompts: the second "Another" can't repeat the first one in the channel.
    script = (
        "\nPrompt: A violin that only plays at funerals goes missing."
        "\nPrompt: A lighthouse keeper finds a letter in the lamp.\n"
    )
    generation = GenerationService(
        ModelSettings(name=str(build_scripted_gpt2(tmp_path / "m", script))),
        GenerationSettings(max_new_tokens_cap=48, max_prompt_tokens=200),
    )
    await generation.start()
    try:
        flow = WriteFlow(WritingService(generation), db, FairnessGate(db), cooldown_seconds=600)
        ideas = IdeaService(db, flow, prompts=PROMPTS, rng=random.Random(1))
        user = Requester.user(100, "Ada", 9, 1)
        first = await ideas.pick(1, 9, 100, source="ai", requester=user)
        second = await ideas.another(first.id, 1, 9, 100, requester=user)
        assert first.record.source == second.record.source == "ai"
        assert first.text != second.text
        record = first.record
        piece = await flow.write(
            user, _Sink(), piece_draft(record.text, record.form, record.poem_form, record.genre)
        )
        assert piece is not None and piece.user_id == 100
    finally:
        await generation.close()


class _Sink:
    async def accept(self):
        pass

    async def deliver(self, title, updates):
        async for _ in updates:
            pass

    async def stop(self, message):
        pass


async def test_a_prompt_drawn_under_one_filter_is_not_repeated_under_another(db):
    ideas = service(db)
    horror = [await ideas.pick(1, 9, 100, genre="horror") for _ in range(2)]
    assert {i.record.curated_key for i in horror} == {"horror-01", "horror-02"}
    plain = [await ideas.pick(1, 9, 100) for _ in range(2)]
    assert {i.record.curated_key for i in plain} == {"poetry-01", "comedy-01"}
    assert not any(i.new_cycle for i in plain)
    # Every prompt was shown since plain /idea's cycle began: the next one starts over.
    again = await ideas.pick(1, 9, 100)
    assert again.new_cycle and again.record.cycle == 1


async def test_simultaneous_picks_and_anothers_in_a_channel_never_repeat(db):
    ideas = service(db)
    first = await ideas.pick(1, 9, 100)
    rest = await asyncio.gather(
        ideas.another(first.id, 1, 9, 200),
        ideas.pick(1, 9, 300),
        ideas.another(first.id, 1, 9, 400),
    )
    shown = [first, *rest]
    keys = [i.record.curated_key for i in shown]
    assert sorted(keys) == sorted(p.id for p in PROMPTS), keys
    assert {i.record.cycle for i in shown} == {0} and not any(i.new_cycle for i in shown)
    # The next round, also simultaneous, is a new cycle without repeats inside it.
    more = await asyncio.gather(*(ideas.pick(1, 9, 100 + n) for n in range(4)))
    assert len({i.record.curated_key for i in more}) == 4
    assert {i.record.cycle for i in more} == {1}


async def test_an_ai_idea_that_copies_a_curated_prompt_is_retried(db):
    flow = ScriptedFlow("The sea keeps a RING!", "A lantern walks home alone across the moor.")
    idea = await service(db, flow).pick(1, 9, 100, source="ai")
    assert idea.record.source == "ai" and len(flow.requests) == 2
    assert idea.text == "A lantern walks home alone across the moor."
    assert idea.note is None


async def test_an_ai_idea_that_repeats_the_channels_recent_idea_falls_back(db):
    same = "A lantern walks home alone across the moor."
    ideas = service(db, ScriptedFlow(same, same, f"“{same}”", same))
    first = await ideas.pick(1, 9, 100, source="ai")
    assert first.text == same
    # Twice the same prompt again: refused both times, and a curated one is shown instead.
    second = await ideas.another(first.id, 1, 9, 100)
    assert second.record.source == "curated" and second.note == AI_FALLBACK
    # Another channel has not seen it.
    elsewhere = await ideas.pick(2, 9, 100, source="ai")
    assert elsewhere.record.source == "ai" and elsewhere.text == same
