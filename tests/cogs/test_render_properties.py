"""Splitting and rendering on hostile text: every message fits, nothing is lost, and no
message shows live markdown, an embedding link, an invite, or goes out able to ping."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.forms import Form, PieceSpec, PoemForm
from bot.generation.types import FinishReason, ResolvedSampling
from bot.storage import GenerationRecord
from bot.writing.destination import WriteUpdate
from bot.writing.pieces import Piece
from cogs.destinations import ChannelPost, InteractionReply
from cogs.render import (
    INVITE_REMOVED,
    MESSAGE_LIMIT,
    piece_text_of,
    render_final,
    render_progress,
    render_unsaved,
    split_message,
)
from tests.cogs.test_render import embeds_or_invites
from tests.strategies import FRAGMENTS, hostile_text, scaled

# Text that splitting finds hard: giant words made of escapable marks, long links, and lines
# just under and over the limit.
giant_words = st.tuples(
    st.sampled_from(["*", "_", "a*", "\\", "`", "https://example.com/", "www.x.org/", "~|"]),
    st.integers(100, 600),
    st.text(st.sampled_from("ab*_"), max_size=3),
).map(lambda parts: parts[2] + parts[0] * parts[1])
# One long line of words and the markers that open a block at a line's start: splitting it
# into lines must not put a marker first.
reflowed = st.lists(
    st.sampled_from(["word", "words", ">", ">>>", "#", "##", "-", "-#", "a\\", "<b"]),
    min_size=300,
    max_size=500,
).map(" ".join)
long_text = st.lists(
    st.one_of(hostile_text(max_size=10), giant_words, reflowed, st.sampled_from(FRAGMENTS)),
    max_size=8,
).map("".join)


@given(text=st.one_of(long_text, hostile_text()), limit=st.integers(10, MESSAGE_LIMIT))
def test_chunks_fit_are_in_order_and_only_whitespace_falls_between_them(
    text: str, limit: int
) -> None:
    chunks = split_message(text, limit)
    assert chunks
    assert all(len(chunk) <= limit for chunk in chunks)
    if not text.strip():
        assert chunks == [""]
        return
    # A long line is cut at spaces into several lines; otherwise nothing moves: each line of
    # each chunk is a piece of the text, in order, with only whitespace dropped between.
    position = 0
    for chunk in chunks:
        assert chunk.strip(), "no message is only whitespace"
        for line in filter(None, chunk.split("\n")):
            found = text.index(line, position)
            assert not text[position:found].strip(), "only whitespace is dropped"
            position = found + len(line)
    assert not text[position:].strip()


# What Discord reads as markup in a message we post: the characters piece_body escapes, and
# the line-start markers. Our own title line and attribution subtext are the exceptions.
_TOKEN = re.compile(r"<https?://[^\s<>]+>|\\[^0-9A-Za-z\s]|[\\_*~|`\[\]]", re.IGNORECASE)
_LINE_MARKER = re.compile(r"^[ \t]*(?:>(?=\s)|#{1,3}(?=\s)|-(?=[#\s]))")
_OURS = re.compile(r"^\*\*.*\*\*(?: · [^*\n]+)?$|^-# [✍⚠]")


def live_markup(content: str) -> list[str]:
    """The markdown Discord would interpret in ``content``, outside our own lines."""
    live = []
    for line in content.replace(INVITE_REMOVED, "x").split("\n"):
        if _OURS.match(line):
            continue
        if marker := _LINE_MARKER.match(line):
            live.append(marker[0])
        for token in _TOKEN.finditer(line):
            if len(token[0]) == 1 and token[0] != "\\":
                live.append(token[0])
    return live


def _piece(topic: str, text: str) -> Piece:
    sampling = ResolvedSampling(0.8, 0.9, 50, 64, 7, 1.1)
    spec = PieceSpec(Form.POEM, topic or "rain", poem_form=PoemForm.FREE)
    return Piece(spec, text, "tiny", sampling, FinishReason.EOS, 1.0, 10)


def _record(text: str) -> GenerationRecord:
    return GenerationRecord(
        id=3,
        user_id=123456789012345678,
        user_name="@everyone",
        guild_id=1,
        channel_id=2,
        form="poem",
        poem_form=None,
        genre=None,
        prompt="rain",
        params={"temperature": 0.8, "top_p": 0.9, "top_k": 50},
        seed=7,
        model="tiny",
        text=text,
        parent_id=None,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


@settings(max_examples=scaled(80))
@given(topic=hostile_text(max_size=6), text=long_text)
def test_every_message_of_a_long_piece_fits_and_shows_nothing_live(topic: str, text: str) -> None:
    piece = _piece(topic, text)
    for chunks in (render_final(piece, _record(text)), render_unsaved(piece, "disk full")):
        assert all(len(chunk) <= MESSAGE_LIMIT for chunk in chunks)
        for chunk in chunks:
            # Each message is read by Discord on its own: a cut must not split an escape from
            # what it escapes, nor a <link> from its closing bracket.
            assert not live_markup(chunk), (chunk[:80], live_markup(chunk))
            assert not embeds_or_invites(chunk), chunk[:80]
    snapshot = render_progress(topic or "Poem", text)
    assert len(snapshot) <= MESSAGE_LIMIT
    assert not embeds_or_invites(snapshot)


@settings(max_examples=scaled(30))
@given(text=long_text.filter(lambda t: not re.search(r"www\.|discord|<", t, re.IGNORECASE)))
def test_the_piece_is_read_back_from_its_messages_whatever_its_length(text: str) -> None:
    chunks = render_final(_piece("rain", text), _record(text))
    recovered = "\n".join(piece_text_of(chunk) for chunk in chunks)
    # A giant word is cut across messages; everything else comes back as it was written.
    assert "".join(recovered.split()) == "".join(text.split())


class _Recorder:
    """Every send and edit a destination makes, with its keyword arguments."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def record(self, name: str) -> AsyncMock:
        async def call(*args: Any, **kwargs: Any) -> MagicMock:
            if args:
                kwargs["content"] = args[0]
            self.calls.append((name, kwargs))
            message = MagicMock(spec=discord.Message)
            message.edit = self.record("message.edit")
            return message

        return AsyncMock(side_effect=call)


