"""Keep secrets out of the logs: interaction tokens and the bot token.

At DEBUG, discord.py logs the URL of every REST request, and the ones that answer an
interaction carry its token (``/webhooks/<app id>/<token>/messages/@original``,
``/interactions/<id>/<token>/callback``); it logs every gateway event too, and
``INTERACTION_CREATE`` holds the token in its payload. Whoever holds one can post and edit as
the bot in that channel for 15 minutes. The bot token itself is never logged by discord.py,
but an ``Authorization`` header can end up in an error's text.

``install`` puts one ``RedactSecrets`` filter on the handlers that write the logs. A filter on
a logger would only see records made by that very logger, not those of ``discord.http`` or
``discord.gateway`` that propagate to it; a handler sees every record it writes. Call it once
logging is configured (handlers added later are not covered).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "[redacted]"
# The LogRecord attribute holding a line's structured fields (``extra={"fields": {...}}``),
# which the JSON log format writes beside the message: redacted like the message.
FIELDS = "fields"

# Each keeps its first group and replaces what follows it.
_PATTERNS = (
    # /webhooks/<id>/<token>… and /interactions/<id>/<token>/callback
    re.compile(r"(/(?:webhooks|interactions)/\d+/)[^/\s?#'\"]+"),
    # 'token': '…' in a payload's repr, "token": "…" in its JSON
    re.compile(r"""(['"]token['"]\s*:\s*['"])[^'"]+"""),
    # Authorization: Bot …, 'Authorization': 'Bot …'
    re.compile(
        r"""(authorization['"]?\s*[:=]\s*['"]?(?:(?:Bot|Bearer)\s+)?)[^\s'",;}]+""",
        re.IGNORECASE,
    ),
    # Anything shaped like a bot token: three base64url parts (user id, time, HMAC).
    re.compile(r"()(?<![\w-])[\w-]{20,}\.[\w-]{6,7}\.[\w-]{27,}(?![\w-])"),
)


class RedactSecrets(logging.Filter):
    """Rewrites each record it sees with tokens and the given secrets replaced by
    ``[redacted]``: the formatted message (``%s`` arguments included), the traceback text, the
    stack text and the string values of the structured fields. It never drops a record."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._handlers: list[logging.Handler] = []

    def redact(self, text: str) -> str:
        """``text`` without the known secrets and anything that looks like a token."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(rf"\g<1>{REDACTED}", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place (handlers later in line see the redacted copy)."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let the handler report it as usual
            return True
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set, so the redacted text is what they write.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, dict):
            setattr(record, FIELDS, {key: self._redact_value(v) for key, v in fields.items()})
        return True

    def _redact_value(self, value: object) -> object:
        return self.redact(value) if isinstance(value, str) else value

    def attach(self, handler: logging.Handler) -> None:
        """Redact every record ``handler`` writes."""
        if self not in handler.filters:
            handler.addFilter(self)
            self._handlers.append(handler)

    def uninstall(self) -> None:
        """Take the filter off every handler it was put on."""
        for handler in self._handlers:
            handler.removeFilter(self)
        self._handlers.clear()


def install(
    secrets: Iterable[str | None] = (), *, loggers: Iterable[str] = ("", "discord")
) -> RedactSecrets:
    """Redact every record written by the handlers of ``loggers`` (the root logger, where
    ``logging.basicConfig`` and ``discord.utils.setup_logging`` put theirs, and discord.py's
    own) and by ``logging.lastResort``. ``secrets`` are strings to hide wherever they appear,
    such as the bot token; None and empty entries are ignored."""
    redactor = RedactSecrets(secrets)
    for name in loggers:
        for handler in logging.getLogger(name).handlers:
            redactor.attach(handler)
    if logging.lastResort is not None:
        redactor.attach(logging.lastResort)
    return redactor
