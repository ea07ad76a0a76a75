"""The Join button under a sprint's announcement.

A ``DynamicItem`` whose ``custom_id`` names the sprint, so the button on an old announcement
still works after a restart, and a click on a sprint that has ended is told so.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, Self

import discord

from bot.errors import InkwellError
from bot.sprints.service import AlreadyIn, SprintService
from cogs.errors import answering
from cogs.private import acknowledge, answer

COG_NAME = "Writing sprints"


class _HasService(Protocol):
    service: SprintService


def service_of(client: discord.Client) -> SprintService:
    """The running sprint service (the sprints cog owns it)."""
    cog: _HasService | None = getattr(client, "get_cog", lambda _: None)(COG_NAME)
    if cog is None:
        raise InkwellError("Writing sprints are switched off right now.")
    return cog.service


class JoinButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"inkwell:sprint:join:(?P<sprint>[0-9]+)",
):
    """✍️ Join, under a sprint's announcement."""

    def __init__(self, sprint_id: int) -> None:
        self.sprint_id = sprint_id
        super().__init__(
            discord.ui.Button(
                label="Join",
                emoji="✍️",
                style=discord.ButtonStyle.primary,
                custom_id=f"inkwell:sprint:join:{sprint_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> Self:
        """Rebuild the button from a click on any announcement, however old."""
        return cls(int(match["sprint"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Join the sprint (starting words can be set with /sprint join)."""
        async with answering(interaction):
            await acknowledge(interaction)
            user = interaction.user
            try:
                _, _, new = await service_of(interaction.client).join_sprint(
                    self.sprint_id, user.id, user.display_name
                )
            except AlreadyIn:
                await answer(interaction, "You're already in this sprint.")
                return
            await answer(interaction, "✍️ You're in. Good luck!" if new else "You're in.")


def join_view(sprint_id: int) -> discord.ui.View:
    """The Join button alone."""
    view = discord.ui.View(timeout=None)
    view.add_item(JoinButton(sprint_id))
    return view
