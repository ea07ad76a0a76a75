"""Discord saying no the way it really does: 429 rate limits and expired interaction tokens.

A 429 carries what discord.py reads before it retries: the JSON ``retry_after`` (what it
sleeps), ``Via`` (without it discord.py takes the 429 for a Cloudflare ban and raises at once)
and the ``X-RateLimit-*`` / ``Retry-After`` headers. discord.py retries a 429 up to five
times in all; a rule with ``times`` above that makes it give up and raise ``HTTPException``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .recording import RecordedRequest

RouteMatcher = str | Callable[[RecordedRequest], bool]
INVALID_WEBHOOK_TOKEN = 50027


@dataclass
class RateLimitRule:
    """Answer the next ``times`` requests matching ``route`` with 429 ``retry_after``."""

    route: RouteMatcher
    times: int
    retry_after: float
    is_global: bool = False
    answered: int = 0

    def matches(self, req: RecordedRequest) -> bool:
        if self.answered >= self.times:
            return False
        if callable(self.route):
            return self.route(req)
        return req.route == self.route

    def answer(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The body and headers of one 429, counting it."""
        self.answered += 1
        body = {
            "message": "You are being rate limited.",
            "retry_after": self.retry_after,
            "global": self.is_global,
        }
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(math.ceil(self.retry_after)),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + self.retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{self.retry_after:.3f}",
            "X-RateLimit-Bucket": "fakediscord-bucket",
            "X-RateLimit-Scope": "global" if self.is_global else "user",
        }
        return body, headers


def invalid_webhook_token() -> dict[str, Any]:
    """What Discord answers for a webhook call with an expired interaction token."""
    return {"message": "Invalid Webhook Token", "code": INVALID_WEBHOOK_TOKEN}
