"""The prompt of the day in the console: ``/daily today`` draws today's prompt once (the same
one all day, stored like a guild's), ``/daily archive`` lists the past ones."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from bot.community.daily import PromptSource
from bot.errors import InvalidRequest
from bot.storage import CONSOLE_USER_ID, Database

# The console's prompts are stored as guild 0's, in channel 0.
CONSOLE_GUILD_ID = 0
CONSOLE_CHANNEL_ID = 0
CONSOLE_ZONE = "local"  # the terminal's own time zone

DAILY_HELP = ("/daily today | archive — the prompt of the day at this terminal",)


class ConsoleDaily:
    """/daily today and /daily archive at the terminal."""

    def __init__(
        self,
        database: Database,
        prompts: PromptSource,
        say: Callable[[str], None],
        today: Callable[[], str] = lambda: datetime.now().astimezone().date().isoformat(),
    ) -> None:
        self._db = database
        self._prompts = prompts
        self._say = say
        self._today = today

    async def daily(self, rest: str) -> None:
        """Run ``/daily …``."""
        action = rest.strip().lower()
        if action in ("", "today"):
            await self._show_today()
        elif action == "archive":
            prompts = await self._db.daily.archive(CONSOLE_GUILD_ID, limit=10)
            if not prompts:
                self._say("No prompts yet: /daily today draws one.")
            for prompt in prompts:
                self._say(f"{prompt.local_date}  {prompt.text}")
        else:
            raise InvalidRequest("Try /daily today or /daily archive.")

    async def _show_today(self) -> None:
        day = self._today()
        prompt = await self._db.daily.prompt_for(CONSOLE_GUILD_ID, CONSOLE_ZONE, day)
        if prompt is None:
            text = await self._prompts.daily_prompt(
                guild_id=CONSOLE_GUILD_ID,
                channel_id=CONSOLE_CHANNEL_ID,
                source="any",
                owner_id=CONSOLE_USER_ID,
            )
            prompt = await self._db.daily.claim_prompt(
                CONSOLE_GUILD_ID,
                CONSOLE_ZONE,
                day,
                text=text,
                source="any",
                mode="post",
                channel_id=CONSOLE_CHANNEL_ID,
                posted_at=time.time(),
            ) or await self._db.daily.prompt_for(CONSOLE_GUILD_ID, CONSOLE_ZONE, day)
            assert prompt is not None
        self._say(f"🌅 Prompt of the day ({prompt.local_date}): {prompt.text}")
