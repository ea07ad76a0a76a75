"""``python -m bot run`` in a real process, pointed at a fake Discord: ``python -m
tests.cogs.bot_process REST_BASE GATEWAY_URL CONFIG``.

Only the two endpoints are patched (the fake can't be reached any other way); everything else
is the real entry point. With ``INKWELL_TEST_IGNORE_EOS=1`` every piece runs its full token
budget, so a test can catch one in the middle.
"""

from __future__ import annotations

import os
import sys

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.__main__ import main
from bot.generation.jobs import Job
from bot.generation.service import GenerationService
from bot.generation.types import GenerationRequest


def _ignore_eos() -> None:
    prepare = GenerationService.prepare

    def prepare_to_the_end(self: GenerationService, request: GenerationRequest) -> Job:
        job = prepare(self, request)
        job.ignore_eos = True
        return job

    GenerationService.prepare = prepare_to_the_end  # type: ignore[method-assign]


if __name__ == "__main__":
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = sys.argv[1], yarl.URL(sys.argv[2])
    if os.environ.get("INKWELL_TEST_IGNORE_EOS") == "1":
        _ignore_eos()
    sys.exit(main(["--config", sys.argv[3], "run"]))
