"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured) and the
real ASGI app driven over HTTP by httpx.

Every test that uses ``db_url`` runs once per backend. The schema is migrated once
per session per backend; each test then starts from empty tables (a copied SQLite
file, or truncated PostgreSQL tables).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from tortoise.backends.base.executor import EXECUTOR_CACHE

from goalgraph.core import logs, rls
from goalgraph.core.app import create_app
from goalgraph.core.db import migrate
from goalgraph.core.settings import Settings

from . import secrets_registry
from .factories import TEST_SECRET

POSTGRES_ENV = "GOALGRAPH_TEST_POSTGRES_URL"
BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get(POSTGRES_ENV) else [])


# --- every log record of the session, and no secret in it ------------------------------

#: The formatted logs of this process's session (each xdist worker has its own).
CAPTURED_LOG: list[Path] = []
#: Secret kinds the xdist workers found in their logs (filled on the controller only).
WORKER_LEAKS: dict[str, int] = {}
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"
#: Loggers that are not goalgraph's: the access logs of the fake vendors the tests serve
#: with aiohttp (goalgraph serves with uvicorn), where a vendor's API wants the secret in
#: the query string (DingTalk's ``gettoken?appsecret=``). That is the vendor's log.
NOT_OURS = ("aiohttp.access",)
CAPTURE = "goalgraph-session-capture"


def _ours(record: logging.LogRecord) -> bool:
    return record.name not in NOT_OURS


def _worker_id(config: pytest.Config) -> str | None:
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    return str(workerinput["workerid"]) if workerinput else None


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Write every record reaching the root logger, formatted with its args and traceback,
    to a file of the session's tmp dir: what an operator's log would hold.

    Records of INFO and above from everyone, and goalgraph's own from DEBUG (the ORM's
    SQL at DEBUG would only repeat hashed or sealed values, and slow the suite down).
    """
    base = session.config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    name = f"session-{_worker_id(session.config) or 'main'}"
    root = logging.getLogger()
    # as plain lines, and as the JSON lines of GOALGRAPH_LOG_FORMAT=json (core/logs.py),
    # whose fields (the request's context among them) the plain lines do not show
    for path, formatter in (
        (Path(base) / f"{name}.log", logging.Formatter(LOG_FORMAT)),
        (Path(base) / f"{name}.json.log", logs.formatter(json=True)),
    ):
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(formatter)
        handler.set_name(CAPTURE)
        handler.addFilter(_ours)
        root.addHandler(handler)
        CAPTURED_LOG.append(path)
    if root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)
    logging.getLogger("goalgraph").setLevel(logging.DEBUG)
    secrets_registry.register("signing secret", TEST_SECRET)


def _close_capture() -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == CAPTURE:
            root.removeHandler(handler)
            handler.close()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """On the xdist controller: keep what a finished worker found in its own log."""
    for kind, count in (getattr(node, "workeroutput", {}) or {}).get("secret_leaks", {}).items():
        WORKER_LEAKS[kind] = WORKER_LEAKS.get(kind, 0) + count


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session if any registered secret appears in the captured log.

    Each process greps its own log; an xdist worker hands its verdict to the controller
    (``workeroutput``), which fails the run. Only kinds are printed, never a secret.
    """
    _close_capture()
    secrets = secrets_registry.registered()
    found = secrets_registry.leaks(CAPTURED_LOG, secrets)
    workeroutput: dict[str, Any] | None = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["secret_leaks"] = found
    if not session.config.pluginmanager.has_plugin("dsession"):
        _record_secret_figures(len(secrets), sum(found.values()))
    for kind, count in WORKER_LEAKS.items():
        found[kind] = found.get(kind, 0) + count
    if found:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(found.items()))
        print(f"\nSECRETS IN THE LOG: {kinds} (see {CAPTURED_LOG})", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _record_secret_figures(registered: int, found: int) -> None:
    """The ``secrets`` figures of docs/reliability.md (not on an xdist controller, which
    runs no test and must not overwrite its workers' figures)."""
    from .reliability.conftest import RECORDED, Figure

    RECORDED.append(Figure("secrets", "secrets registered", "any", registered))
    RECORDED.append(Figure("secrets", "secrets found in logs", "any", found, must_be_zero=True))


def _pg_url(base: str, database: str) -> str:
    head, _, _ = base.rstrip("/").rpartition("/")
    return f"{head}/{database}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    asyncio.run(migrate(f"sqlite://{path}"))
    return path


#: The role the app connects as in the PostgreSQL runs: it owns no table and cannot
#: bypass row-level security, so every PostgreSQL test runs under the tenant policies.
APP_ROLE = "goalgraph_test_app"


def _as_role(url: str, role: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{role}@{rest.rpartition('@')[2]}"


async def _admin(base: str, *statements: str) -> None:
    conn = await asyncpg.connect(base.replace("postgres://", "postgresql://", 1))
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_owner_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the session, migrated by its owner (the server's
    administrator, as a deploy step would); dropped at the end.

    Fails (never skips) when the variable is set but the server cannot be reached.
    """
    base = os.environ[POSTGRES_ENV]
    name = f"goalgraph_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(
            _admin(
                base,
                f'CREATE DATABASE "{name}"',
                # both xdist workers may find the role missing at once
                f"DO $$ BEGIN CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS; "
                "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
            )
        )
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"{POSTGRES_ENV} is set but PostgreSQL is unreachable: {exc}", pytrace=False)
    url = _pg_url(base, name)
    asyncio.run(migrate(url, APP_ROLE))
    yield url
    asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_database(postgres_owner_url: str) -> str:
    """The session's PostgreSQL database as the app connects to it: as ``APP_ROLE``."""
    return _as_role(postgres_owner_url, APP_ROLE)


async def truncate_postgres(url: str) -> None:
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'tortoise_migrations'"
        )
        names = ", ".join(f'"{t["tablename"]}"' for t in tables)
        await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture(autouse=True)
def operator_view() -> Iterator[None]:
    """Test code sets up and inspects the database as its operator does: across tenants.

    What row-level security guards is the app's own work: each request and connection
    starts bound to no tenant (``core/rls.Unbound``) and binds the one it names, and
    each CLI command runs in a process of its own; tests of the binding itself
    (tests/test_rls.py) bind as they need.
    """
    with rls.every_tenant():
        yield


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database of each backend in turn."""
    # Tortoise caches compiled INSERT statements per connection name, not per
    # dialect; a process that switches between SQLite and PostgreSQL must forget them.
    EXECUTOR_CACHE.clear()
    if request.param == "sqlite":
        path = tmp_path / "goalgraph.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite://{path}"
    asyncio.run(truncate_postgres(request.getfixturevalue("postgres_owner_url")))
    url: str = request.getfixturevalue("postgres_database")
    return url


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, secret=TEST_SECRET, sync_poll_seconds=0)


@pytest_asyncio.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app with its lifespan (Tortoise opened), over an ASGI transport.

    While the client is open, Tortoise is initialised, so tests can also set up data
    through the core services directly.
    """
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://goalgraph.test") as c:
            yield c
