"""Database set-up: the Tortoise configuration and running migrations.

SQLite is the embedded default and PostgreSQL the production path; both come from
one URL. Schema changes only ever happen through the migrations in
``goalgraph.core.migrations`` (Tortoise's built-in migration engine).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import DBConnectionError, OperationalError
from tortoise.migrations.api import migrate as run_migrations
from tortoise.migrations.executor import MigrationExecutor

from . import rls
from .i18n import msg
from .settings import ConfigError, Settings

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


#: Connections a process keeps open to PostgreSQL at most, when neither the settings
#: nor the URL (``?maxsize=``) say: tortoise's own default.
DEFAULT_POOL_SIZE = 5


def connection_config(database_url: str, pool_size: int | None = None) -> str | dict[str, Any]:
    """The connection entry for ``database_url``: PostgreSQL through the engine that
    hands each task's tenant binding to row-level security (``core/rls.py``), with a
    pool of at most ``pool_size`` connections (a ``maxsize`` in the URL wins)."""
    url = normalise_url(database_url)
    if not is_postgres(url):
        return url
    config = {**expand_db_url(url), "engine": rls.__name__}
    if pool_size is not None:
        credentials = config["credentials"]
        credentials.setdefault("maxsize", pool_size)
        credentials.setdefault("minsize", min(1, int(credentials["maxsize"])))
    return config


def tortoise_config(database_url: str, pool_size: int | None = None) -> dict[str, Any]:
    """The one Tortoise config used by the server, the CLI and the tests."""
    return {
        "connections": {"default": connection_config(database_url, pool_size)},
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


async def migrate(
    database_url: str, app_role: str | None = None, on_wait: Callable[[], None] | None = None
) -> None:
    """Bring the database at ``database_url`` to the newest schema and, on PostgreSQL,
    put every tenant table under row-level security, granting ``app_role`` (the role
    the app connects as, when it is not the one migrating) what it needs.

    Migrations run as the tables' owner, across every tenant: a migration that moves
    data must see all of it, and ``FORCE ROW LEVEL SECURITY`` binds the owner too. On
    PostgreSQL they run under the migration lock (``migration_lock``; ``on_wait`` is
    called once if another run holds it), so two deploy steps never migrate at once and
    the second finds nothing left to do.
    """
    async with connected(database_url):
        pass  # an unreachable database is one line (ConfigError), not a migration's traceback
    async with migration_lock(database_url, on_wait):
        try:
            with rls.every_tenant():
                await run_migrations(config=tortoise_config(database_url))
                if is_postgres(database_url):
                    await rls.secure(Tortoise.get_connection("default"), tenant_tables(), app_role)
        finally:
            await Tortoise.close_connections()


#: The advisory lock ``goalgraph migrate`` holds on PostgreSQL: a fixed 64-bit key from
#: the name, the same in every release (advisory locks are per database).
MIGRATE_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"goalgraph.migrate").digest()[:8], "big", signed=True
)


@asynccontextmanager
async def migration_lock(
    database_url: str, on_wait: Callable[[], None] | None = None
) -> AsyncIterator[None]:
    """Hold PostgreSQL's session advisory lock ``MIGRATE_LOCK_KEY`` for the block, on a
    connection of its own as the migrating role; waits for it when another migration
    holds it (first ``pg_try_advisory_lock``, so ``on_wait`` can say so). The lock dies
    with its connection, so a killed migration never leaves it behind. SQLite: no lock
    (one file, one deploy step; see docs/operations.md)."""
    if not is_postgres(database_url):
        yield
        return
    credentials = expand_db_url(normalise_url(database_url))["credentials"]
    with reaching(database_url):
        connection = await asyncpg.connect(
            host=credentials.get("host"),
            port=credentials.get("port"),
            user=credentials.get("user"),
            password=credentials.get("password"),
            database=credentials.get("database"),
            timeout=CONNECT_TIMEOUT_SECONDS,
        )
    try:
        if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", MIGRATE_LOCK_KEY):
            if on_wait is not None:
                on_wait()
            await connection.execute("SELECT pg_advisory_lock($1)", MIGRATE_LOCK_KEY)
        try:
            yield
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATE_LOCK_KEY)
    finally:
        await connection.close()


async def migrate_as_owner(settings: Settings, on_wait: Callable[[], None] | None = None) -> str:
    """``migrate`` as a deploy runs it: through ``migrate_database_url`` when set (the
    tables' owner), granting the role of ``database_url`` (the app's) its rights.
    Returns the URL it migrated through."""
    url = settings.migrate_database_url or settings.database_url
    app_role = url_role(settings.database_url)
    await migrate(url, app_role if app_role != url_role(url) else None, on_wait)
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


class NotMigrated(ConfigError):
    """The database schema is older than the code: run ``goalgraph migrate``."""


async def require_migrated(database_url: str) -> None:
    """Refuse to serve a database whose schema lags behind (clear, early, not a 500)."""
    pending = await pending_migrations(database_url)
    if pending:
        raise NotMigrated(
            msg(
                "config.not_migrated",
                url=redact_url(database_url),
                count=len(pending),
                names=", ".join(pending),
            )
        )


#: How long a first connection may take before the database counts as unreachable.
CONNECT_TIMEOUT_SECONDS = 10.0


@asynccontextmanager
async def connected(database_url: str) -> AsyncIterator[None]:
    """Open Tortoise for one CLI command or script, and always close it; a database
    that cannot be reached is a ``ConfigError`` naming the URL, before any work.

    On PostgreSQL the command publishes its live updates as a server does (NOTIFY in
    the write's transaction), so a `goalgraph sync` or `import` run from a shell
    reaches the subscribers of every server worker. It listens to nothing, so the bus
    opens no connection of its own.
    """
    from . import events
    from .pgbus import PostgresBus

    await Tortoise.init(config=tortoise_config(database_url))
    previous = events.install(PostgresBus(database_url)) if is_postgres(database_url) else None
    try:
        await probe(database_url)
        yield
    finally:
        if previous is not None:
            events.install(previous)
        await Tortoise.close_connections()


async def probe(database_url: str, within: float = CONNECT_TIMEOUT_SECONDS) -> None:
    """One round trip to the database, or ``ConfigError`` saying why there is none."""
    with reaching(database_url):
        async with asyncio.timeout(within):
            await Tortoise.get_connection("default").execute_query("SELECT 1")


#: What the drivers raise when there is no database to talk to.
UNREACHABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    sqlite3.Error,
    DBConnectionError,
    OperationalError,
)


@contextmanager
def reaching(database_url: str) -> Iterator[None]:
    """Turn "no database there" into one ``ConfigError`` line naming the setting.

    A SQLite file's folder is checked first: the driver would fail in its own thread
    after the command's event loop had gone, and say only "unable to open"."""
    folder = sqlite_folder(database_url)
    if folder is not None and not folder.is_dir():
        raise ConfigError(msg("config.no_folder", folder=str(folder)))
    try:
        yield
    except UNREACHABLE as exc:
        reason = str(exc) or type(exc).__name__
        raise ConfigError(
            msg("config.unreachable", url=redact_url(database_url), reason=reason)
        ) from None


def sqlite_folder(database_url: str) -> Path | None:
    """The folder a SQLite URL's file lives in (``None``: not SQLite, or in memory)."""
    if not database_url.startswith("sqlite://") or ":memory:" in database_url:
        return None
    return Path(database_url.removeprefix("sqlite://").split("?")[0]).parent


#: For Tortoise's own ``tortoise makemigrations`` (configured in pyproject.toml);
#: the autodetector compares models with migration files and needs no real database.
TORTOISE_ORM = tortoise_config("sqlite://:memory:")


class UnguardedRole(ConfigError):
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
        message = msg("config.unguarded_role", problem=problem)
        if production:
            raise UnguardedRole(message)
        log.warning("%s", message.render("en"))
    return role


def redact_url(database_url: str) -> str:
    """``database_url`` fit to print: the password replaced."""
    head, at, tail = database_url.rpartition("@")
    if not at or "://" not in head:
        return database_url
    scheme, _, userinfo = head.partition("://")
    user, colon, _ = userinfo.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{tail}"
