"""What ``python -m bot run`` serves beside Discord: the metrics endpoint (when enabled) and
the heartbeat (when a file is set), started and stopped together."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry

from bot.config import Settings
from bot.errors import InkwellError
from bot.ops.heartbeat import Heartbeat, StatusSource
from bot.ops.metrics import Metrics, MetricsServer


def build_metrics(settings: Settings) -> Metrics | None:
    """Fresh metrics in a registry of their own, or None when ``metrics.enabled`` is off."""
    return Metrics(CollectorRegistry()) if settings.metrics.enabled else None


class Operations:
    """The metrics server and the heartbeat of one running bot."""

    def __init__(self, settings: Settings, metrics: Metrics | None, status: StatusSource) -> None:
        self._server = (
            MetricsServer(metrics, settings.metrics.host, settings.metrics.port)
            if metrics is not None
            else None
        )
        path = settings.health.heartbeat_file
        self._heartbeat = (
            Heartbeat(Path(path), settings.health.heartbeat_interval, status) if path else None
        )

    @property
    def metrics_port(self) -> int | None:
        """Where metrics are served, once started (None when they are off)."""
        return self._server.port if self._server is not None else None

    async def start(self) -> None:
        """Listen for scrapes and start beating; a taken port is an error naming the key."""
        if self._server is not None:
            try:
                await self._server.start()
            except OSError as error:
                raise InkwellError(
                    f"Could not serve metrics ({error}). Check metrics.host and metrics.port, "
                    "or set metrics.enabled = false."
                ) from None
        if self._heartbeat is not None:
            self._heartbeat.start()

    async def close(self) -> None:
        """Stop both; the heartbeat's last beat says the bot stopped."""
        if self._heartbeat is not None:
            await self._heartbeat.close()
        if self._server is not None:
            await self._server.close()
