"""Fixtures: every storage test that takes `db` runs on SQLite (a real file in a temp dir) and
on PostgreSQL (a fresh database cloned from a migrated template), with a clock that ticks
predictably. Mark a test `sqlite_only` (with the reason in its docstring) when what it checks
exists only there: the file, WAL, pragmas, a second program holding the lock; and
`postgresql_only` for PostgreSQL's own properties (a pool's connections racing).

The server (see postgres_server.py) starts once, at collection, only when PostgreSQL tests
were collected. When it can't, those tests are left out with one line saying why (but
when INKWELL_TEST_POSTGRES_URL names a server that doesn't answer, the run stops)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from bot.storage import Database
from tests.storage.factories import TickingClock
from tests.storage.postgres_server import ENV_URL, TEMPLATE, PostgresServer, postgres_server

_SERVER = pytest.StashKey[PostgresServer]()
_STACK = pytest.StashKey[ExitStack]()
_LEFT_OUT = pytest.StashKey[tuple[int, str]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: checks something only SQLite has")
    config.addinivalue_line("markers", "postgresql_only: checks something only PostgreSQL has")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        backends = ["sqlite", "postgresql"]
        if metafunc.definition.get_closest_marker("sqlite_only"):
            backends = ["sqlite"]
        elif metafunc.definition.get_closest_marker("postgresql_only"):
            backends = ["postgresql"]
        metafunc.parametrize("backend", backends, indirect=True)


def _on_postgres(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return callspec is not None and callspec.params.get("backend") == "postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = [item for item in items if _on_postgres(item)]
    if not wanted or _SERVER in config.stash:
        return
    stack = ExitStack()
    try:
        config.stash[_SERVER] = stack.enter_context(postgres_server())
        config.stash[_STACK] = stack
    except RuntimeError as exc:
        stack.close()
        if os.environ.get(ENV_URL):  # a server was promised (CI starts one): that's a failure
            raise pytest.UsageError(f"{ENV_URL} is set but unusable: {exc}") from exc
        config.stash[_LEFT_OUT] = (len(wanted), str(exc))
        items[:] = [item for item in items if not _on_postgres(item)]
        config.hook.pytest_deselected(items=wanted)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    left_out = terminalreporter.config.stash.get(_LEFT_OUT, None)
    if left_out is not None:
        count, reason = left_out
        terminalreporter.write_line(
            f"SKIPPED {count} PostgreSQL storage tests: PostgreSQL unavailable: {reason}",
            yellow=True,
        )


def pytest_unconfigure(config: pytest.Config) -> None:
    stack = config.stash.get(_STACK, None)
    if stack is not None:
        stack.close()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def postgres(request: pytest.FixtureRequest, backend: str) -> PostgresServer:
    """The test server (only for tests that run on PostgreSQL)."""
    assert backend == "postgresql", "use the postgres fixture in postgresql_only tests"
    return request.config.stash[_SERVER]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "inkwell.db"


@pytest.fixture
async def db_target(
    backend: str, db_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Path | str]:
    """Where `db` lives: the SQLite file's path, or a new migrated PostgreSQL database's URL."""
    if backend == "sqlite":
        yield db_path
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    url = await server.create_database(template=TEMPLATE)
    try:
        yield url
    finally:
        await server.drop_database(url)


@pytest.fixture
async def db(db_target: Path | str) -> AsyncIterator[Database]:
    database = await Database.open(db_target, clock=TickingClock())
    try:
        yield database
    finally:
        await database.close()
