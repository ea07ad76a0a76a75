"""How a poem game looks on Discord: the lobby, the board for each turn, the finished poem.

Pure functions of the stored game (plus the events of the move, for the one-time notices), so
a board drawn after a restart is the same as before it. Every line is escaped with
``piece_body``; nothing here can ping (messages go out with ``AllowedMentions.none()``).
"""

from __future__ import annotations

import discord

from bot.forms.spec import shorten
from bot.games.events import (
    AISkipped,
    Event,
    Left,
    RoundClosed,
    Skipped,
    TimedOut,
)
from bot.games.model import AI_NAME, AIWork, Game, Mode, Status
from bot.games.service import StoredGame
from bot.storage import AnthologyPoem, GameLine, GenerationRecord
from cogs.render import piece_body

COLOUR = discord.Colour.from_rgb(94, 129, 172)
MODE_NAMES = {
    Mode.ROUND_ROBIN: "Round robin",
    Mode.CORPSE: "Exquisite corpse",
    Mode.VOTE: "Vote",
}
MODE_HINTS = {
    Mode.ROUND_ROBIN: "Seats take turns, one line each.",
    Mode.CORPSE: "Each player sees only the line before theirs. The poem is revealed at the end.",
    Mode.VOTE: "Each round, propose a line or vote for one; the favourite joins the poem.",
}
EMBED_TEXT_LIMIT = 3900  # of an embed's 4096, leaving room for a "…"
FIELD_LIMIT = 1024
MESSAGE_EMBED_CHARS = 5800  # Discord allows 6000 across a message's embeds
MESSAGE_EMBEDS = 10
CANDIDATE_CHARS = 100  # each candidate as the board lists it; the vote buttons carry numbers
BOARD_POEM_CHARS = 1500  # with candidates listed, the board shows the poem's last lines


def lobby_embed(stored: StoredGame) -> discord.Embed:
    """The lobby: the settings, who has joined, and what to press."""
    game = stored.game
    embed = discord.Embed(title=f"📜 {_game_title(game)}", colour=COLOUR)
    embed.description = "\n".join((_settings_line(game), MODE_HINTS[game.settings.mode]))
    seats = "\n".join(
        f"{i}. {_seat_label(seat.name, seat.is_ai, seat.user_id == game.host_id)}"
        for i, seat in enumerate(game.seats, start=1)
    )
    for index, chunk in enumerate(field_chunks(seats.split("\n"), "\n")):
        name = f"At the table ({len(game.seats)})" if index == 0 else "\u200b"
        embed.add_field(name=name, value=chunk)
    if game.status is Status.LOBBY:
        embed.set_footer(text=f"Game #{stored.id} · Join to take a seat; the host presses Start.")
    elif game.status is Status.CANCELLED:
        embed.set_footer(text=f"Game #{stored.id} · Cancelled. {game.end_note or ''}".strip())
    else:
        embed.set_footer(text=f"Game #{stored.id} · Started: the turns are below.")
    return embed


def board_content(stored: StoredGame, events: tuple[Event, ...]) -> str:
    """The message text above a board: the one-time notices of the move, and whose turn it
    is (a mention, which shows the name without pinging)."""
    game = stored.game
    notes = [note for event in events if (note := _notice(game, event))]
    seat = game.current_seat
    if game.status is Status.RUNNING and seat is not None and game.ai_work is None:
        notes.append(f"🖋 <@{seat.user_id}>, it's your turn.")
    return "\n".join(notes)


def board_embed(stored: StoredGame) -> discord.Embed:
    """The game as it stands: the poem so far (or, in exquisite corpse, only who has
    written), and what happens now."""
    game = stored.game
    total = game.settings.lines
    written = len(game.lines)
    embed = discord.Embed(
        title=f"📜 {_game_title(game)} · {written} of {total} lines", colour=COLOUR
    )
    if game.settings.mode is Mode.CORPSE:
        writers = ", ".join(dict.fromkeys(line.author_name for line in game.lines)) or "nobody yet"
        embed.description = f"✍ Lines written so far: {written}, by {writers}.\n" + (
            "The poem stays hidden until the end."
        )
    else:
        listed = game.round is not None and bool(game.round.candidates)
        budget = BOARD_POEM_CHARS if listed else EMBED_TEXT_LIMIT
        embed.description = (
            _poem_text(game, budget) or "*The page is blank: the first line is next.*"
        )
    embed.add_field(name="Now", value=_now_text(game)[:FIELD_LIMIT], inline=False)
    if game.round is not None and game.round.candidates:
        for index, chunk in enumerate(field_chunks(_candidate_lines(game), "\n")):
            embed.add_field(
                name="Candidates" if index == 0 else "\u200b", value=chunk, inline=False
            )
    embed.set_footer(text=f"Game #{stored.id} · {_settings_line(game)}")
    return embed


