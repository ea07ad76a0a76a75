"""Prometheus metrics: what the writer and the commands are doing, scraped over HTTP.

Off by default (``[metrics] enabled``). Every metric lives in a ``CollectorRegistry`` handed
to ``Metrics``, never in prometheus-client's global one, so tests (and a process that serves
twice) can hold several side by side. The endpoint is an aiohttp app on the bot's own event
loop: a scrape that hangs means the loop is blocked, which is worth knowing.

Names follow Prometheus' conventions (``_seconds``, ``_total``); labels take only bounded
values (command names, outcomes, error classes), never ids or text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from bot.errors import InkwellError

log = logging.getLogger(__name__)

# A piece takes from a fraction of a second (a haiku on the fast engine) to minutes (a long
# story in a busy queue).
GENERATION_BUCKETS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0, 300.0)
COMMAND_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
UNEXPECTED = "unexpected"


class Metrics:
    """Inkwell's metrics, registered in ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.generation_seconds = Histogram(
            "inkwell_generation_seconds",
            "Time from asking for a piece to its last token (queue wait included), by outcome",
            ["outcome"],
            buckets=GENERATION_BUCKETS,
            registry=registry,
        )
        self.tokens = Counter(
            "inkwell_generation_tokens",
            "Tokens read (prompt) and written (generated) by finished generations",
            ["kind"],
            registry=registry,
        )
        self.queue_depth = Gauge(
            "inkwell_generation_queue_depth",
            "Requests waiting for a place in the writing batch",
            registry=registry,
        )
        self.running = Gauge(
            "inkwell_generation_running",
            "Requests being written right now",
            registry=registry,
        )
        self.errors = Counter(
            "inkwell_errors",
            "Failures, by kind: a domain error's class in snake case, or 'unexpected' (a bug)",
            ["kind"],
            registry=registry,
        )
        self.commands = Counter(
            "inkwell_commands",
            "Slash commands, context menus, buttons and modals handled, by name and outcome",
            ["command", "outcome"],
            registry=registry,
        )
        self.command_seconds = Histogram(
            "inkwell_command_seconds",
            "Time from an interaction's arrival to the end of its handler",
            ["command"],
            buckets=COMMAND_BUCKETS,
            registry=registry,
        )

    def watch_load(self, load: Callable[[], tuple[int, int]]) -> None:
        """Read ``(running, waiting)`` from ``load`` at every scrape."""
        self.running.set_function(lambda: load()[0])
        self.queue_depth.set_function(lambda: load()[1])

    def error(self, error: BaseException) -> None:
        """Count ``error`` under its kind."""
        self.errors.labels(kind=error_kind(error)).inc()

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)


def error_kind(error: BaseException) -> str:
    """A bounded label for ``error``: its class in snake case when it is a domain error
    (``ServiceBusy`` -> ``service_busy``), else ``unexpected``."""
    if not isinstance(error, InkwellError):
        return UNEXPECTED
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()


class MetricsServer:
    """``GET /metrics`` on ``host:port`` (port 0 = any free port; ``port`` says which)."""

    def __init__(self, metrics: Metrics, host: str, port: int) -> None:
        self._metrics = metrics
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int:
        """The port listened on, once started."""
        return self._port

    async def start(self) -> None:
        """Listen; raises ``OSError`` when the address is taken."""
        app = web.Application()
        app.router.add_get("/metrics", self._scrape)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        log.info("Metrics at http://%s:%d/metrics", self._host, self._port)

    async def close(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _scrape(self, request: web.Request) -> web.Response:
        body = self._metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
