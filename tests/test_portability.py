"""Data portability: ``goalgraph tenant export`` and ``import`` on each backend.

The demo tenant goes out of one database and into an empty one of the same backend;
the goal tree, its scores, the stored score rows and the audit trail are then the same,
read through the real app. Every table and every column is covered, whatever models
are added later: a tenant with a row in every table of the registry travels too.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from tortoise import Tortoise
from tortoise.fields import (
    BooleanField,
    CharField,
    DateField,
    DatetimeField,
    FloatField,
    IntField,
    JSONField,
    SmallIntField,
    TextField,
)
from tortoise.fields.data import CharEnumFieldInstance
from tortoise.models import Model

from goalgraph.core.app import create_app
from goalgraph.core.db import migrate
from goalgraph.core.enums import Role
from goalgraph.core.errors import DomainError
from goalgraph.core.models import AuditEvent, Person, Score, Tenant
from goalgraph.core.portability import BATCH, export_tenant, import_tenant
from goalgraph.core.settings import Settings
from goalgraph.core.tenants import delete_tenant, owned_models, self_references, tenant_models
from goalgraph.plugins.retail.demo import seed_demo

from .cli import cli
from .conftest import POSTGRES_ENV, _pg_url, truncate_postgres
from .factories import TEST_SECRET, gql, make_company
from .factories import token as mint
from .sqlcount import count_statements


def run(url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return cli(url, TEST_SECRET, *args, check=check)


def refused(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


# -- a second database of the same backend ----------------------------------------------


def _postgres(suffix: str) -> Iterator[str]:
    """A migrated PostgreSQL database beside the suite's own, dropped at the end."""
    base = os.environ[POSTGRES_ENV]
    name = f"goalgraph_test_{uuid.uuid4().hex[:10]}_{suffix}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(base.replace("postgres://", "postgresql://", 1))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = _pg_url(base, name)
    asyncio.run(migrate(url))
    yield url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def second_postgres() -> Iterator[str]:
    yield from _postgres("b")


@pytest.fixture(scope="session")
def scratch_postgres() -> Iterator[str]:
    yield from _postgres("demo")


