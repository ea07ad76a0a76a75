"""Logging for the whole process, configured once in the entry point: a level, and a format
(``text`` for people, ``json`` for collectors), with secrets redacted in both.

A record may carry structured fields (``log.info(..., extra={"fields": {...}})``, see
``bot.log_redaction.FIELDS``): the JSON format writes them as keys beside the message; the text
format already has them in the message itself.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

from bot import log_redaction
from bot.config import LoggingSettings

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the record's
    structured fields, and the traceback (``exc``) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, log_redaction.FIELDS, None)
        if isinstance(fields, dict):
            entry.update({k: v for k, v in fields.items() if k not in entry})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def formatter_for(settings: LoggingSettings) -> logging.Formatter:
    """The formatter ``logging.format`` names."""
    if settings.format == "json":
        return JsonFormatter()
    return logging.Formatter(TEXT_FORMAT)


def setup_logging(
    settings: LoggingSettings,
    secrets: Iterable[str | None] = (),
    *,
    stream: TextIO | None = None,
) -> log_redaction.RedactSecrets:
    """Send every log line at ``settings.level`` or above to ``stream`` (stderr), in
    ``settings.format``, with ``secrets`` and anything shaped like a token redacted. Replaces
    the root logger's handlers, so calling it again reconfigures instead of doubling lines."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter_for(settings))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.level)
    return log_redaction.install(secrets)
