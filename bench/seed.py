"""Seeded benchmark databases: built once per generator version, cached, copied for writes.

Seeding goes around the services on purpose: a 100k-node tenant through them would
take longer than the whole benchmark may. The rows go in with ``executemany``
(SQLite) and ``COPY`` (PostgreSQL, asyncpg's ``copy_records_to_table``); then the
core's own ``rebuild`` stores every score, so the scores the workloads read are
exactly what writes through the services would have kept.

On PostgreSQL the owner (the server's administrator) migrates and seeds, and the app
and the floors connect as ``APP_ROLE``, a role that owns no table and cannot bypass
row-level security, as a production deploy does (docs/security.md).

A finished SQLite database is a file under ``bench/.cache/``; a finished PostgreSQL
database carries its cache key as its comment. Workloads that write (ingest) run on
a scratch copy: a file copy, or ``CREATE DATABASE … TEMPLATE``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from goalgraph.core import rls
from goalgraph.core.db import migrate, tortoise_config, url_role
from goalgraph.core.enums import Role
from goalgraph.core.identity import Identity
from goalgraph.core.models import Cycle, Tenant
from goalgraph.core.scoring.store import rebuild
from goalgraph.core.tenancy import Actor, TenantScope

from .shape import CYCLE_ID, GENERATOR_VERSION, TENANT_ID, TENANT_SLUG, YEAR_END, YEAR_START, Shape
from .shape import generate as generate_shape

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / ".cache"
APP_ROLE = "goalgraph_bench_app"
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/test"
#: When every seeded row was created (fixed, so two seedings are identical).
CREATED = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Target:
    """One seeded database: where the owner and the app connect to it."""

    db: str
    size: str
    owner_url: str
    app_url: str
    #: The SQLite file (None on PostgreSQL).
    path: Path | None = None
    #: The PostgreSQL database name (None on SQLite).
    name: str | None = None

    @property
    def postgres(self) -> bool:
        return self.db == "postgres"


def cache_key(size: str) -> str:
    """The generator version and the schema (the migrations' names and text)."""
    digest = hashlib.sha256()
    for path in sorted((ROOT.parent / "core" / "migrations").glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return f"v{GENERATOR_VERSION}-{digest.hexdigest()[:8]}-{size}"


def postgres_base() -> str:
    """The server (any database on it) the PostgreSQL targets are created through."""
    return os.environ.get("GOALGRAPH_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)


def _with_database(base: str, database: str, role: str | None = None) -> str:
    scheme, _, rest = base.rstrip("/").partition("://")
    userinfo, _, hostpart = rest.rpartition("@")
    host = hostpart.partition("/")[0]
    user = role or userinfo or "postgres"
    return f"{scheme}://{user}@{host}/{database}"


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def _admin(*statements: str) -> list[Any]:
    conn = await asyncpg.connect(asyncpg_dsn(postgres_base()))
    try:
        return [await conn.fetch(sql) for sql in statements]
    finally:
        await conn.close()


def _log(message: str) -> None:
    print(f"  [seed] {message}", flush=True)


# -- targets ------------------------------------------------------------------------------


async def ensure(db: str, size: str, cache: Path = CACHE) -> Target:
    """The seeded database of ``size`` on ``db`` (``sqlite`` or ``postgres``), seeded
    now unless the cache holds it for this generator version and schema."""
    key = cache_key(size)
    if db == "sqlite":
        path = cache / f"{key}.sqlite3"
        target = Target(db, size, f"sqlite://{path}", f"sqlite://{path}", path=path)
        if not path.exists():
            cache.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial.sqlite3")
            for stale in cache.glob(f"{key}.partial.sqlite3*"):
                stale.unlink()
            await seed(Target(db, size, f"sqlite://{partial}", f"sqlite://{partial}", path=partial))
            partial.rename(path)
        return target
    name = "gg_bench_" + key.replace("-", "_")
    base = postgres_base()
    target = Target(
        db, size, _with_database(base, name), _with_database(base, name, APP_ROLE), name=name
    )
    (found,) = await _admin(
        f"SELECT shobj_description(oid, 'pg_database') AS note FROM pg_database "
        f"WHERE datname = '{name}'"
    )
    if found and found[0]["note"] == key:
        return target
    await _admin(
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}"',
    )
    await seed(target)
    await _admin(f"COMMENT ON DATABASE \"{name}\" IS '{key}'")
    return target


async def scratch(target: Target, label: str) -> Target:
    """A writable copy of ``target`` (dropped with ``discard``)."""
    if target.path is not None:
        copy = target.path.with_name(f"scratch-{label}-{os.getpid()}.sqlite3")
        shutil.copyfile(target.path, copy)
        return Target(target.db, target.size, f"sqlite://{copy}", f"sqlite://{copy}", path=copy)
    assert target.name is not None
    name = f"{target.name}_{label}"[:60]
    await _admin(
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}" TEMPLATE "{target.name}"',
    )
    base = postgres_base()
    return Target(
        target.db,
        target.size,
        _with_database(base, name),
        _with_database(base, name, url_role(target.app_url) or APP_ROLE),
        name=name,
    )


async def discard(target: Target) -> None:
    """Drop a scratch copy."""
    if target.path is not None:
        for path in target.path.parent.glob(target.path.name + "*"):
            path.unlink()
    elif target.name is not None:
        await _admin(f'DROP DATABASE IF EXISTS "{target.name}" WITH (FORCE)')


# -- seeding ------------------------------------------------------------------------------


def _rows(shape: Shape) -> dict[str, tuple[list[str], Iterable[Sequence[Any]]]]:
    """Every table's columns and rows, in insertion order (parents first)."""
    t, c = TENANT_ID, CREATED
    metric = {k.id: k.spec for k in shape.kpis}
    return {
        "tenant": (
            [
                "id",
                "slug",
                "name",
                "name_en",
                "industry",
                "lifecycle_stage",
                "alert_after_misses",
                "created_at",
            ],
            [(t, TENANT_SLUG, "连锁集团", "The Chain", "retail", "growth", 3, c)],
        ),
        "org_unit": (
            [
                "id",
                "created_at",
                "updated_at",
                "name",
                "name_en",
                "kind",
                "path",
                "depth",
                "parent_id",
                "tenant_id",
                "code",
            ],
            [
                (u.id, c, c, u.name, u.name_en, u.kind, u.path, u.depth, u.parent_id, t, u.code)
                for u in shape.units
            ],
        ),
        "person": (
            [
                "id",
                "created_at",
                "updated_at",
                "name",
                "name_en",
                "email",
                "role",
                "org_unit_id",
                "tenant_id",
                "code",
                "active",
                "job_title",
            ],
            [
                (p.id, c, c, p.name, "", p.email, p.role, p.org_unit_id, t, p.code, True, "")
                for p in shape.people
            ],
        ),
        "cycle": (
            [
                "id",
                "created_at",
                "updated_at",
                "name",
                "name_en",
                "kind",
                "starts_on",
                "ends_on",
                "tenant_id",
            ],
            [(CYCLE_ID, c, c, "2025年度", "FY2025", "year", YEAR_START, YEAR_END, t)],
        ),
        "objective": (
            [
                "id",
                "created_at",
                "updated_at",
                "status",
                "title",
                "title_en",
                "description",
                "alignment_weight",
                "path",
                "depth",
                "cycle_id",
                "owner_person_id",
                "owner_unit_id",
                "parent_id",
                "tenant_id",
                "origin",
            ],
            [
                (
                    o.id,
                    c,
                    c,
                    "active",
                    o.title,
                    o.title_en,
                    "",
                    1.0,
                    o.path,
                    o.depth,
                    CYCLE_ID,
                    o.owner_person_id,
                    o.owner_unit_id,
                    o.parent_id,
                    t,
                    "",
                )
                for o in shape.objectives
            ],
        ),
        "key_result": (
            [
                "id",
                "created_at",
                "updated_at",
                "status",
                "title",
                "title_en",
                "unit",
                "direction",
                "start_value",
                "target_value",
                "current_value",
                "weight",
                "objective_id",
                "owner_person_id",
                "owner_unit_id",
                "tenant_id",
                "origin",
            ],
            [
                (
                    k.id,
                    c,
                    c,
                    "active",
                    k.title,
                    k.title_en,
                    "%",
                    "higher_is_better",
                    0.0,
                    100.0,
                    k.current_value,
                    k.weight,
                    k.objective_id,
                    k.owner_person_id,
                    k.owner_unit_id,
                    t,
                    "",
                )
                for k in shape.key_results
            ],
        ),
        "kpi": (
            [
                "id",
                "created_at",
                "updated_at",
                "status",
                "metric_code",
                "title",
                "title_en",
                "unit",
                "direction",
                "target",
                "threshold",
                "weight",
                "frequency",
                "aggregation",
                "current_value",
                "current_period",
                "owner_person_id",
                "owner_unit_id",
                "tenant_id",
                "origin",
                "scoring_policy",
            ],
            [
                (
                    k.id,
                    c,
                    c,
                    "active",
                    k.metric_code,
                    k.title,
                    k.title_en,
                    metric[k.id][1],
                    metric[k.id][2],
                    metric[k.id][3],
                    metric[k.id][4],
                    1.0,
                    "daily",
                    metric[k.id][5],
                    k.current_value,
                    k.current_period,
                    k.owner_person_id,
                    k.owner_unit_id,
                    t,
                    "",
                    metric[k.id][6],
                )
                for k in shape.kpis
            ],
        ),
        "kpi_link": (
            ["id", "created_at", "updated_at", "weight", "key_result_id", "kpi_id", "tenant_id"],
            [(i, c, c, w, kr, kpi, t) for i, kr, kpi, w in shape.links],
        ),
        "measurement": (
            [
                "id",
                "created_at",
                "updated_at",
                "period_start",
                "value",
                "source",
                "recorded_at",
                "kpi_id",
                "tenant_id",
            ],
            (
                (n, c, c, day, value, "seed", c, kpi, t)
                for n, (kpi, day, value) in enumerate(shape.measurements(), 1)
            ),
        ),
    }


def _sqlite_value(value: Any) -> Any:
    """The text tortoise stores dates and timestamps as on SQLite, 0/1 for booleans."""
    if isinstance(value, datetime):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _sqlite_rows(rows: Iterable[Sequence[Any]]) -> Iterator[tuple[Any, ...]]:
    days: dict[date, str] = {}
    stamp = str(CREATED)
    for row in rows:
        out = []
        for value in row:
            if isinstance(value, datetime):
                out.append(stamp if value is CREATED else str(value))
            elif isinstance(value, date):
                out.append(days.setdefault(value, value.isoformat()))
            else:
                out.append(_sqlite_value(value))
        yield tuple(out)


async def insert_sqlite(path: Path, shape: Shape) -> None:
    conn = sqlite3.connect(path)
    # The file is renamed into the cache only once it is complete, so seeding may skip
    # the fsyncs that guard it against a crash halfway.
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")
    try:
        with conn:
            for table, (columns, rows) in _rows(shape).items():
                marks = ", ".join("?" for _ in columns)
                conn.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                    _sqlite_rows(rows),
                )
    finally:
        conn.close()


