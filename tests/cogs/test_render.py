import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cogs.render import (
    STREAMING_CURSOR,
    piece_body,
    piece_text_of,
    render_progress,
    render_queue,
    split_message,
)


def test_short_text_is_one_message():
    assert split_message("a\nb") == ["a\nb"]


def test_splits_on_line_boundaries():
    lines = [f"line {i:03d} " + "x" * 90 for i in range(60)]
    chunks = split_message("\n".join(lines), 2000)
    assert len(chunks) > 1
    assert all(len(chunk) <= 2000 for chunk in chunks)
    assert "\n".join(chunks).split("\n") == lines  # nothing lost, no line broken


def test_a_long_line_splits_between_words_never_inside_one():
    words = [f"word{i}" for i in range(1000)]
    chunks = split_message(" ".join(words), 500)
    assert all(len(chunk) <= 500 for chunk in chunks)
    assert " ".join(chunks).split() == words


def test_a_giant_word_is_the_only_thing_cut():
    chunks = split_message("x" * 4500, 2000)
    assert [len(c) for c in chunks] == [2000, 2000, 500]


@given(
    st.text(alphabet=st.sampled_from("ab \n🙂é"), max_size=3000),
    st.integers(min_value=20, max_value=300),
)
def test_split_keeps_every_word_within_the_limit(text, limit):
    chunks = split_message(text, limit)
    assert all(len(chunk) <= limit for chunk in chunks)
    assert "".join("".join(chunks).split()) == "".join(text.split())


def test_progress_fits_one_message_and_shows_the_newest_text():
    snapshot = render_progress("Story: long", "word " * 1000 + "THE END")
    assert len(snapshot) <= 2000
    assert "THE END" in snapshot


def test_markdown_in_generated_text_is_shown_literally():
    snapshot = render_progress("Poem", "# Heading\n**bold** ||spoiler||")
    assert "\\# Heading" in snapshot
    assert "\\*\\*bold\\*\\*" in snapshot


def test_queue_message():
    assert "you're next" in render_queue("Haiku: x", 1)
    assert "number 3" in render_queue("Haiku: x", 3)


def test_escaped_text_is_cut_after_escaping_to_fit_an_embed_field():
    from cogs.library_render import escaped_within

    prompt = "snake_case *stars* " * 80  # 1,520 characters that grow when escaped
    value = escaped_within(prompt, 1024)
    assert len(value) <= 1024 and value.endswith("…")
    assert not value[:-1].endswith("\\")
    assert escaped_within("short *one*", 1024) == "short \\*one\\*"


def test_piece_text_of_recovers_the_piece_from_a_result_message():
    from cogs.render import piece_body, piece_text_of

    text = "Rain on *tin* roofs\n# not a heading\nsnake_case [link](x) ~done~"
    message = f"**Haiku: rain**\n{piece_body(text)}\n-# ✍ Written by AI (m) for <@1> · piece #3"
    assert piece_text_of(message) == text


def test_channel_lists_are_capped_for_discords_message_limit():
    from bot.writing.flow import channel_mentions

    assert channel_mentions([3, 1]) == "<#1>, <#3>"
    listed = channel_mentions(range(100, 200))
    assert listed.endswith("and 80 more") and listed.count("<#") == 20
    assert channel_mentions([]) == ""


# --- links and invites ------------------------------------------------------------------------

LINK_CASES = [
    # (generated text, what is posted)
    ("see https://example.com.", "see <https://example.com>."),
    ("see https://example.com/a_b_c, then", "see <https://example.com/a_b_c>, then"),
    ("really? https://x.org/q?a=1&b=2!", "really? <https://x.org/q?a=1&b=2>!"),
    ('he said "https://x.org/p"', 'he said "<https://x.org/p>"'),
    ("http://plain.example:8080/x;", "<http://plain.example:8080/x>;"),
    ("(https://x.org/page)", "(<https://x.org/page>)"),
    (
        "(see https://en.wikipedia.org/wiki/Foo_(bar)).",
        "(see <https://en.wikipedia.org/wiki/Foo_(bar)>).",
    ),
    ("[https://x.org/a]", "\\[<https://x.org/a>\\]"),
    ("already <https://x.org/a_b> wrapped", "already <https://x.org/a_b> wrapped"),
    ("**https://x.org/bold**", "\\*\\*<https://x.org/bold>\\*\\*"),
    ("||https://x.org/spoiler||", "\\|\\|<https://x.org/spoiler>\\|\\|"),
    ("_https://x.org/it_", "\\_<https://x.org/it>\\_"),
    ("`https://x.org/code`", "\\`<https://x.org/code>\\`"),
    ("~~https://x.org/s~~", "\\~\\~<https://x.org/s>\\~\\~"),
    ("[click](https://evil.example/x)", "\\[click\\](<https://evil.example/x>)"),
    ("HTTPS://SHOUT.EXAMPLE/PATH", "<HTTPS://SHOUT.EXAMPLE/PATH>"),
    ("xhttps://glued.example", "x<https://glued.example>"),
    (
        "two https://a.example and https://b.example",
        "two <https://a.example> and <https://b.example>",
    ),
    ("www.example.com/a_b", "<https://www.example.com/a_b>"),
    ("visit WWW.Example.org.", "visit <https://WWW.Example.org>."),
    ("https://www.example.com", "<https://www.example.com>"),
    ("not a link: awww.cute or www.", "not a link: awww.cute or www."),
    ("https:// alone, http://", "https\\:// alone, http\\://"),  # escaped: never a link
    ("the prefix https://.", "the prefix https\\://."),
    ("https://>x.org", "https\\://>x.org"),
    ("https://https://", "<https://https://>"),
    ("https://!!", "https\\://!!"),  # only punctuation, which Discord would still link
    ("<https://x.org unclosed", "<<https://x.org> unclosed"),
    # Odd Unicode: punctuation of other scripts ends the link; letters and marks belong to it.
    ("雨 https://例え.jp/パス。", "雨 <https://例え.jp/パス>。"),
    ("“https://x.org/q”", "“<https://x.org/q>”"),
    ("«https://x.org/fr»", "«<https://x.org/fr>»"),
    ("https://x.org/café\u0301", "<https://x.org/café\u0301>"),
    ("https://x.org/a\u00a0next", "<https://x.org/a>\u00a0next"),  # NBSP ends it, as on Discord
    ("🌧️https://x.org/🌧️ 😀", "🌧️<https://x.org/🌧️> 😀"),
    ("https://x.org/\u200bhidden", "<https://x.org/\u200bhidden>"),
]

