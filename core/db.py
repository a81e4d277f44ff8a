"""Database set-up: the Tortoise configuration and running migrations.

SQLite is the embedded default and PostgreSQL the production path; both come from
one URL. Schema changes only ever happen through the migrations in
``goalgraph.core.migrations`` (Tortoise's built-in migration engine).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as run_migrations
from tortoise.migrations.executor import MigrationExecutor

from . import rls
from .settings import Settings

log = logging.getLogger(__name__)

MODELS_MODULE = "goalgraph.core.models"
MIGRATIONS_MODULE = "goalgraph.core.migrations"


def normalise_url(url: str) -> str:
    """Accept the spellings people paste (``postgresql://``) and tune SQLite.

    SQLite gets WAL journaling so readers are not blocked by the writer.
    """
    if url.startswith("postgresql://"):
        url = "postgres://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite://") and ":memory:" not in url and "journal_mode" not in url:
        url += ("&" if "?" in url else "?") + "journal_mode=WAL"
    return url


def is_postgres(database_url: str) -> bool:
    return normalise_url(database_url).startswith("postgres://")


def connection_config(database_url: str) -> str | dict[str, Any]:
    """The connection entry for ``database_url``: PostgreSQL through the engine that
    hands each task's tenant binding to row-level security (``core/rls.py``)."""
    url = normalise_url(database_url)
    if not is_postgres(url):
        return url
    return {**expand_db_url(url), "engine": rls.__name__}


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The one Tortoise config used by the server, the CLI and the tests."""
    return {
        "connections": {"default": connection_config(database_url)},
        "apps": {
            "models": {
                "models": [MODELS_MODULE],
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def migrate(database_url: str, app_role: str | None = None) -> None:
    """Bring the database at ``database_url`` to the newest schema and, on PostgreSQL,
    put every tenant table under row-level security, granting ``app_role`` (the role
    the app connects as, when it is not the one migrating) what it needs.

    Migrations run as the tables' owner, across every tenant: a migration that moves
    data must see all of it, and ``FORCE ROW LEVEL SECURITY`` binds the owner too.
    """
    try:
        with rls.every_tenant():
            await run_migrations(config=tortoise_config(database_url))
            if is_postgres(database_url):
                await rls.secure(Tortoise.get_connection("default"), tenant_tables(), app_role)
    finally:
        await Tortoise.close_connections()


async def migrate_as_owner(settings: Settings) -> str:
    """``migrate`` as a deploy runs it: through ``migrate_database_url`` when set (the
    tables' owner), granting the role of ``database_url`` (the app's) its rights.
    Returns the URL it migrated through."""
    url = settings.migrate_database_url or settings.database_url
    app_role = url_role(settings.database_url)
    await migrate(url, app_role if app_role != url_role(url) else None)
    return url


def tenant_tables() -> list[str]:
    """The tables of tenant-owned rows, from the model registry: every table but the
    tenants' own directory (read before a tenant is known, to resolve a slug or a
    token's tenant)."""
    from .models import TenantOwned

    return sorted(
        model._meta.db_table
        for model in Tortoise.apps["models"].values()
        if issubclass(model, TenantOwned)
    )


def url_role(database_url: str) -> str | None:
    """The role a PostgreSQL URL signs in as (None for SQLite or when it names none)."""
    if not is_postgres(database_url):
        return None
    user = expand_db_url(normalise_url(database_url))["credentials"].get("user")
    return str(user) if user else None


async def pending_migrations(database_url: str) -> list[str]:
    """Migrations not yet applied to the (already opened) database, oldest first."""
    config = tortoise_config(database_url)
    executor = MigrationExecutor(Tortoise.get_connection("default"), config["apps"])
    steps = await executor.plan(None)
    return [f"{step.migration.app_label}.{step.migration.name}" for step in steps]


class NotMigrated(RuntimeError):
    """The database schema is older than the code: run ``goalgraph migrate``."""


async def require_migrated(database_url: str) -> None:
    """Refuse to serve a database whose schema lags behind (clear, early, not a 500)."""
    pending = await pending_migrations(database_url)
    if pending:
        raise NotMigrated(
            f"the database at {redact_url(database_url)} needs {len(pending)} migration(s) "
            f"({', '.join(pending)}): run `goalgraph migrate` first"
        )


@asynccontextmanager
async def connected(database_url: str) -> AsyncIterator[None]:
    """Open Tortoise for one CLI command or script, and always close it."""
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        yield
    finally:
        await Tortoise.close_connections()


#: For Tortoise's own ``tortoise makemigrations`` (configured in pyproject.toml);
#: the autodetector compares models with migration files and needs no real database.
TORTOISE_ORM = tortoise_config("sqlite://:memory:")


class UnguardedRole(RuntimeError):
    """The app's PostgreSQL role is not bound by row-level security."""


async def check_connection_role(production: bool) -> rls.ConnectionRole:
    """Check that row-level security binds the role the app connects as.

    A superuser, a role with BYPASSRLS or the tables' owner would see every tenant's
    rows through a query that forgot its filter. In production that stops start-up;
    in development (often the ``postgres`` superuser) it is a warning.
    """
    role = await rls.connection_role(Tortoise.get_connection("default"))
    problem = role.problem()
    if problem is not None:
        message = (
            f"the database connection {problem}, so row-level security does not bind it: "
            "connect GOALGRAPH_DATABASE_URL as a role that owns no table and migrate "
            "through GOALGRAPH_MIGRATE_DATABASE_URL (docs/security.md, Row-level security)"
        )
        if production:
            raise UnguardedRole(message)
        log.warning(message)
    return role


def redact_url(database_url: str) -> str:
    """``database_url`` fit to print: the password replaced."""
    head, at, tail = database_url.rpartition("@")
    if not at or "://" not in head:
        return database_url
    scheme, _, userinfo = head.partition("://")
    user, colon, _ = userinfo.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{tail}"
