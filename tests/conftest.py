"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured) and the
real ASGI app driven over HTTP by httpx.

Every test that uses ``db_url`` runs once per backend. The schema is migrated once
per session per backend; each test then starts from empty tables (a copied SQLite
file, or truncated PostgreSQL tables).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from tortoise.backends.base.executor import EXECUTOR_CACHE

from goalgraph.core import rls
from goalgraph.core.app import create_app
from goalgraph.core.db import migrate
from goalgraph.core.settings import Settings

from .factories import TEST_SECRET

POSTGRES_ENV = "GOALGRAPH_TEST_POSTGRES_URL"
BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get(POSTGRES_ENV) else [])


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
                f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') "
                f"THEN CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS; END IF; END $$",
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