def poem_embeds(
    game: Game, poem: GenerationRecord, lines: tuple[GameLine, ...]
) -> list[discord.Embed]:
    """The finished poem with its title and each line's author (as many embeds as a long
    poem needs; send them with ``embed_messages``)."""
    title = game.title or poem.prompt or "Untitled"
    return _poem_embeds(
        title, poem.id, game.settings.mode, game.settings.form.value, lines, game.end_note
    )


def anthology_embeds(entry: AnthologyPoem) -> list[discord.Embed]:
    """A poem from the anthology, as stored now (erased authors' lines read "(removed)")."""
    mode = Mode(entry.mode) if entry.mode in Mode._value2member_map_ else Mode.ROUND_ROBIN
    embeds = _poem_embeds(
        entry.record.prompt or "Untitled", entry.record.id, mode, entry.form, entry.lines, None
    )
    embeds[-1].timestamp = entry.record.created_at
    return embeds


def embed_messages(embeds: list[discord.Embed]) -> list[list[discord.Embed]]:
    """The embeds grouped into messages within Discord's limits (6000 characters and ten
    embeds per message)."""
    messages: list[list[discord.Embed]] = [[]]
    size = 0
    for embed in embeds:
        if messages[-1] and (
            size + len(embed) > MESSAGE_EMBED_CHARS or len(messages[-1]) >= MESSAGE_EMBEDS
        ):
            messages.append([])
            size = 0
        messages[-1].append(embed)
        size += len(embed)
    return messages


def _poem_embeds(
    title: str,
    poem_id: int,
    mode: Mode,
    form: str,
    lines: tuple[GameLine, ...],
    note: str | None,
) -> list[discord.Embed]:
    chunks = field_chunks([piece_body(line.text) for line in lines], "\n", EMBED_TEXT_LIMIT)
    embeds = [discord.Embed(description=chunk, colour=COLOUR) for chunk in chunks or [""]]
    embeds[0].title = f"📜 {shorten(title, 240)}"
    last = embeds[-1]
    for index, chunk in enumerate(field_chunks(author_parts(lines), " · ")):
        last.add_field(name="Written by" if index == 0 else "\u200b", value=chunk, inline=False)
    footer = f"Poem #{poem_id} · {MODE_NAMES[mode].lower()} · {form}"
    if note:
        footer += f" · {note}"
    last.set_footer(text=footer)
    return embeds


def field_chunks(parts: list[str], separator: str, limit: int = FIELD_LIMIT) -> list[str]:
    """``parts`` joined into as few chunks of at most ``limit`` characters as they fit in
    (a single overlong part is cut)."""
    chunks: list[str] = []
    current = ""
    for part in parts:
        part = part if len(part) <= limit else part[: limit - 1] + "…"
        joined = f"{current}{separator}{part}" if current else part
        if len(joined) > limit:
            chunks.append(current)
            joined = part
        current = joined
    if current:
        chunks.append(current)
    return chunks


def authors_text(lines: tuple[GameLine, ...]) -> str:
    """Each line's author, runs of one author's lines grouped ("1-2 Hana · 3 Inkwell")."""
    return " · ".join(author_parts(lines))


def author_parts(lines: tuple[GameLine, ...]) -> list[str]:
    """Each run of one author's lines: "1-2 Hana", "3 Inkwell"."""
    groups: list[tuple[int, int, str]] = []
    for line in lines:
        name = line.author_name if not line.by_ai else f"🤖 {AI_NAME} (AI)"
        if line.removed:
            name = "(removed)"
        if groups and groups[-1][2] == name and groups[-1][1] == line.position - 1:
            start, _, _ = groups[-1]
            groups[-1] = (start, line.position, name)
        else:
            groups.append((line.position, line.position, name))
    return [
        f"{start + 1}{'' if end == start else f'-{end + 1}'} {discord.utils.escape_markdown(name)}"
        for start, end, name in groups
    ]


def status_text(stored: StoredGame, viewer_id: int) -> str:
    """A private summary for ``/poemgame status``; in exquisite corpse, the viewer whose
    turn it is also sees the line before theirs."""
    game = stored.game
    lines = [f"**{_game_title(game)}** (game #{stored.id}) · {_settings_line(game)}"]
    if game.status is Status.LOBBY:
        names = ", ".join(seat.name for seat in game.seats)
        lines.append(f"Waiting in the lobby: {names}.")
        return "\n".join(lines)
    lines.append(f"{len(game.lines)} of {game.settings.lines} lines written.")
    lines.append(_now_text(game))
    seat = game.current_seat
    if (
        game.settings.mode is Mode.CORPSE
        and seat is not None
        and seat.user_id == viewer_id
        and game.ai_work is None
    ):
        lines.append(previous_line_text(game))
    return "\n".join(lines)


