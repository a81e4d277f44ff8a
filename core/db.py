"""Database set-up: the Tortoise configuration and running migrations.

SQLite is the embedded default and PostgreSQL the production path; both come from
one URL. Schema changes only ever happen through the migrations in
``goalgraph.core.migrations`` (Tortoise's built-in migration engine).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tortoise import Tortoise
from tortoise.migrations.api import migrate as run_migrations
from tortoise.migrations.executor import MigrationExecutor

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


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The one Tortoise config used by the server, the CLI and the tests."""
    return {
        "connections": {"default": normalise_url(database_url)},
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


async def migrate(database_url: str) -> None:
    """Bring the database at ``database_url`` to the newest schema."""
    try:
        await run_migrations(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()


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
            f"the database at {database_url} needs {len(pending)} migration(s) "
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
