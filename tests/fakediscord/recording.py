"""Request recording and body parsing (JSON, or ``payload_json`` + ``files[n]`` multipart)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web


@dataclass
class UploadedFile:
    field_name: str  # e.g. "files[0]"
    filename: str
    content_type: str | None
    data: bytes

    @property
    def index(self) -> int | None:
        """The ``n`` of ``files[n]`` — what the ``attachments[].id`` placeholders refer to."""
        if self.field_name.startswith("files[") and self.field_name.endswith("]"):
            return int(self.field_name[6:-1])
        return None


@dataclass
class RecordedRequest:
    method: str
    path: str  # relative to the API base, e.g. "/channels/1/messages"
    query: dict[str, str]
    json: Any
    files: list[UploadedFile]
    timestamp: float  # time.monotonic() when the request arrived
    route: str | None = None  # matched template, e.g. "POST /channels/{channel_id}/messages"
    status: int | None = None
    response: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def multipart(self) -> bool:
        return bool(self.files)

    def __repr__(self) -> str:
        return f"<{self.method} {self.path} -> {self.status} route={self.route!r}>"


# Headers worth keeping for assertions (auth, audit-log reasons); the rest is noise.
_KEPT_HEADERS = ("Authorization", "X-Audit-Log-Reason", "Content-Type", "User-Agent")


async def record(request: web.Request, path: str) -> RecordedRequest:
    """Read the whole body once and keep it; handlers then work on the recorded copy."""
    arrived = time.monotonic()
    body: Any = None
    files: list[UploadedFile] = []
    ctype = request.content_type
    if ctype.startswith("multipart/"):
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            # discord.py never nests multipart bodies; skip rather than recurse.
            if not isinstance(part, BodyPartReader):
                continue
            raw = await part.read(decode=False)
            if part.name == "payload_json":
                body = json.loads(raw.decode("utf-8"))
            else:
                files.append(
                    UploadedFile(
                        part.name or "",
                        part.filename or "",
                        part.headers.get("Content-Type"),
                        bytes(raw),
                    )
                )
    elif request.can_read_body:
        text = await request.text()
        if text:
            body = json.loads(text) if ctype == "application/json" else text
    headers = {k: v for k in _KEPT_HEADERS if (v := request.headers.get(k)) is not None}
    return RecordedRequest(
        method=request.method,
        path=path,
        query=dict(request.query),
        json=body,
        files=files,
        timestamp=arrived,
        headers=headers,
    )


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    """Discord-exact JSON response.

    aiohttp's ``json_response`` appends ``; charset=utf-8`` and discord.py's ``json_or_text``
    compares the header for equality, so it would hand the handlers a *string*.
    """
    if body is None and status == 204:
        return web.Response(status=204)
    # body= (bytes), not text=: with text= aiohttp appends the charset again.
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
