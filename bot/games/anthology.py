"""The anthology as text: a guild's finished poems, with each line's author, as Markdown."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.games.model import AI_NAME
from bot.storage import AnthologyPoem, GameLine


def line_author(line: GameLine) -> str:
    """Who wrote a line, as the anthology shows it."""
    if line.removed:
        return "(removed)"
    return f"{AI_NAME} (AI)" if line.by_ai else line.author_name


def poem_authors(entry: AnthologyPoem) -> list[str]:
    """The poem's authors in order of their first line."""
    return list(dict.fromkeys(line_author(line) for line in entry.lines))


def anthology_markdown(
    poems: Iterable[AnthologyPoem], *, heading: str, exported_at: datetime
) -> str:
    """The poems as one Markdown document, newest first as given."""
    out = [f"# {heading}", "", f"Exported {exported_at:%Y-%m-%d %H:%M} UTC.", ""]
    for entry in poems:
        record = entry.record
        out.append(f"## {record.prompt or 'Untitled'} (poem #{record.id})")
        out.append("")
        out.append(
            f"*{entry.mode}, {entry.form}, {record.created_at:%Y-%m-%d}, "
            f"by {', '.join(poem_authors(entry))}*"
        )
        out.append("")
        for line in entry.lines:
            # Two trailing spaces: a Markdown line break, so the lines stay lines.
            out.append(f"{_escape(line.text)}  ")
        out.append("")
        out.append(
            "<sub>"
            + " · ".join(f"{line.position + 1} {line_author(line)}" for line in entry.lines)
            + "</sub>"
        )
        out.append("")
    return "\n".join(out)


def _escape(text: str) -> str:
    for char in "\\`*_[]<>#|":
        text = text.replace(char, "\\" + char)
    return text
