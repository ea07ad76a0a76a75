"""/owner: the bot owner's commands: the blocklist and reloading the model.

Each is checked on the server side (``owner_only``), since Discord has no permission for "owns
this bot" to hide them by. Blocks live in the database, where ``python -m bot block`` writes
too; this process's gate reads them again at once, other processes within seconds.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import InvalidRequest
from bot.ops.stats import Vitals
from bot.storage import Database
from bot.storage.blocklist import MAX_REASON_CHARS, Block
from cogs.access import owner_only
from cogs.gate import InteractionGate, bot_owners
from cogs.private import NO_PINGS, acknowledge, answer
from cogs.stats import reload_outcome

if TYPE_CHECKING:
    from cogs.client import InkwellBot

# A bare id, or a pasted mention of a user (<@1>, <@!1>): what an owner is likely to paste.
_TARGET = re.compile(r"\s*(?:<@!?(\d{15,20})>|(\d{15,20}))\s*")
MAX_SNOWFLAKE = 2**63 - 1
LIST_CHARS = 1_800  # under Discord's 2,000 per message, with room for the last line


def parse_target(text: str) -> int:
    """The Discord id in ``text``, or a kind refusal."""
    match = _TARGET.fullmatch(text)
    found = int(match[1] or match[2]) if match is not None else 0
    if not 0 < found <= MAX_SNOWFLAKE:
        raise InvalidRequest(
            "That isn't a Discord id. Copy it with Developer Mode on (right-click → Copy ID): "
            "a number of 15 to 20 digits."
        )
    return found


def blocked_lines(blocks: list[Block]) -> str:
    """The blocklist, a line each, as many as fit in one message (the CLI lists them all)."""
    if not blocks:
        return "Nobody is blocked."
    lines: list[str] = []
    used = 0
    for block in blocks:
        line = (
            f"• {block.kind} `{block.target_id}` since <t:{int(block.blocked_at.timestamp())}:d>"
            + (f" — {discord.utils.escape_markdown(block.reason)}" if block.reason else "")
        )
        if used + len(line) + 1 > LIST_CHARS:
            lines.append(
                f"…and {len(blocks) - len(lines)} more (`python -m bot block list` shows all)."
            )
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


class OwnerCog(commands.GroupCog, name="owner", description="For the bot's owner"):
    """Blocking and unblocking, and a model reload without a restart."""

    def __init__(self, bot: InkwellBot, database: Database, vitals: Vitals) -> None:
        self._bot = bot
        self._database = database
        self._vitals = vitals
        super().__init__()

    @property
    def _gate(self) -> InteractionGate:
        return self._bot.gate

    @app_commands.command(name="block", description="Turn Inkwell off for a user or a server")
    @app_commands.describe(
        kind="A user or a whole server",
        target="Their Discord id (Developer Mode: right-click → Copy ID)",
        reason="Why, for your own record (up to 200 characters)",
    )
    @app_commands.rename(target="id")
    @owner_only()
    async def block(
        self,
        interaction: discord.Interaction,
        kind: Literal["user", "guild"],
        target: str,
        reason: app_commands.Range[str, 0, MAX_REASON_CHARS] = "",
    ) -> None:
        """Block a user or a guild: their commands, buttons and forms are refused."""
        target_id = parse_target(target)
        if kind == "user" and target_id in bot_owners(self._bot):
            raise InvalidRequest("That is one of the bot's owners, who are never blocked.")
        await acknowledge(interaction)
        added = await self._database.blocklist.block(kind, target_id, reason)
        await self._gate.refresh()
        what = "user" if kind == "user" else "server"
        await answer(
            interaction,
            f"⛔ Blocked {what} `{target_id}`."
            if added
            else f"{what.title()} `{target_id}` was already blocked; the reason is updated.",
        )

    @app_commands.command(name="unblock", description="Lift a block")
    @app_commands.describe(kind="A user or a whole server", target="Their Discord id")
    @app_commands.rename(target="id")
    @owner_only()
    async def unblock(
        self, interaction: discord.Interaction, kind: Literal["user", "guild"], target: str
    ) -> None:
        """Lift a block made here or with ``python -m bot block``."""
        target_id = parse_target(target)
        await acknowledge(interaction)
        lifted = await self._database.blocklist.unblock(kind, target_id)
        await self._gate.refresh()
        what = "user" if kind == "user" else "server"
        await answer(
            interaction,
            f"✅ Unblocked {what} `{target_id}`."
            if lifted
            else f"{what.title()} `{target_id}` wasn't blocked.",
        )

    @app_commands.command(name="blocked", description="Who is blocked")
    @owner_only()
    async def blocked(self, interaction: discord.Interaction) -> None:
        """The blocklist, users first."""
        await acknowledge(interaction)
        await answer(interaction, blocked_lines(await self._database.blocklist.all()))

    @app_commands.command(name="reload-model", description="Load the model again")
    @owner_only()
    async def reload_model(self, interaction: discord.Interaction) -> None:
        """Try loading the model again without a restart (deferred: loading takes seconds)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        status = await self._vitals.reload_model()
        await interaction.followup.send(
            reload_outcome(status), ephemeral=True, allowed_mentions=NO_PINGS
        )


async def setup(bot: InkwellBot) -> None:
    """Load the cog with the bot's database and vitals."""
    await bot.add_cog(OwnerCog(bot, bot.database, bot.vitals))