async def insert_postgres(owner_url: str, shape: Shape) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(owner_url))
    try:
        async with conn.transaction():
            if await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
                # the rows are consistent by construction: skip the foreign-key triggers,
                # which would check every one of the 1.7M measurements one by one
                await conn.execute("SET LOCAL session_replication_role = replica")
            for table, (columns, rows) in _rows(shape).items():
                await conn.copy_records_to_table(table, records=rows, columns=columns)
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def tenant_scope(tenant: Tenant) -> TenantScope:
    """An admin's scope of the benchmark tenant, for core calls made by the harness."""
    return TenantScope(tenant, Identity(tenant.id, tenant.slug, Role.ADMIN), Actor(None, None))


async def rebuild_scores(url: str) -> None:
    """The core's own rebuild of the tenant's cycle (Tortoise opened for it)."""
    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=tortoise_config(url))
    try:
        with rls.bound_to(TENANT_ID):
            tenant = await Tenant.get(id=TENANT_ID)
            cycle = await Cycle.get(id=CYCLE_ID)
            await rebuild(tenant_scope(tenant), cycle, None)
    finally:
        await Tortoise.close_connections()


async def seed(target: Target) -> None:
    """Migrate ``target`` if need be, insert its tenant's rows and rebuild its scores."""
    started = time.perf_counter()
    shape = generate_shape(target.size)
    if target.path is not None:
        await migrate(target.owner_url)
        await insert_sqlite(target.path, shape)
    else:
        # the role is the server's, not the database's: a fresh server has none yet, and
        # two seedings at once may both find it missing
        await _admin(
            f"DO $$ BEGIN CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        )
        await migrate(target.owner_url, APP_ROLE)
        await insert_postgres(target.owner_url, shape)
    inserted = time.perf_counter()
    await rebuild_scores(target.owner_url)
    if target.path is not None:
        conn = sqlite3.connect(target.path)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
    _log(
        f"{target.db} {target.size}: {shape.nodes:,} nodes, inserted in "
        f"{inserted - started:.1f} s, scores rebuilt in {time.perf_counter() - inserted:.1f} s"
    )
