"""A user's pieces as files they can keep: Markdown to read, JSON to reuse.

Pure functions (no Discord, no database): front ends fetch the records and write or attach the
text these return. Every piece carries its attribution: the model, seed and parameters it was
written with, the prompt, the date, and who asked for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from bot.forms.spec import shorten
from bot.storage import FavoriteWithPiece, GenerationRecord
from bot.writing.drafts import spec_from_record

EXPORT_FORMAT_VERSION = 1
# The parameters worth showing a reader, in the order they are shown.
SHOWN_PARAMETERS = ("temperature", "top_p", "top_k", "max_new_tokens", "length", "characters")
_BACKTICK_RUN = re.compile(r"`+")


def piece_title(piece: GenerationRecord) -> str:
    """The piece's label, as shown when it was written (e.g. ``"Haiku: autumn"``)."""
    try:
        return spec_from_record(piece).title()
    except ValueError:  # a form this version doesn't know: still exportable
        return f"{piece.form.title()}: {shorten(piece.prompt, 60)}"


def parameters_text(params: Mapping[str, Any]) -> str:
    """``temperature 0.8 · top-p 0.9 · top-k 50 · max tokens 200`` (what is known of them)."""
    labels = {"top_p": "top-p", "top_k": "top-k", "max_new_tokens": "max tokens"}
    parts = []
    for key in SHOWN_PARAMETERS:
        value = params.get(key)
        if value is None or value == [] or value == ():
            continue
        if isinstance(value, list | tuple):
            value = ", ".join(str(item) for item in value)
        elif isinstance(value, float):
            value = f"{value:g}"
        parts.append(f"{labels.get(key, key)} {value}")
    return " · ".join(parts)


def piece_attribution(piece: GenerationRecord) -> dict[str, Any]:
    """The facts that say how a piece came to be, JSON-ready."""
    return {
        "model": piece.model,
        "seed": piece.seed,
        "parameters": {k: piece.params[k] for k in SHOWN_PARAMETERS if k in piece.params},
        "prompt": piece.prompt,
        "written_at": piece.created_at.isoformat(),
        "requested_by": piece.user_name,
    }


def piece_json(piece: GenerationRecord) -> dict[str, Any]:
    """One piece with its attribution (no Discord ids of the person who asked)."""
    return {
        "piece_id": piece.id,
        "title": piece_title(piece),
        "form": piece.form,
        "poem_form": piece.poem_form,
        "genre": piece.genre,
        "text": piece.text,
        **piece_attribution(piece),
        "written_by": "AI",
        "remix_of": piece.parent_id,
    }


def favorites_json(
    favorites: Iterable[FavoriteWithPiece], *, user_name: str, exported_at: datetime
) -> str:
    """The user's favourites as a JSON document (newest first, as listed)."""
    document = {
        "format_version": EXPORT_FORMAT_VERSION,
        "kind": "inkwell-favorites",
        "exported_for": user_name,
        "exported_at": exported_at.astimezone(UTC).isoformat(),
        "favorites": [
            {
                "favorite_id": item.favorite.id,
                "starred_at": item.favorite.created_at.isoformat(),
                "piece": piece_json(item.piece),
            }
            for item in favorites
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def favorites_markdown(
    favorites: Iterable[FavoriteWithPiece], *, user_name: str, exported_at: datetime
) -> str:
    """The user's favourites as a Markdown document to read or print."""
    items = list(favorites)
    lines = [
        f"# {_inline(user_name)}'s Inkwell favourites",
        "",
        f"Exported {_date(exported_at)} · {len(items)} piece{'s' if len(items) != 1 else ''}. "
        "Every piece was written by an AI language model.",
    ]
    if not items:
        lines += ["", "_No favourites yet: press ⭐ Save under a piece to keep it._"]
    for item in items:
        lines += ["", *_piece_section(item.piece, f"Favourite #{item.favorite.id}")]
    return "\n".join(lines) + "\n"


def pieces_markdown(pieces: Iterable[GenerationRecord], *, heading: str) -> str:
    """Any list of pieces as Markdown, each with its attribution."""
    lines = [f"# {_inline(heading)}"]
    for piece in pieces:
        lines += ["", *_piece_section(piece, f"Piece #{piece.id}")]
    return "\n".join(lines) + "\n"


def user_data_json(data: Mapping[str, Any]) -> str:
    """Everything stored about a user (``users.export``) as a readable JSON file."""
    return json.dumps(dict(data), ensure_ascii=False, indent=2, default=str) + "\n"


def export_stem(kind: str, exported_at: datetime) -> str:
    """A file name stem that sorts by time, e.g. ``inkwell-favorites-20250101-093000``."""
    return f"inkwell-{kind}-{exported_at.astimezone(UTC):%Y%m%d-%H%M%S}"


def _piece_section(piece: GenerationRecord, label: str) -> list[str]:
    params = parameters_text(piece.params)
    return [
        f"## {label}: {_inline(piece_title(piece))}",
        "",
        _fenced(piece.text),
        "",
        f"- **Model:** {_inline(piece.model)}",
        f"- **Seed:** {piece.seed}",
        *([f"- **Parameters:** {params}"] if params else []),
        f"- **Prompt:** {_inline(piece.prompt)}",
        f"- **Date:** {_date(piece.created_at)}",
        f"- **Asked for by:** {_inline(piece.user_name)}",
        f"- **Piece:** #{piece.id}"
        + (f" (a rework of #{piece.parent_id})" if piece.parent_id else ""),
    ]


def _fenced(text: str) -> str:
    """The text verbatim in a code fence longer than any run of backticks inside it, so line
    breaks survive and nothing in the model's output is read as Markdown."""
    longest = max((len(run) for run in _BACKTICK_RUN.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _inline(text: str) -> str:
    """User text on one line, with Markdown's special characters shown literally."""
    flat = " ".join(text.split())
    return re.sub(r"([\\`*_{}\[\]<>()#+!|~])", r"\\\1", flat)


def _date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def user_data_files(data: Mapping[str, Any], limit: int) -> list[str]:
    """``user_data_json`` as one file, or as several files of at most ``limit`` bytes each
    when it is larger (Discord caps each upload). Every part is a complete JSON document with
    the same keys, its share of each list, and ``part``/``parts`` saying where it belongs."""
    whole = user_data_json(data)
    if len(whole.encode()) <= limit:
        return [whole]
    lists = {key: value for key, value in data.items() if isinstance(value, list)}
    header = {key: value for key, value in data.items() if key not in lists}
    # Room for the header, the part counters and the JSON around the items.
    overhead = len(user_data_json({**header, "part": 9999, "parts": 9999}).encode()) + 64 * (
        len(lists) + 1
    )
    parts: list[dict[str, list[Any]]] = [{key: [] for key in lists}]
    used = overhead
    for key, items in lists.items():
        for item in items:
            size = len(json.dumps(item, ensure_ascii=False, indent=2, default=str).encode()) + 8
            if overhead + size > limit:
                raise ValueError(f"one {key} entry alone is larger than {limit} bytes")
            if used + size > limit:
                parts.append({key: [] for key in lists})
                used = overhead
            parts[-1][key].append(item)
            used += size
    return [
        user_data_json({**header, **part, "part": number, "parts": len(parts)})
        for number, part in enumerate(parts, start=1)
    ]