def previous_line_text(game: Game) -> str:
    """What an exquisite-corpse player sees: only the line before theirs."""
    if not game.lines:
        return "You write the first line: nobody has written anything yet."
    return f"The line before yours:\n> {piece_body(game.lines[-1].text)}"


def _now_text(game: Game) -> str:
    if game.status is Status.FINISHED:
        return "The poem is finished."
    if game.status is Status.CANCELLED:
        return f"The game was cancelled. {game.end_note or ''}".strip()
    if game.ai_work is AIWork.TITLE:
        return f"🤖 {AI_NAME} is choosing a title…"
    if game.settings.mode is Mode.VOTE:
        assert game.round is not None
        ends = f" Voting closes <t:{int(game.deadline)}:R>." if game.deadline else ""
        writing = f" 🤖 {AI_NAME} is proposing lines…" if game.ai_work is AIWork.CANDIDATES else ""
        return (
            f"🗳 Round {game.round.number}: press **Write my line** to propose one (one each), "
            f"or vote with the numbered buttons.{ends}{writing}"
        )
    if game.ai_work is AIWork.LINE:
        return f"🤖 {AI_NAME} is writing line {len(game.lines) + 1}…"
    seat = game.current_seat
    assert seat is not None
    ends = f", until <t:{int(game.deadline)}:R>" if game.deadline else ""
    return (
        f"🖋 **{discord.utils.escape_markdown(seat.name)}**'s turn{ends}: press **Write my line**."
    )


def _candidate_lines(game: Game) -> list[str]:
    assert game.round is not None
    tally = game.round.tally()
    return [
        f"**{i}.** {piece_body(shorten(c.text, CANDIDATE_CHARS))} · "
        f"{tally[i - 1]} vote{'s' if tally[i - 1] != 1 else ''}"
        for i, c in enumerate(game.round.candidates, start=1)
    ]


def _notice(game: Game, event: Event) -> str | None:
    if isinstance(event, TimedOut) and event.first_time:
        who = f"<@{event.seat.user_id}>"
        if event.filled_by_ai:
            return f"⏰ {who} ran out of time, so {AI_NAME} writes that line."
        return f"⏰ {who} ran out of time, so the turn passes on."
    if isinstance(event, AISkipped):
        return f"🤖 {AI_NAME} couldn't write its {event.what} this time, so it was skipped."
    if isinstance(event, Skipped) and game.settings.mode is Mode.VOTE:
        return "⏭ The round was closed early."
    if isinstance(event, Skipped):
        return "⏭ The turn was skipped."
    if isinstance(event, Left):
        text = f"👋 {discord.utils.escape_markdown(event.seat.name)} left the game."
        if event.new_host is not None:
            text += f" {discord.utils.escape_markdown(event.new_host.name)} is the host now."
        return text
    if isinstance(event, RoundClosed):
        if event.winner is None:
            return f"🗳 Round {event.number}: nobody proposed a line."
        votes = max(event.votes) if event.votes else 0
        author = f"{AI_NAME} (AI)" if event.winner.by_ai else event.winner.author_name
        text = (
            f"🗳 Round {event.number}: “{piece_body(event.winner.text)}” by "
            f"{discord.utils.escape_markdown(author)} won with "
            f"{votes} vote{'s' if votes != 1 else ''}."
        )
        if event.seed is not None:
            reason = "a tie" if votes else "nobody voted"
            text += f" ({reason}, broken at random with seed {event.seed})"
        return text
    return None


def _poem_text(game: Game, limit: int) -> str:
    """The poem so far, its last lines when it is longer than ``limit``."""
    text = "\n".join(piece_body(line.text) for line in game.lines)
    if len(text) > limit:
        text = "…\n" + text[-limit:].split("\n", 1)[-1]
    return text


def _game_title(game: Game) -> str:
    return shorten(game.title or game.settings.title or "A poem together", 200)


def _settings_line(game: Game) -> str:
    settings = game.settings
    parts = [
        MODE_NAMES[settings.mode],
        settings.form.value,
        f"{settings.lines} lines",
        f"{_duration(settings.turn_timeout)} a turn"
        if settings.mode is not Mode.VOTE
        else f"{_duration(settings.vote_window)} a round",
        f"{AI_NAME} plays" if settings.ai else "people only",
    ]
    return " · ".join(parts)


def _seat_label(name: str, is_ai: bool, is_host: bool) -> str:
    label = discord.utils.escape_markdown(name)
    if is_ai:
        return f"🤖 {label} (AI)"
    return f"{label} (host)" if is_host else label


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"