INVITE_CASES = [
    ("join discord.gg/abc123 now", "join [invite removed] now"),
    ("https://discord.gg/abc-123.", "[invite removed]."),
    ("http://discord.gg/x", "[invite removed]"),
    ("HTTPS://DISCORD.GG/SHOUT", "[invite removed]"),
    ("discord.com/invite/xyz!", "[invite removed]!"),
    ("https://discord.com/invite/xyz?event=1", "[invite removed]"),
    ("https://www.discord.com/invite/xyz", "[invite removed]"),
    ("https://ptb.discord.com/invite/xyz", "[invite removed]"),
    ("discordapp.com/invite/old", "[invite removed]"),
    ("https://discordapp.com/invite/old)", "[invite removed])"),
    ("<https://discord.gg/wrapped>", "[invite removed]"),
    ("<discord.gg/wrapped>", "[invite removed]"),
    ("(discord.gg/paren)", "([invite removed])"),
    ("**discord.gg/bold**", "\\*\\*[invite removed]\\*\\*"),
    ("雨discord.gg/cjk", "雨[invite removed]"),
    ("_discord.gg/under", "\\_[invite removed]"),
    # Not invites: other hosts, and Discord links that are not invites.
    ("mydiscord.gg/abc", "mydiscord.gg/abc"),
    ("https://notdiscord.gg/abc", "<https://notdiscord.gg/abc>"),
    ("https://discord.com/channels/1/2", "<https://discord.com/channels/1/2>"),
    ("discord.gg/ and discord.gg", "discord.gg/ and discord.gg"),
]


@pytest.mark.parametrize(("text", "posted"), LINK_CASES + INVITE_CASES)
def test_links_are_wrapped_unescaped_and_invites_removed(text, posted):
    assert piece_body(text) == posted
    assert not embeds_or_invites(posted)


@pytest.mark.parametrize(
    ("text", "posted"),
    [
        ("# Heading", "\\# Heading"),
        ("> quote\n>>> block", "\\> quote\n\\>>> block"),
        ("-# small print", "\\-# small print"),
        ("  - item\n* star", "  \\- item\n\\* star"),
        ("https://x.org - a note", "<https://x.org> - a note"),  # a dash mid-line stays
        ("snake_case and \\backslash", "snake\\_case and \\\\backslash"),
    ],
)
def test_markdown_around_links_is_still_shown_literally(text, posted):
    assert piece_body(text) == posted


def test_progress_and_queue_follow_the_same_rules():
    snapshot = render_progress("Story: https://t.example/x_y", "see https://a.example/b_c. " * 3)
    assert snapshot.startswith("**Story: <https://t.example/x_y>**\n")
    assert "see <https://a.example/b_c>. see" in snapshot
    assert not embeds_or_invites(snapshot)
    assert render_queue("Poem: discord.gg/abc", 1).startswith("**Poem: [invite removed]**")


def test_progress_cut_never_splits_a_link_or_an_escape():
    for shift in range(40):  # the cut lands at every offset around a link and the escapes
        text = "x" * shift + " " + ("https://a.example/" + "_*" * 30 + " ") * 60
        snapshot = render_progress("Poem", text)
        assert len(snapshot) <= 2000
        assert not embeds_or_invites(snapshot)
        body = snapshot.split("\n", 1)[1].removeprefix("…").removesuffix(STREAMING_CURSOR)
        assert piece_body(piece_text_of("**t**\n" + body)) == body  # whole escapes only
        assert body.startswith("<https://")  # starts at a word, not in the middle of one


