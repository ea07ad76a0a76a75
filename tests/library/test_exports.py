"""Exports: pure rendering of pieces as Markdown and JSON, each with its attribution."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import MappingProxyType

from bot.library.exports import (
    export_stem,
    favorites_json,
    favorites_markdown,
    parameters_text,
    piece_title,
    pieces_markdown,
    user_data_json,
)
from bot.storage import Favorite, FavoriteWithPiece, GenerationRecord

WRITTEN = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
EXPORTED = datetime(2024, 6, 2, 8, 5, 9, tzinfo=UTC)
PARAMS = {
    "temperature": 0.8,
    "top_p": 0.9,
    "top_k": 50,
    "max_new_tokens": 120,
    "length": "short",
    "characters": [],
    "model_tokens": 17,
}


def record(**overrides) -> GenerationRecord:
    fields = {
        "id": 7,
        "user_id": 111,
        "user_name": "Ada",
        "guild_id": 900,
        "channel_id": 901,
        "form": "poem",
        "poem_form": "haiku",
        "genre": None,
        "prompt": "autumn rain",
        "params": MappingProxyType(PARAMS),
        "seed": 1234,
        "model": "tiny-gpt2",
        "text": "rain on the tin roof\nslow",
        "parent_id": None,
        "created_at": WRITTEN,
    }
    fields.update(overrides)
    return GenerationRecord(**fields)


def favourite(piece: GenerationRecord, favorite_id: int = 3) -> FavoriteWithPiece:
    return FavoriteWithPiece(Favorite(favorite_id, 222, piece.id, EXPORTED), piece)


def test_markdown_carries_the_text_and_every_attribution_fact():
    text = favorites_markdown([favourite(record())], user_name="Bea", exported_at=EXPORTED)
    assert text.startswith("# Bea's Inkwell favourites\n")
    assert "Exported 2024-06-02 08:05 UTC · 1 piece." in text
    assert "## Favourite #3: Haiku: autumn rain" in text
    assert "```text\nrain on the tin roof\nslow\n```" in text
    for line in (
        "- **Model:** tiny-gpt2",
        "- **Seed:** 1234",
        "- **Parameters:** temperature 0.8 · top-p 0.9 · top-k 50 · max tokens 120 · length short",
        "- **Prompt:** autumn rain",
        "- **Date:** 2024-05-01 12:30 UTC",
        "- **Asked for by:** Ada",
    ):
        assert line in text


def test_markdown_cannot_be_broken_by_what_the_model_or_user_wrote():
    piece = record(text="```\n# not a heading\n````", prompt="**bold** [link](x)", parent_id=2)
    text = pieces_markdown([piece], heading="Ada's *pieces*")
    assert text.startswith("# Ada's \\*pieces\\*\n")
    assert "`````text\n```\n# not a heading\n````\n`````" in text
    assert "- **Prompt:** \\*\\*bold\\*\\* \\[link\\]\\(x\\)" in text
    assert "#7 (a rework of #2)" in text


def test_json_is_complete_and_keeps_other_peoples_ids_out():
    pieces = [favourite(record(), 3), favourite(record(id=8, form="story", poem_form=None), 4)]
    document = json.loads(favorites_json(pieces, user_name="Bea", exported_at=EXPORTED))
    assert document["kind"] == "inkwell-favorites" and document["format_version"] == 1
    assert document["exported_at"] == "2024-06-02T08:05:09+00:00"
    first = document["favorites"][0]
    assert first["favorite_id"] == 3 and first["starred_at"] == EXPORTED.isoformat()
    piece = first["piece"]
    assert piece == {
        "piece_id": 7,
        "title": "Haiku: autumn rain",
        "form": "poem",
        "poem_form": "haiku",
        "genre": None,
        "text": "rain on the tin roof\nslow",
        "model": "tiny-gpt2",
        "seed": 1234,
        "parameters": {
            "temperature": 0.8,
            "top_p": 0.9,
            "top_k": 50,
            "max_new_tokens": 120,
            "length": "short",
            "characters": [],
        },
        "prompt": "autumn rain",
        "written_at": WRITTEN.isoformat(),
        "requested_by": "Ada",
        "written_by": "AI",
        "remix_of": None,
    }
    assert "user_id" not in json.dumps(document)
    assert document["favorites"][1]["piece"]["title"] == "Story: autumn rain"


def test_empty_exports_say_so():
    assert "_No favourites yet" in favorites_markdown([], user_name="Bea", exported_at=EXPORTED)
    document = json.loads(favorites_json([], user_name="Bea", exported_at=EXPORTED))
    assert document["favorites"] == []


def test_small_helpers():
    assert parameters_text({"characters": ["Ann", "Bo"], "top_k": 5}) == (
        "top-k 5 · characters Ann, Bo"
    )
    assert parameters_text({}) == ""
    assert piece_title(record(form="sonnet-cycle", prompt="x " * 80)).startswith("Sonnet-Cycle: x")
    assert export_stem("favorites", EXPORTED) == "inkwell-favorites-20240602-080509"
    data = {"user_id": 1, "when": EXPORTED, "text": "é"}
    assert json.loads(user_data_json(data)) == {
        "user_id": 1,
        "when": "2024-06-02 08:05:09+00:00",
        "text": "é",
    }


def test_user_data_over_the_upload_limit_comes_in_complete_parts():
    from bot.library.exports import user_data_files

    data = {
        "format_version": 1,
        "user_id": 5,
        "generations": [{"id": i, "text": "x" * 500} for i in range(40)],
        "favorites": [{"id": i, "note": "y" * 300} for i in range(10)],
        "saved_prompts": [],
    }
    assert len(user_data_files(data, 10_000_000)) == 1
    parts = user_data_files(data, 4_000)
    assert len(parts) > 1
    decoded = [json.loads(part) for part in parts]
    assert all(len(part.encode()) <= 4_000 for part in parts)
    assert [d["part"] for d in decoded] == list(range(1, len(parts) + 1))
    assert {d["parts"] for d in decoded} == {len(parts)}
    assert [g["id"] for d in decoded for g in d["generations"]] == list(range(40))
    assert [f["id"] for d in decoded for f in d["favorites"]] == list(range(10))
    assert all(d["user_id"] == 5 and "saved_prompts" in d for d in decoded)


def test_a_piece_whose_prompt_was_erased_still_has_a_title_and_exports():
    from bot.library.exports import piece_title

    piece = record(prompt="", prompt_redacted=True, prompt_author_id=9)
    assert piece_title(piece) == "Haiku"
    markdown = favorites_markdown([favourite(piece)], user_name="Bo", exported_at=EXPORTED)
    assert "Haiku" in markdown and "rain on the tin roof" in markdown
