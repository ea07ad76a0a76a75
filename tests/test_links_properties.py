"""Invites and mentions in hostile text: every invite is recognised wherever it sits, and no
text the bot takes from a model or a user keeps a live invite or mention where it promises
not to (AI prompt ideas, idea notes, posted pieces)."""

from __future__ import annotations

import re

import discord
from hypothesis import given
from hypothesis import strategies as st

from bot.community.ideas import ai_idea_candidates
from bot.links import contains_invite
from cogs.render import piece_body
from tests.cogs.test_render import embeds_or_invites
from tests.strategies import PINGS, hostile_text

invites = st.builds(
    "{}{}{}/{}".format,
    st.sampled_from(["", "https://", "http://", "HTTPS://"]),
    st.sampled_from(["", "www.", "ptb.", "canary."]),
    st.sampled_from(["discord.gg", "discord.com/invite", "discordapp.com/invite", "DISCORD.GG"]),
    st.from_regex(r"\A[A-Za-z0-9-]{1,10}\Z"),
)
# What may stand right before an invite for it to still be one: a space, a line break,
# punctuation that starts a phrase. (Letters, digits, dots and dashes glue it to a word.)
separators = st.sampled_from([" ", "\n", "(", "\u00a0", "\t", "“", ": ", "\u3000"])


@given(before=hostile_text(max_size=6), invite=invites, sep=separators, after=hostile_text(6))
def test_an_invite_is_found_wherever_it_stands(
    before: str, invite: str, sep: str, after: str
) -> None:
    assert contains_invite(f"{before}{sep}{invite} {after}")
    assert contains_invite(invite)


@given(before=hostile_text(max_size=8), invite=invites, sep=separators, after=hostile_text(8))
def test_no_posted_piece_keeps_an_invite(before: str, invite: str, sep: str, after: str) -> None:
    posted = piece_body(f"{before}{sep}{invite} {after}")
    assert not embeds_or_invites(posted), posted


# A mention Discord would render as one: @everyone, @here, <@id>, <@!id>, <@&id>.
LIVE_MENTION = re.compile(r"@(?:everyone|here)|<@[!&]?\d+>")
# Sentences a model might write, with something that must not be posted in the middle.
ideas = st.builds(
    "{}A lighthouse keeper finds {} in a bottle.{}".format,
    st.sampled_from(["", "1. ", "- ", '"', "Prompt: "]),
    st.one_of(st.sampled_from(PINGS), invites, hostile_text(max_size=3)),
    st.sampled_from(["", '"', "\nA second idea.", " She reads it twice."]),
)


@given(raw=ideas)
def test_no_ai_idea_carries_a_mention_or_an_invite(raw: str) -> None:
    for idea in ai_idea_candidates(raw):
        assert not LIVE_MENTION.search(idea), idea
        assert not contains_invite(idea), idea


@given(note=st.one_of(ideas, hostile_text()))
def test_an_idea_note_is_shown_without_live_mentions(note: str) -> None:
    # What cogs/ideas.py does with a note that may quote the theme as typed.
    shown = discord.utils.escape_mentions(discord.utils.escape_markdown(note))
    assert not LIVE_MENTION.search(shown), shown
