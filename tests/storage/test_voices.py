"""VoiceRepository: consent is off by default, only allowed authors' texts form a guild's
corpus (a game poem counts only whole), and an erasure or a withdrawal marks the adapters
that learned from the member for retraining."""

from __future__ import annotations

from bot.storage import Database
from tests.storage.factories import add_piece
from tests.storage.test_games import ALICE, BOB, CAROL, GUILD, finished_poem, line

OTHER_GUILD = 77


async def entry(db: Database, user_id: int, text: str, guild: int = GUILD, day: str = "2026-01-01"):
    prompt = await db.daily.latest_prompt(guild) or await db.daily.claim_prompt(
        guild,
        "UTC",
        day,
        text="the sea",
        source="curated",
        mode="post",
        channel_id=5,
        posted_at=0.0,
    )
    assert prompt is not None
    return await db.daily.add_entry(prompt, user_id, f"user {user_id}", text)


async def test_consent_is_off_until_a_member_allows_it(db: Database) -> None:
    assert await db.voices.consent_of(ALICE) is False
    await db.voices.set_consent(ALICE, True)
    assert await db.voices.consent_of(ALICE) is True
    await db.voices.set_consent(ALICE, False)
    assert await db.voices.consent_of(ALICE) is False


async def test_the_corpus_holds_only_texts_whose_authors_allowed_it(db: Database) -> None:
    await db.voices.set_consent(ALICE, True)
    await db.voices.set_consent(CAROL, True)
    await db.voices.set_consent(BOB, False)
    await entry(db, ALICE, "alice's sea poem")
    await entry(db, BOB, "bob's private sea poem")
    # Alice's and the AI's lines only: in. Bob wrote a line of the second: out, whole.
    _, kept = await finished_poem(db, line(0, ALICE, "a"), line(1, None, "b", by_ai=True))
    await finished_poem(db, line(0, CAROL, "c"), line(1, BOB, "bob's line"), channel=12)
    starred = await add_piece(db, user_id=CAROL, text="carol's starred piece")
    bobs = await add_piece(db, user_id=BOB, text="bob's starred piece")
    await add_piece(db, user_id=ALICE, text="alice's unstarred piece")
    elsewhere = await add_piece(db, user_id=ALICE, guild_id=OTHER_GUILD, text="elsewhere")
    for piece in (starred, bobs, elsewhere):
        await db.favorites.add(ALICE, piece.id)

    corpus = await db.voices.corpus(GUILD, ["anthology", "submissions", "favorites"])
    found = {(text.source, text.ref) for text in corpus.texts}
    everything = " ".join(text.text for text in corpus.texts)
    assert (
        "bob" not in everything and "elsewhere" not in everything and "unstarred" not in everything
    )
    assert ("anthology", kept) in found and ("favorites", starred.id) in found
    assert "alice's sea poem" in everything
    assert corpus.authors == {ALICE, CAROL} and corpus.left_out == 3  # bob's entry, poem, piece
    only = await db.voices.corpus(GUILD, ["submissions"])
    assert [text.source for text in only.texts] == ["submissions"]


async def test_erasing_or_withdrawing_marks_the_adapters_built_from_you(db: Database) -> None:
    for user in (ALICE, BOB):
        await db.voices.set_consent(user, True)
    await db.voices.record_adapter(
        name="harbour",
        guild_id=GUILD,
        base_model="tiny",
        author_ids=[ALICE, BOB],
        pieces=9,
        card={"perplexity": [40.0, 20.0]},
    )
    await db.voices.record_adapter(
        name="bob-only", guild_id=GUILD, base_model="tiny", author_ids=[BOB], pieces=2, card={}
    )
    record = await db.voices.adapter("harbour")
    assert record is not None and record.authors == 2 and not record.needs_retraining
    assert record.card == {"perplexity": [40.0, 20.0]}
    assert (await db.users.export(ALICE))["training"]["adapters_built_from_you"] == ["harbour"]

    assert await db.voices.set_consent(ALICE, False) == 1
    marked = {a.name: a.needs_retraining for a in await db.voices.adapters(GUILD)}
    assert marked == {"bob-only": False, "harbour": True}
    assert (await db.users.export(ALICE))["training"]["adapters_built_from_you"] == []

    await db.users.delete_all(BOB)
    assert all(a.needs_retraining for a in await db.voices.adapters())
    assert (await db.users.export(BOB))["training"] == {
        "allowed": False,
        "changed_at": None,
        "adapters_built_from_you": [],
    }
    # Retraining replaces the record and clears the mark.
    again = await db.voices.record_adapter(
        name="harbour", guild_id=GUILD, base_model="tiny", author_ids=[CAROL], pieces=1, card={}
    )
    assert again.authors == 1 and not again.needs_retraining
