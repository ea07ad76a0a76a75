"""The door every interaction passes: blocked members and servers, and the per-minute limits.

It sits in front of discord.py's own ``INTERACTION_CREATE`` handler, so one check covers slash
commands, buttons (persistent and dynamic ones alike), forms and autocomplete before any of
them is routed, and a refused interaction never reaches a handler or the database. The check
answers from memory (``bot.safety.admission``), so it costs nothing on the event loop; the
refusal goes out privately on a task of its own. Autocomplete is never counted, and a blocked
member's gets an empty list.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

import discord

from bot.ops.interactions import component_name
from bot.safety.admission import Admission, BlockedIds, Refusal
from cogs.private import NO_PINGS

if TYPE_CHECKING:
    from cogs.client import InkwellBot

log = logging.getLogger(__name__)

APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
_SUBCOMMAND_TYPES = (1, 2)  # SUB_COMMAND, SUB_COMMAND_GROUP


def _user_id(data: dict[str, Any]) -> int | None:
    user = (data.get("member") or {}).get("user") or data.get("user") or {}
    return int(user["id"]) if "id" in user else None


def interaction_name(data: dict[str, Any]) -> tuple[str, str]:
    """(kind, name) for the log line, from the raw payload: the command with its subcommands,
    or the component's custom_id without its ids."""
    inner = data.get("data") or {}
    if data.get("type") in (APPLICATION_COMMAND, AUTOCOMPLETE):
        parts = [str(inner.get("name", "?"))]
        options = inner.get("options") or []
        while options and options[0].get("type") in _SUBCOMMAND_TYPES:
            parts.append(str(options[0].get("name", "?")))
            options = options[0].get("options") or []
        return "command", " ".join(parts)
    kind = "modal" if data.get("type") == MODAL_SUBMIT else "button"
    return kind, component_name(str(inner.get("custom_id", "?")))


class InteractionGate:
    """Wraps the connection's handler for ``INTERACTION_CREATE`` with ``Admission``."""

    def __init__(self, bot: InkwellBot, admission: Admission) -> None:
        self._bot = bot
        self.admission = admission
        self._refreshing: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._inner: Callable[[dict[str, Any]], None] | None = None

    def install(self) -> None:
        """Put the gate in front of discord.py's handler (once). A private attribute of the
        connection state, pinned with discord.py: its websocket looks handlers up there."""
        parsers: dict[str, Callable[[dict[str, Any]], None]] = self._bot._connection.parsers
        if self._inner is None:
            self._inner = parsers["INTERACTION_CREATE"]
            parsers["INTERACTION_CREATE"] = self.receive

    async def refresh(self) -> None:
        """Read the blocklist now (after a block, and at start-up)."""
        try:
            await self.admission.blocked.refresh()
        except Exception:  # a busy or broken database must not stop interactions
            log.warning("Could not read the blocklist; keeping the last one", exc_info=True)

    def receive(self, data: dict[str, Any]) -> None:
        """Admit the interaction to discord.py's routing, or refuse it here."""
        assert self._inner is not None
        if self.admission.blocked.is_stale() and self._refreshing is None:
            self._refreshing = asyncio.get_running_loop().create_task(self._refresh_soon())
        try:
            refusal = self._decide(data)
        except Exception:  # raised here, it would end the shard's connection: let it in
            log.exception("The gate could not decide on an interaction; letting it through")
            refusal = None
        if refusal is None:
            self._inner(data)
            return
        task = asyncio.get_running_loop().create_task(self._refuse(data, refusal))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _decide(self, data: dict[str, Any]) -> Refusal | None:
        user_id = _user_id(data)
        if user_id is None:
            return None
        guild_id = int(data["guild_id"]) if data.get("guild_id") else None
        # Typing in an option box is not a command; a form's text must not be lost to a
        # limit (opening the form was counted). Blocks hold for both.
        counted = data.get("type") not in (AUTOCOMPLETE, MODAL_SUBMIT)
        return self.admission.check(user_id, guild_id, counted=counted)

    async def _refresh_soon(self) -> None:
        try:
            await self.refresh()
            if not bot_owners(self._bot):  # Discord didn't say at start-up: ask again
                await self._bot.learn_owners()
        finally:
            self._refreshing = None

    async def _refuse(self, data: dict[str, Any], refusal: Refusal) -> None:
        interaction = discord.Interaction(data=data, state=self._bot._connection)  # type: ignore[arg-type]
        try:
            if data.get("type") == AUTOCOMPLETE:  # not a command yet: no line, no count
                await interaction.response.autocomplete([])
                return
            self._logged(interaction, data, refusal)
            await interaction.response.send_message(
                f"⚠️ {refusal.text}", ephemeral=True, allowed_mentions=NO_PINGS
            )
        except Exception as error:  # on a task of its own: nothing else would report it
            log.warning("Could not refuse interaction %s: %s", interaction.id, error)

    def _logged(
        self, interaction: discord.Interaction, data: dict[str, Any], refusal: Refusal
    ) -> None:
        kind, name = interaction_name(data)
        age = (discord.utils.utcnow() - interaction.created_at).total_seconds()
        self._bot.interactions.finished(
            kind=kind,
            name=name,
            user_id=interaction.user.id,
            guild_id=interaction.guild_id,
            outcome=refusal.reason,
            seconds=max(age, 0.0),
        )


def bot_owners(bot: InkwellBot) -> Collection[int]:
    """The ids no gate refuses: ``discord.owner_ids``, else the application's owner (or its
    team), as discord.py learned them (see ``learn_owners``)."""
    configured = bot.settings.discord.owner_ids
    if configured:
        return configured
    found = set(bot.owner_ids or ())
    if bot.owner_id:
        found.add(bot.owner_id)
    return found


def build_gate(bot: InkwellBot) -> InteractionGate:
    """The gate with this bot's limits and blocklist."""
    limits = bot.settings.limits
    admission = Admission(
        BlockedIds(bot.database.blocklist.all),
        per_user=limits.commands_per_minute_user,
        per_guild=limits.commands_per_minute_guild,
        owners=lambda: bot_owners(bot),
    )
    return InteractionGate(bot, admission)