@pytest.fixture
def other_db_url(db_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database of the same backend as ``db_url``."""
    if db_url.startswith("sqlite://"):
        path = tmp_path / "other.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite://{path}"
    url: str = request.getfixturevalue("second_postgres")
    asyncio.run(truncate_postgres(url))
    return url


@asynccontextmanager
async def app_on(url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The real app on ``url`` (Tortoise opened on it while the block runs)."""
    app = create_app(Settings(database_url=url, secret=TEST_SECRET, sync_poll_seconds=0))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://goalgraph.test") as c:
            yield c


# -- what a tenant looks like from outside ----------------------------------------------

NODE = """fragment Node on GoalNode { id kind title titleEn status progress score
  owner { __typename ... on OrgUnit { id name } ... on Person { id name } }
  ... on Kpi { currentValue recentMeasurements(days: 7) { value } } }"""
TREE = (
    NODE
    + """
query { goalTree { ...Node children { ...Node children { ...Node children { ...Node
  children { ...Node children { ...Node children { ...Node } } } } } } } }"""
)
SCORECARD = """query($asOf: DateTime) { scorecard(asOf: $asOf) {
  cycle { id name } stage okrShare kpiShare okrGrade kpiScore combinedScore
  objectives { objective { id } grade } kpis { kpi { id } score } } }"""


async def observe(url: str, slug: str) -> dict[str, Any]:
    """The tenant's goal tree and scorecards through the app, its stored scores, its
    audit trail and its whole export."""
    async with app_on(url) as client:
        tenant = await Tenant.get(slug=slug)
        admin = await Person.filter(tenant_id=tenant.id, role=Role.ADMIN).order_by("id").first()
        assert admin is not None
        auth = mint(tenant, Role.ADMIN, admin)
        trail = await AuditEvent.filter(tenant_id=tenant.id).order_by("id").values()
        midway = trail[len(trail) // 2]["created_at"].isoformat()
        seen = {
            "tree": await gql(client, TREE, auth=auth),
            "scorecard": await gql(client, SCORECARD, auth=auth),
            "scorecard_midway": await gql(client, SCORECARD, {"asOf": midway}, auth=auth),
            "scores": await Score.filter(tenant_id=tenant.id).order_by("id").values(),
            "audit": trail,
            "export": await export_tenant(slug),
        }
    for answer in ("tree", "scorecard", "scorecard_midway"):
        assert "errors" not in seen[answer], seen[answer]
    seen["export"].pop("exported_at")
    return seen


def _export_demo(url: str, folder: Path) -> dict[str, Path]:
    """The demo tenants seeded by the real command into ``url``, then exported by it."""
    run(url, "demo")
    files = {}
    for slug in ("freshmart", "textile"):
        files[slug] = folder / f"{slug}.json"
        run(url, "tenant", "export", slug, "--out", str(files[slug]))
    return files


@pytest.fixture(scope="session")
def _demo_files() -> dict[str, dict[str, Path]]:
    return {}


def _backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite://") else "postgres"


@pytest.fixture
def demo_files(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    _demo_files: dict[str, dict[str, Path]],
) -> Callable[[str], dict[str, Path]]:
    """Exports of the demo tenants made on a backend (seeded once per backend, in a
    database of their own)."""

    postgres = request.getfixturevalue("scratch_postgres") if POSTGRES_ENV in os.environ else ""

    def files(backend: str) -> dict[str, Path]:
        if backend not in _demo_files:
            folder = tmp_path_factory.mktemp(f"demo-{backend}")
            url = f"sqlite://{folder / 'demo.sqlite3'}" if backend == "sqlite" else postgres
            _demo_files[backend] = _export_demo(url, folder)
        return _demo_files[backend]

    return files


@pytest.fixture
def demo_exports(db_url: str, demo_files: Callable[[str], dict[str, Path]]) -> dict[str, Path]:
    """Exports of the demo tenants made on the backend of ``db_url``."""
    return demo_files(_backend(db_url))


# -- the round trip ---------------------------------------------------------------------


async def test_a_round_trip_gives_the_same_tree_scores_and_trail(
    db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    # given the demo tenants, exported
    exports = _export_demo(db_url, tmp_path)
    # when freshmart is imported into an empty database of the same backend
    result = run(other_db_url, "tenant", "import", str(exports["freshmart"]))
    assert "tenant 'freshmart' imported" in result.stderr
    # then the app answers the same through a token for the imported tenant
    original = await observe(db_url, "freshmart")
    imported = await observe(other_db_url, "freshmart")
    assert original["tree"]["data"]["goalTree"], "the demo has a goal tree"
    assert len(original["scores"]) > 100
    assert len(original["audit"]) > 100
    for what in ("tree", "scorecard", "scorecard_midway", "scores", "audit", "export"):
        assert imported[what] == original[what], what
    # and the stdout export equals the file one
    printed = json.loads(run(other_db_url, "tenant", "export", "freshmart").stdout)
    printed.pop("exported_at")
    assert printed == imported["export"]


async def test_an_export_moves_between_sqlite_and_postgresql(
    other_db_url: str, demo_files: Callable[[str], dict[str, Path]], tmp_path: Path
) -> None:
    if POSTGRES_ENV not in os.environ:
        pytest.skip(f"needs PostgreSQL too ({POSTGRES_ENV})")
    # given an export made on the other backend
    source = demo_files("postgres" if _backend(other_db_url) == "sqlite" else "sqlite")
    # when it is imported here and exported again
    run(other_db_url, "tenant", "import", str(source["freshmart"]))
    again = tmp_path / "again.json"
    run(other_db_url, "tenant", "export", "freshmart", "--out", str(again))
    # then every row and every value is the same
    before = json.loads(source["freshmart"].read_text(encoding="utf-8"))
    after = json.loads(again.read_text(encoding="utf-8"))
    before.pop("exported_at")
    after.pop("exported_at")
    assert after == before


async def test_an_import_beside_other_tenants_works_when_ids_are_free(
    other_db_url: str, demo_exports: dict[str, Path]
) -> None:
    # given a database that holds freshmart already
    run(other_db_url, "tenant", "import", str(demo_exports["freshmart"]))
    # when textile, whose ids are free there, is imported beside it
    run(other_db_url, "tenant", "import", str(demo_exports["textile"]))
    # then both are there, and new rows get ids past the imported ones
    made = run(
        other_db_url, "tenant", "create", "acme", "--name", "艾克美", "--admin-email", "a@b.cn"
    )
    assert made.stdout.strip()
    listed = run(other_db_url, "tenant", "list").stdout
    assert all(slug in listed for slug in ("acme", "freshmart", "textile"))
    async with app_on(other_db_url):
        imported_max = max(
            await Person.filter(tenant__slug__in=["freshmart", "textile"]).values_list(
                "id", flat=True
            )
        )
        acme_admin = await Person.get(tenant__slug="acme")
        assert acme_admin.id > imported_max


async def test_an_import_whose_ids_are_taken_is_refused_and_writes_nothing(
    other_db_url: str, demo_exports: dict[str, Path]
) -> None:
    # given a database where a new tenant took the first ids
    run(other_db_url, "tenant", "create", "acme", "--name", "艾克美", "--admin-email", "a@b.cn")
    async with app_on(other_db_url):
        before = {m._meta.db_table: await m.all().count() for m in tenant_models()}
    # when textile (whose ids start at 1 too) is imported, it is refused
    line = refused(run(other_db_url, "tenant", "import", str(demo_exports["textile"]), check=False))
    assert "ids of this export are already used in this database: tenant (1)" in line
    assert "org_unit (1)" in line
    # and nothing was written
    async with app_on(other_db_url):
        assert {m._meta.db_table: await m.all().count() for m in tenant_models()} == before
        assert not await Tenant.exists(slug="textile")


async def test_an_import_of_a_slug_that_exists_is_refused(
    other_db_url: str, demo_exports: dict[str, Path]
) -> None:
    run(other_db_url, "tenant", "import", str(demo_exports["textile"]))
    again = run(other_db_url, "tenant", "import", str(demo_exports["textile"]), check=False)
    assert refused(again) == "error: tenant 'textile' already exists in this database"


async def test_a_file_of_another_format_or_version_is_refused(
    client: httpx.AsyncClient, tmp_path: Path, settings: Settings
) -> None:
    # given an export
    company = await make_company("acme")
    data = json.loads(json.dumps(await export_tenant("acme")))
    await delete_tenant("acme")
    # then files that are not that export are refused, and nothing is written
    cases = [
        ({**data, "version": 2}, "export format version 2; this goalgraph reads version 1"),
        ({**data, "format": "okr-tool"}, "not a goalgraph tenant export"),
        ([1, 2], "not a goalgraph tenant export"),
        ({**data, "tables": {**data["tables"], "gadget": {}}}, "tables this goalgraph does not"),
    ]
    for content, message in cases:
        with pytest.raises(DomainError, match=message):
            await import_tenant(content)
    unknown = json.loads(json.dumps(data))
    unknown["tables"]["person"]["columns"].append("shoe_size")
    with pytest.raises(DomainError, match="person: columns this goalgraph does not have"):
        await import_tenant(unknown)
    stray = json.loads(json.dumps(data))
    person = stray["tables"]["person"]
    person["rows"][0][person["columns"].index("org_unit_id")] = 999_999
    with pytest.raises(DomainError, match="org_unit_id 999999 names no org_unit row"):
        await import_tenant(stray)
    assert not await Tenant.exists(slug="acme")
    assert company.tenant.slug == "acme"
    # and through the command, in one line
    url = settings.database_url
    later = tmp_path / "later.json"
    later.write_text(json.dumps({**data, "version": 2}), encoding="utf-8")
    assert "export format version 2" in refused(
        run(url, "tenant", "import", str(later), check=False)
    )
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": ', encoding="utf-8")
    line = refused(run(url, "tenant", "import", str(broken), check=False))
    assert "is not a JSON export" in line
    absent = refused(run(url, "tenant", "import", str(tmp_path / "absent.json"), check=False))
    assert "cannot read" in absent


# -- every table, every column ----------------------------------------------------------


def _sample(field: Any, n: int) -> Any:
    """A value of the field's type that survives only an exact round trip."""
    if isinstance(field, CharEnumFieldInstance):
        return list(field.enum_type)[-1]
    if isinstance(field, JSONField):
        return {"list": [1, 2.5, "中文", None], "nested": {"n": n}}
    if isinstance(field, DatetimeField):
        return datetime(2026, 2, 28, 12, 34, 56, 789012 - n, tzinfo=UTC)
    if isinstance(field, DateField):
        return date(2026, 2, 28)
    if isinstance(field, BooleanField):
        return not field.default
    if isinstance(field, FloatField):
        return 0.1 + 0.2 + n
    if isinstance(field, IntField | SmallIntField):
        return 7 + n
    if isinstance(field, TextField):
        return f"长文本 {n}"
    if isinstance(field, CharField):
        return f"v{n}-{uuid.uuid4().hex}"[: field.max_length]
    raise AssertionError(f"no sample for {type(field).__name__}: add one")


async def _tenant_in_every_table(slug: str) -> Tenant:
    """A tenant with a row in every table of the registry, every column set; tables
    that refer to themselves get two rows, the first naming the second (a parent with
    a higher id than its child)."""
    tenant = await Tenant.create(slug=slug, name="全表公司", name_en="Every Table")
    made: dict[type[Model], Model] = {Tenant: tenant}
    for n, model in enumerate(owned_models()):
        meta = model._meta
        references = {
            meta.fields_map[name].source_field: meta.fields_map[name].related_model
            for name in meta.fk_fields | meta.o2o_fields
        }
        values: dict[str, Any] = {}
        for column in meta.fields_db_projection:
            field = meta.fields_map[meta.fields_db_projection_reverse.get(column, column)]
            if column == "id" or getattr(field, "auto_now", False):
                continue
            if column in references:
                target = made.get(references[column])
                values[column] = target.pk if target is not None else None
            else:
                values[column] = _sample(field, n)
        row = await model.create(**values)
        made[model] = row
        if self_references(model):
            later = await model.create(**{**values, **_fresh_unique(model, values, n)})
            await model.filter(id=row.pk).update(**dict.fromkeys(self_references(model), later.pk))
    return tenant


def _fresh_unique(model: type[Model], values: dict[str, Any], n: int) -> dict[str, Any]:
    """New values for the text columns, so a second row breaks no unique key."""
    return {
        column: _sample(model._meta.fields_map[column], n + 100)
        for column, value in values.items()
        if isinstance(value, str) and column in model._meta.fields_map
    }


async def test_every_model_is_a_tenant_table_in_foreign_key_order(
    client: httpx.AsyncClient,
) -> None:
    registry = set(Tortoise.apps["models"].values())
    order = tenant_models()
    assert set(order) == registry
    assert len(order) == len(registry)
    for position, model in enumerate(order):
        meta = model._meta
        for name in meta.fk_fields | meta.o2o_fields:
            target = meta.fields_map[name].related_model
            assert target is model or order.index(target) < position, (model, target)


async def test_a_tenant_with_a_row_in_every_table_travels_whole(
    client: httpx.AsyncClient,
) -> None:
    # given a tenant with every table and column filled, beside another tenant
    other = await make_company("other")
    every = await _tenant_in_every_table("every")
    others_before = await _counts(other.tenant.id)
    data = json.loads(json.dumps(await export_tenant("every")))
    for model in owned_models():
        assert data["tables"][model._meta.db_table]["rows"], model.__name__
    # when it is deleted
    deleted = await delete_tenant("every")
    assert set(deleted) == {m._meta.db_table for m in tenant_models()}
    assert min(deleted.values()) >= 1
    # then none of its rows is left, and the other tenant is untouched
    assert set((await _counts(every.id)).values()) == {0}
    assert await _counts(other.tenant.id) == others_before
    # and imported back, it is exactly as it was, down to every timestamp
    await import_tenant(data)
    again = await export_tenant("every")
    again.pop("exported_at")
    data.pop("exported_at")
    assert again == data
    assert await _counts(other.tenant.id) == others_before


async def _counts(tenant_id: int) -> dict[str, int]:
    counts = {}
    for model in Tortoise.apps["models"].values():
        column = "id" if model is Tenant else "tenant_id"
        counts[model.__name__] = await model.filter(**{column: tenant_id}).count()
    return counts


async def test_an_import_costs_a_few_statements_per_batch_of_rows(
    client: httpx.AsyncClient,
) -> None:
    # given the demo tenant exported and deleted
    await seed_demo(date(2026, 11, 28))
    data = await export_tenant("freshmart")
    await delete_tenant("freshmart")
    # when it is imported
    with count_statements() as statements:
        tenant = await import_tenant(data)
    assert tenant.slug == "freshmart"
    # then each table costs one id look-up and one insert per batch (and on PostgreSQL
    # two statements to move its sequence), not a statement per row
    sizes = [len(t["rows"]) for t in data["tables"].values()] + [1]
    batches = sum(math.ceil(n / BATCH) for n in sizes)
    assert sum(sizes) > 4000
    assert len(statements) <= 2 + 2 * batches + 2 * len(sizes)
