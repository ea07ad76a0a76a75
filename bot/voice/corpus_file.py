"""The corpus as a JSON Lines file: one text per line, with where it came from and who wrote it.

`python -m bot train --file` reads any such file ({"text": ...} is enough); a guild's corpus is
written in the same shape while it trains, so what the adapter learned from can be read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from bot.errors import InvalidRequest
from bot.storage.voices import CorpusText

MAX_TEXT_CHARS = 20_000


def write_corpus(path: Path, texts: Iterable[CorpusText]) -> int:
    """Write ``texts`` to ``path``; returns how many."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for text in texts:
            record = {
                "source": text.source,
                "ref": text.ref,
                "authors": sorted(text.author_ids),
                "text": text.text,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def read_corpus(path: Path) -> list[CorpusText]:
    """The texts of a JSON Lines file; a line that is not an object with a "text" string is
    refused with its number, so a typo never trains on half a file."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidRequest(f"Could not read the corpus file {path}: {error}") from error
    texts: list[CorpusText] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InvalidRequest(f"{path}, line {number}: not JSON ({error.msg}).") from error
        text = record.get("text") if isinstance(record, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise InvalidRequest(f'{path}, line {number}: needs a "text" string.')
        if len(text) > MAX_TEXT_CHARS:
            raise InvalidRequest(
                f"{path}, line {number}: {len(text)} characters; at most {MAX_TEXT_CHARS}."
            )
        authors = record.get("authors", [])
        if not isinstance(authors, list) or not all(isinstance(a, int) for a in authors):
            raise InvalidRequest(f'{path}, line {number}: "authors" must be a list of ids.')
        texts.append(
            CorpusText(str(record.get("source", "file")), number, text, frozenset(authors))
        )
    return texts
