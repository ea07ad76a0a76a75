"""``python -m bot serve`` as a real subprocess on a free port, for tests that talk to it over
HTTP; and ``Relay``, a real HTTP peer in front of it that can fail on purpose."""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

REPO = Path(__file__).resolve().parents[3]


@contextlib.contextmanager
def model_server(
    tmp_path: Path, model_dir: Path, *, api_key: str | None = None, **generation: int
) -> Iterator[str]:
    """Start the server on the tiny model; yields its API root (``http://127.0.0.1:N/v1``).
    Synchronous, so that one server can serve a whole module's tests (each on its own loop)."""
    limits = {"max_new_tokens_cap": 64, "max_prompt_tokens": 96, **generation}
    config = tmp_path / "serve.toml"
    config.write_text(
        f'[model]\nname = "{model_dir}"\n[generation]\n'
        + "".join(f"{key} = {value}\n" for key, value in limits.items())
        + '[logging]\nlevel = "WARNING"\n'
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    env.pop("INKWELL_SERVE_API_KEY", None)
    if api_key is not None:
        env["INKWELL_SERVE_API_KEY"] = api_key
    command = [sys.executable, "-m", "bot", "--config", str(config), "serve"]
    # Port 0: the OS picks a free port (no race with other tests), and the server prints it.
    command += ["--host", "127.0.0.1", "--port", "0"]
    log = tmp_path / "serve.log"
    with log.open("wb") as errors:
        process = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=errors
        )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 90)
        line = process.stdout.readline().decode() if ready else ""
        if " at http://" not in line:
            process.kill()
            process.wait()
            raise AssertionError(f"the model server did not start: {line}{log.read_text()}")
        yield line.rsplit(" at ", 1)[1].strip()
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stdout.close()


@dataclass
class Relay:
    """Passes requests on to ``upstream`` byte for byte (streams included), after failing the
    first ``fail_next`` POSTs with ``fail_status``. Counts the POSTs it saw and their statuses."""

    upstream: str  # http://127.0.0.1:N (no /v1)
    fail_next: int = 0
    fail_status: int = 503
    refuse_n: bool = False  # answer 400 to n > 1, as some servers do
    posts: int = 0
    candidates_asked: list[int] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    statuses: list[int] = field(default_factory=list)
    url: str = ""
    # While cleared, POSTs wait here (``held`` counts them): a piece stays in flight until
    # the test lets it go.
    hold: asyncio.Event | None = None
    held: int = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.method == "POST":
            self.posts += 1
            if self.hold is not None and not self.hold.is_set():
                self.held += 1
                await self.hold.wait()
            asked = int((await request.json()).get("n") or 1)
            self.candidates_asked.append(asked)
            if self.refuse_n and asked > 1:
                body = {"error": {"message": "n must be 1", "type": "invalid_request_error"}}
                return web.json_response(body, status=400)
            if self.fail_next > 0:
                self.fail_next -= 1
                self.statuses.append(self.fail_status)
                body = {"error": {"message": "relay says no", "type": "server_error"}}
                return web.json_response(
                    body, status=self.fail_status, headers={"Retry-After": "0"}
                )
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await self._forward(request)
        finally:
            self.in_flight -= 1

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type",)}
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method,
                self.upstream + request.path_qs,
                data=await request.read(),
                headers=headers,
            ) as answer,
        ):
            if request.method == "POST":
                self.statuses.append(answer.status)
            response = web.StreamResponse(
                status=answer.status,
                headers={"Content-Type": answer.headers.get("Content-Type", "")},
            )
            await response.prepare(request)
            async for piece in answer.content.iter_any():
                await response.write(piece)
            await response.write_eof()
            return response


@contextlib.asynccontextmanager
async def relay(upstream_api: str, **settings: int) -> AsyncIterator[Relay]:
    """A ``Relay`` in front of the model server at ``upstream_api`` (its /v1 root); its own
    ``url`` is the bare address, without /v1."""
    peer = Relay(upstream=upstream_api.removesuffix("/v1"), **settings)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", peer.handle)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    peer.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield peer
    finally:
        await runner.cleanup()