def test_final_piece_wraps_links_and_continuing_it_gets_the_plain_text():
    text = "Rain at https://r.example/a_b.\nInvite: discord.gg/xyz\nwww.w.example"
    posted = piece_body(text)
    assert posted == (
        "Rain at <https://r.example/a_b>.\nInvite: [invite removed]\n<https://www.w.example>"
    )
    assert piece_text_of(f"**Poem: rain**\n{posted}\n-# ✍ Written by AI") == (
        "Rain at https://r.example/a_b.\nInvite: [invite removed]\nhttps://www.w.example"
    )


LINKY = st.lists(
    st.sampled_from(
        [
            "https://",
            "http://",
            "HTTPS://",
            "www.",
            "discord.gg/",
            "discord.com/invite/",
            "x.org",
            "a_b",
            "é",
            "雨",
            "😀",
            "\u200b",
            "\u00a0",
            " ",
            "\n",
            "#",
            "-",
            ">",
            "<",
            "(",
            ")",
            "[",
            "]",
            "*",
            "_",
            "|",
            "`",
            "~",
            "\\",
            ".",
            ",",
            "!",
            "。",
        ]
    ),
    max_size=40,
).map("".join)


@given(LINKY)
def test_no_text_can_post_an_embedding_link_or_an_invite(text):
    posted = piece_body(text)
    assert not embeds_or_invites(posted), posted
    assert not embeds_or_invites(render_progress("Poem", text * 30))


@given(LINKY.filter(lambda t: not re.search(r"www\.|discord|<", t, re.IGNORECASE)))
def test_continuing_a_piece_reads_back_exactly_what_was_written(text):
    assert piece_text_of("**t**\n" + piece_body(text)) == text


# Discord's client rules for what these tests check: an autolink, a bare link, an escape.
_AUTOLINK = re.compile(r"<([^: >]+:/[^ >]+)>")
_BARE_LINK = re.compile(r"https?://[^\s<]+[^<.,:;\"')\]\s]", re.IGNORECASE)
_ESCAPE = re.compile(r"\\[^0-9A-Za-z\s]")
_INVITE_HOST = re.compile(
    r"^https?://(?:(?:www|ptb|canary)\.)?(?:discord\.gg|discord(?:app)?\.com/invite)/[\w-]",
    re.IGNORECASE,
)
_BARE_INVITE = re.compile(
    r"(?<![A-Za-z0-9.-])(?:discord\.gg|discord(?:app)?\.com/invite)/[\w-]", re.IGNORECASE
)


def embeds_or_invites(content: str) -> list[str]:
    """What Discord would unfurl or offer as an invite in ``content``: a bare link (Discord
    takes one wherever it starts, backslashes and all), an invite behind ``<...>``, or the text
    of an invite. Read left to right as Discord does, trying a link at every position."""
    problems: list[str] = []
    text: list[str] = []
    position = 0
    while position < len(content):
        if found := _AUTOLINK.match(content, position):
            problems += [found[1]] if _INVITE_HOST.match(found[1]) else []
            text.append(" ")
        elif found := _BARE_LINK.match(content, position):
            problems.append(found[0])
        elif found := _ESCAPE.match(content, position):
            text.append(found[0][1])  # shown as the character itself
        else:
            text.append(content[position])
            position += 1
            continue
        position = found.end()
    return problems + _BARE_INVITE.findall("".join(text))


def test_library_embeds_show_links_without_embedding_them_and_drop_invites():
    from datetime import UTC, datetime

    from bot.storage import GenerationRecord
    from cogs.library_render import hall_of_fame_embed, piece_embed

    piece = GenerationRecord(
        id=3,
        user_id=1,
        user_name="Ada",
        guild_id=None,
        channel_id=None,
        form="generate",
        poem_form=None,
        genre=None,
        prompt="links",
        params={},
        seed=1,
        model="tiny",
        text="join discord.gg/abc123 or read https://example.com/a now",
        parent_id=None,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    for text in (
        piece_embed(piece, "⭐").description,
        hall_of_fame_embed([(piece, 2)], "guild").description,
    ):
        assert "discord.gg" not in text and "[invite removed]" in text
        assert "<https://example.com/a>" in text


def test_a_fixed_form_shows_how_it_fits_and_the_text_is_still_recovered():
    from bot.forms import Form, PieceSpec, PoemForm
    from cogs.render import piece_body, piece_text_of, piece_title

    haiku = "Crimson leaves falling\nwhispers of the cooling wind\nthe old pond is still"
    spec = PieceSpec(Form.POEM, "autumn", poem_form=PoemForm.HAIKU)

    class Written:  # the two fields piece_title reads
        def __init__(self) -> None:
            self.spec, self.text = spec, haiku

    title = piece_title(Written())  # type: ignore[arg-type]
    assert title == "**Haiku: autumn** · 5·7·5 ✓"
    assert piece_text_of(f"{title}\n{piece_body(haiku)}\n-# ✍ Written by AI") == haiku