async def _updates(text: str, piece: Piece, record: GenerationRecord) -> AsyncIterator[WriteUpdate]:
    yield WriteUpdate(queue_position=2)
    yield WriteUpdate(text=text)
    yield WriteUpdate(piece=piece, record=record)


@settings(max_examples=scaled(40))
@given(topic=hostile_text(max_size=6), text=long_text)
async def test_nothing_a_destination_posts_can_ping(topic: str, text: str) -> None:
    recorder = _Recorder()
    channel = MagicMock(spec=discord.TextChannel)
    channel.send = recorder.record("channel.send")
    interaction = MagicMock(spec=discord.Interaction)
    interaction.extras = {}
    interaction.created_at = discord.utils.utcnow()  # fresh: its token has not lapsed
    interaction.response = MagicMock(spec=discord.InteractionResponse)
    interaction.response.defer = AsyncMock()
    interaction.edit_original_response = recorder.record("edit_original_response")
    interaction.followup = MagicMock(spec=discord.Webhook)
    interaction.followup.send = recorder.record("followup.send")
    piece, record = _piece(topic, text), _record(text)
    destinations = (ChannelPost(channel, interval=0), InteractionReply(interaction, interval=0))
    for destination in destinations:
        await destination.accept()
        await destination.deliver(topic, _updates(text, piece, record))
        await destination.stop("@everyone it stopped")
    assert recorder.calls
    for name, kwargs in recorder.calls:
        mentions = kwargs.get("allowed_mentions")
        assert isinstance(mentions, discord.AllowedMentions), name
        assert mentions.to_dict() == {"parse": []}, (name, mentions.to_dict())
        assert len(kwargs.get("content") or "") <= MESSAGE_LIMIT, name
