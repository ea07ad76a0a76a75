"""The buttons and the line modal of a poem game.

Each button is a ``DynamicItem`` whose ``custom_id`` names the game (and, where it matters, the
turn or round it was drawn for), so buttons on old messages still work after a restart and a
click on a turn that has passed is recognised. The modal is not kept in discord.py's memory:
its submission is handled from its ``custom_id`` alone (``on_line_submitted``), so a line
typed across a restart still arrives.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self

import discord

from bot.errors import InkwellError
from bot.games.lines import MAX_LINE_CHARS
from bot.games.model import AIWork, Mode, Status
from bot.games.rules import GameOver, NotInGame, NotYourTurn
from bot.games.service import GameService, StoredGame
from cogs.errors import answering
from cogs.game_render import previous_line_text
from cogs.modals import submitted_value
from cogs.private import acknowledge, answer
from cogs.safety import check_typed

if TYPE_CHECKING:
    from cogs.client import InkwellBot

NO_PINGS = discord.AllowedMentions.none()
COG_NAME = "Poem games"
LINE_INPUT_ID = "line"
LINE_MODAL = re.compile(r"inkwell:game:line:(?P<game>[0-9]+):(?P<turn>[0-9]+)")
MAX_VOTE_BUTTONS = 23  # 25 per message, less the Write button and a spare


class _HasService(Protocol):
    service: GameService


def service_of(client: discord.Client) -> GameService:
    """The running game service (the games cog owns it)."""
    cog: _HasService | None = getattr(client, "get_cog", lambda _: None)(COG_NAME)
    if cog is None:
        raise InkwellError("Poem games are switched off right now.")
    return cog.service


def is_moderator(interaction: discord.Interaction) -> bool:
    """Manage Messages in this channel (Discord's own resolved permissions)."""
    return interaction.permissions.manage_messages


# --- the lobby -------------------------------------------------------------------------------


class LobbyButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"inkwell:game:(?P<action>join|leave|start|cancel):(?P<game>[0-9]+)",
):
    """Join, Leave, Start (host) and Cancel (host) under a lobby."""

    STYLES: ClassVar[dict[str, tuple[str, str, discord.ButtonStyle]]] = {
        "join": ("Join", "✋", discord.ButtonStyle.primary),
        "leave": ("Leave", "👋", discord.ButtonStyle.secondary),
        "start": ("Start", "▶️", discord.ButtonStyle.success),
        "cancel": ("Cancel", "✖️", discord.ButtonStyle.danger),
    }

    def __init__(self, action: str, game_id: int) -> None:
        self.action = action
        self.game_id = game_id
        label, emoji, style = self.STYLES[action]
        super().__init__(
            discord.ui.Button(
                label=label,
                emoji=emoji,
                style=style,
                custom_id=f"inkwell:game:{action}:{game_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> Self:
        """Rebuild the button from a click on any lobby, however old."""
        return cls(match["action"], int(match["game"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Apply the move; the lobby message is redrawn by the game's table."""
        async with answering(interaction):
            await acknowledge(interaction)
            service = service_of(interaction.client)
            user = interaction.user
            if self.action == "join":
                await service.join(self.game_id, user.id, user.display_name)
                text = "✋ You're in! Wait for the host to press Start."
            elif self.action == "leave":
                await service.leave(self.game_id, user.id)
                text = "👋 You left the game."
            elif self.action == "start":
                await service.start(self.game_id, user.id)
                text = "▶️ The game has started."
            else:
                await service.cancel(self.game_id, user.id, moderator=is_moderator(interaction))
                text = "✖️ The game is cancelled."
            await answer(interaction, text)


def lobby_view(game_id: int) -> discord.ui.View:
    """Join, Leave, Start and Cancel."""
    view = discord.ui.View(timeout=None)
    for action in ("join", "leave", "start", "cancel"):
        view.add_item(LobbyButton(action, game_id))
    return view


# --- the board -------------------------------------------------------------------------------


class WriteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"inkwell:game:write:(?P<game>[0-9]+):(?P<turn>[0-9]+)",
):
    """✍ Write my line: opens the line modal, or in exquisite corpse first shows the player
    (privately) the one line they may see."""

    def __init__(self, game_id: int, turn: int) -> None:
        self.game_id = game_id
        self.turn = turn
        super().__init__(
            discord.ui.Button(
                label="Write my line",
                emoji="✍️",
                style=discord.ButtonStyle.primary,
                custom_id=f"inkwell:game:write:{game_id}:{turn}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> Self:
        """Rebuild the button from a click on any board, however old."""
        return cls(int(match["game"]), int(match["turn"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Check it is the player's move (a read: fast enough for the 3 seconds), then open
        the modal, or the exquisite corpse's private view."""
        async with answering(interaction):
            stored = await _playable(interaction, self.game_id)
            if stored.game.settings.mode is Mode.CORPSE:
                await interaction.response.send_message(
                    previous_line_text(stored.game),
                    view=compose_view(stored),
                    ephemeral=True,
                    allowed_mentions=NO_PINGS,
                )
                return
            await open_line_modal(interaction, stored)


class ComposeButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"inkwell:game:compose:(?P<game>[0-9]+):(?P<turn>[0-9]+)",
):
    """The button on an exquisite corpse player's private view that opens the modal."""

    def __init__(self, game_id: int, turn: int) -> None:
        self.game_id = game_id
        self.turn = turn
        super().__init__(
            discord.ui.Button(
                label="Write it",
                emoji="✍️",
                style=discord.ButtonStyle.primary,
                custom_id=f"inkwell:game:compose:{game_id}:{turn}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> Self:
        """Rebuild the button from a click, however old."""
        return cls(int(match["game"]), int(match["turn"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Open the modal for the turn this view was drawn for."""
        async with answering(interaction):
            stored = await _playable(interaction, self.game_id)
            await open_line_modal(interaction, stored, turn=self.turn)


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"inkwell:game:vote:(?P<game>[0-9]+):(?P<round>[0-9]+):(?P<index>[0-9]+)",
):
    """A vote for one candidate line of a round."""

    def __init__(self, game_id: int, round_number: int, index: int) -> None:
        self.game_id = game_id
        self.round_number = round_number
        self.index = index
        super().__init__(
            discord.ui.Button(
                label=str(index + 1),
                emoji="🗳️",
                style=discord.ButtonStyle.secondary,
                custom_id=f"inkwell:game:vote:{game_id}:{round_number}:{index}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> Self:
        """Rebuild the button from a click on any board, however old."""
        return cls(int(match["game"]), int(match["round"]), int(match["index"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Cast (or move) the clicker's vote; the board's tally is redrawn."""
        async with answering(interaction):
            await acknowledge(interaction)
            service = service_of(interaction.client)
            before = await service.get(self.game_id)
            stored = await service.vote(
                self.game_id, interaction.user.id, self.round_number, self.index
            )
            unchanged = before is not None and before.version == stored.version
            text = (
                f"🗳 Your vote is on line {self.index + 1} already."
                if unchanged
                else f"🗳 You voted for line {self.index + 1}. "
                "You can change your vote until the round ends."
            )
            await answer(interaction, text)


def board_view(stored: StoredGame) -> discord.ui.View | None:
    """The board's buttons: Write my line while a person can write, and the vote buttons."""
    game = stored.game
    if game.status is not Status.RUNNING or game.ai_work is AIWork.TITLE:
        return None
    view = discord.ui.View(timeout=None)
    if game.settings.mode is Mode.VOTE or game.ai_work is None:
        view.add_item(WriteButton(stored.id, game.turn))
    if game.settings.mode is Mode.VOTE and game.round is not None:
        for index in range(min(len(game.round.candidates), MAX_VOTE_BUTTONS)):
            view.add_item(VoteButton(stored.id, game.round.number, index))
    return view if view.children else None


def compose_view(stored: StoredGame) -> discord.ui.View:
    """The private view of an exquisite corpse player."""
    view = discord.ui.View(timeout=None)
    view.add_item(ComposeButton(stored.id, stored.game.turn))
    return view


GAME_ITEMS = (LobbyButton, WriteButton, ComposeButton, VoteButton)


# --- the line modal --------------------------------------------------------------------------


class LineModal(discord.ui.Modal):
    """One text field for the line (handled by ``on_line_submitted``, not by this object)."""

    def __init__(self, game_id: int, turn: int, title: str, placeholder: str) -> None:
        super().__init__(title=title[:45], custom_id=f"inkwell:game:line:{game_id}:{turn}")
        self.add_item(
            discord.ui.TextInput(
                label="Your line",
                custom_id=LINE_INPUT_ID,
                style=discord.TextStyle.short,
                placeholder=placeholder[:100] or None,
                min_length=1,
                max_length=MAX_LINE_CHARS,
            )
        )


async def open_line_modal(
    interaction: discord.Interaction, stored: StoredGame, *, turn: int | None = None
) -> None:
    """Answer the click with the line modal for the current turn (or round)."""
    game = stored.game
    number = len(game.lines) + 1
    if game.settings.mode is Mode.VOTE:
        title = f"Propose line {number} of {game.settings.lines}"
    else:
        title = f"Line {number} of {game.settings.lines}"
    if game.settings.mode is Mode.CORPSE or not game.lines:
        placeholder = "One line of the poem"
    else:
        placeholder = f"After: {game.lines[-1].text}"
    modal = LineModal(stored.id, turn if turn is not None else game.turn, title, placeholder)
    await interaction.response.send_modal(modal)
    # Forget it at once: the submission is handled from its custom_id, restart or not.
    modal.stop()


async def on_line_submitted(interaction: discord.Interaction, bot: InkwellBot) -> bool:
    """Handle a submitted line modal; False if the interaction was something else."""
    if interaction.type is not discord.InteractionType.modal_submit:
        return False
    match = LINE_MODAL.fullmatch(str((interaction.data or {}).get("custom_id", "")))
    if match is None:
        return False
    async with answering(interaction):
        text = submitted_value(interaction.data or {}, LINE_INPUT_ID)
        check_typed(bot.flow, interaction, text, "line")
        await acknowledge(interaction)
        stored = await service_of(bot).add_line(
            int(match["game"]), interaction.user.id, text, turn=int(match["turn"])
        )
        if stored.game.settings.mode is Mode.VOTE:
            reply = "✅ Your line is up for the vote."
        elif stored.game.settings.mode is Mode.CORPSE:
            reply = "✅ Your line is in. Nobody else sees it until the poem is revealed."
        else:
            reply = "✅ Your line is in the poem."
        await answer(interaction, reply)
    return True


async def _playable(interaction: discord.Interaction, game_id: int) -> StoredGame:
    """The game, if the clicker may write in it now; else a kind refusal."""
    stored = await service_of(interaction.client).get(game_id)
    if stored is None:
        raise GameOver("That game no longer exists.")
    game = stored.game
    if game.status is Status.FINISHED:
        raise GameOver("This game is over: its poem is in /anthology.")
    if game.status is Status.CANCELLED:
        raise GameOver("This game was cancelled.")
    if game.seat_of(interaction.user.id) is None:
        raise NotInGame("You're not in this game. Join the next one!")
    if game.settings.mode is not Mode.VOTE:
        seat = game.current_seat
        if game.ai_work is not None or seat is None or seat.user_id != interaction.user.id:
            name = "Inkwell" if game.ai_work is not None or seat is None else seat.name
            raise NotYourTurn(f"It's {name}'s turn, not yours.")
    return stored
