"""A PostgreSQL server for the tests: the one `INKWELL_TEST_POSTGRES_URL` names, or a throwaway
cluster started here from Debian's (or any) `initdb` in a temp dir, on a unix socket only.

Each test gets a database of its own, cloned from a template that was migrated once, so a
test costs one CREATE DATABASE rather than a cluster or a migration run.
"""

from __future__ import annotations

import asyncio
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ENV_URL = "INKWELL_TEST_POSTGRES_URL"
TEMPLATE = "inkwell_test_template"
_names = itertools.count(1)


@dataclass
class PostgresServer:
    """Where the server is (a URL of its maintenance database) and how to make databases."""

    admin_url: str

    def url_for(self, database: str) -> str:
        """The URL of another database on this server."""
        parts = urlsplit(self.admin_url)
        return urlunsplit(parts._replace(path=f"/{database}"))

    async def _admin(self, *statements: str) -> None:
        conn = await asyncpg.connect(self.admin_url)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    async def create_database(self, *, template: str = "template0") -> str:
        """A new database (a clone of ``template``); returns its URL."""
        name = f"inkwell_test_{os.getpid()}_{next(_names)}"
        await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url_for(name)

    async def drop_database(self, url: str) -> None:
        """Drop a database made by `create_database` (closing what still uses it)."""
        name = urlsplit(url).path.lstrip("/")
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def prepare_template(self) -> None:
        """(Re)build the migrated template every test database is cloned from."""
        from bot.storage import Database

        await self._admin(
            f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)", f"CREATE DATABASE {TEMPLATE}"
        )
        database = await Database.open(self.url_for(TEMPLATE))
        await database.close()


def _find_initdb() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]) if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _cluster(initdb: Path) -> Iterator[str]:
    """A cluster in a temp dir, listening only on a unix socket there; yields its URL.

    PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
    """
    bin_dir = initdb.parent
    home = Path(tempfile.mkdtemp(prefix="inkwell-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise RuntimeError("running as root and there is no postgres user") from exc
        os.chown(home, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = home / "data", _free_port()
    options = (
        f"-c listen_addresses='' -c unix_socket_directories='{home}' -p {port}"
        " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )

    def run(*command: str) -> None:
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--locale=C", "--no-sync")  # fmt: skip
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
            str(home / "log"), "-w", "-t", "60", "start")  # fmt: skip
        try:
            yield f"postgresql://postgres@/postgres?host={home}&port={port}"
        finally:
            subprocess.run(
                [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=60,
                check=False,
            )
    finally:
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """The server to test on; raises `RuntimeError` saying why when there is none."""
    url = os.environ.get(ENV_URL)
    if url:
        server = PostgresServer(url)
        _prepare(server, f"{ENV_URL} ({urlsplit(url).path or url})")
        yield server
        return
    initdb = _find_initdb()
    if initdb is None:
        raise RuntimeError(f"no initdb on PATH or in /usr/lib/postgresql, and {ENV_URL} is unset")
    try:
        cluster = _cluster(initdb)
        url = cluster.__enter__()
    except (subprocess.SubprocessError, OSError, RuntimeError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        raise RuntimeError(
            f"couldn't start a PostgreSQL cluster with {initdb}: {exc} {detail.decode()[-300:]}"
        ) from exc
    try:
        server = PostgresServer(url)
        _prepare(server, f"the cluster started with {initdb}")
        yield server
    finally:
        cluster.__exit__(None, None, None)


def _prepare(server: PostgresServer, where: str) -> None:
    try:
        asyncio.run(server.prepare_template())
    except Exception as exc:  # any failure here means: no usable server
        raise RuntimeError(f"couldn't prepare a database on {where}: {exc!r}") from exc
