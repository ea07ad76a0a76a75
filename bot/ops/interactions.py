"""One log line, and the metrics, for every slash command, context menu, button and modal.

The Discord layer says what ran and how it ended; this module knows nothing of Discord. The
line is ``command poem user=1 guild=2 outcome=ok latency_ms=812`` in text, and the same as
fields in JSON (``bot.ops.logs``). Outcomes: ``ok``; ``refused`` (a domain error shown to the
user: a cooldown, a bad option, a missing permission); ``stopped`` (a restart cut it short);
``expired`` (Discord dropped it before we could answer); ``blocked`` and ``limited`` (turned
away at the door: the owner's blocklist, the per-minute limits); ``error`` (a bug, logged with
its traceback by the error handler).
"""

from __future__ import annotations

import logging
import re

from bot.log_redaction import FIELDS
from bot.ops.metrics import Metrics
from bot.ops.recent import RecentWindow

log = logging.getLogger(__name__)

OK, REFUSED, STOPPED, ERROR = "ok", "refused", "stopped", "error"
EXPIRED = "expired"  # Discord dropped the interaction before it was acknowledged
# Turned away before any handler ran (bot.safety.admission): the owner's blocklist, or the
# per-minute command limits.
BLOCKED, LIMITED = "blocked", "limited"
# Ids in a component's custom_id ("inkwell:regen:123") would make every piece its own metric.
_NUMBERS = re.compile(r":[0-9]+")


def component_name(custom_id: str) -> str:
    """A button's or modal's name for logs and metrics: its custom_id without the ids."""
    return _NUMBERS.sub("", custom_id) or "?"


class InteractionLog:
    """Writes the line for each finished interaction and counts it in ``metrics`` (if any)."""

    def __init__(self, metrics: Metrics | None = None, recent: RecentWindow | None = None) -> None:
        self.metrics = metrics
        self.recent = recent  # /stats' last hour, kept whether or not metrics are on

    def finished(
        self,
        *,
        kind: str,
        name: str,
        user_id: int,
        guild_id: int | None,
        outcome: str,
        seconds: float,
    ) -> None:
        """Record one interaction: ``kind`` is command, button or modal; ``name`` the
        command's qualified name or the component's name."""
        latency_ms = round(seconds * 1000)
        fields = {
            "event": "interaction",
            "kind": kind,
            "name": name,
            "user_id": user_id,
            "guild_id": guild_id,
            "outcome": outcome,
            "latency_ms": latency_ms,
        }
        log.info(
            "%s %s user=%s guild=%s outcome=%s latency_ms=%d",
            kind,
            name,
            user_id,
            guild_id,
            outcome,
            latency_ms,
            extra={FIELDS: fields},
        )
        if self.recent is not None and outcome == ERROR:
            self.recent.error()
        if self.metrics is not None:
            self.metrics.commands.labels(command=name, outcome=outcome).inc()
            if outcome not in (BLOCKED, LIMITED):  # answered at the door: no command ran
                self.metrics.command_seconds.labels(command=name).observe(seconds)

    def error(self, error: BaseException) -> None:
        """Count a failure the user was told about (a bug or a domain error)."""
        if self.metrics is not None:
            self.metrics.error(error)
