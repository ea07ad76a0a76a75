from hypothesis import given
from hypothesis import strategies as st

from cogs.render import render_progress, render_queue, split_message


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
    from cogs.library import escaped_within

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
    from cogs.render import channel_list

    assert channel_list([3, 1]) == "<#1>, <#3>"
    listed = channel_list(range(100, 200))
    assert listed.endswith("and 80 more") and listed.count("<#") == 20
    assert channel_list([]) == ""
