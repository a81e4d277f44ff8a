"""Row-level security on PostgreSQL: a query that forgot its tenant still sees one.

Everything here runs through the app's own connection, as the role the app connects
as in these runs (``APP_ROLE``: it owns no table and cannot bypass row-level
security). The rest of the PostgreSQL half of the suite runs as that role too.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from tortoise import Tortoise
from tortoise.exceptions import OperationalError, TransactionManagementError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from goalgraph.core import rls
from goalgraph.core.app import create_app
from goalgraph.core.db import UnguardedRole, tenant_tables
from goalgraph.core.models import Kpi, Objective, Person
from goalgraph.core.settings import Settings
from goalgraph.core.tenancy import TenantScope

from .conftest import APP_ROLE, POSTGRES_ENV, truncate_postgres
from .factories import TEST_SECRET, Company, build_chain, gid, gql, make_company

pytestmark = pytest.mark.skipif(
    POSTGRES_ENV not in os.environ, reason="row-level security is PostgreSQL's; SQLite has none"
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def db_url(postgres_owner_url: str, postgres_database: str) -> str:
    """PostgreSQL only, as the app's role (this module's tests are about that role)."""
    asyncio.run(truncate_postgres(postgres_owner_url))
    return postgres_database


async def _two_companies() -> tuple[Company, Company]:
    acme, bolt = await make_company("acme"), await make_company("bolt")
    await build_chain(acme)
    await build_chain(bolt, depth=2, width=2)
    return acme, bolt


async def _tenants_seen(table: str) -> set[int]:
    """The tenant ids a bare ``SELECT`` of ``table`` returns, through the app's connection."""
    rows = await Tortoise.get_connection("default").execute_query_dict(
        f'SELECT DISTINCT tenant_id FROM "{table}"'
    )
    return {int(r["tenant_id"]) for r in rows}


async def test_every_tenant_table_is_forced_under_the_tenant_policy(
    client: httpx.AsyncClient, postgres_owner_url: str
) -> None:
    conn = await asyncpg.connect(postgres_owner_url.replace("postgres://", "postgresql://", 1))
    try:
        with_tenant = {
            r["table_name"]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND column_name = 'tenant_id'"
            )
        }
        forced = {
            r["relname"]
            for r in await conn.fetch(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r' "
                "AND c.relrowsecurity AND c.relforcerowsecurity"
            )
        }
        policies = {
            r["tablename"]: (r["qual"], r["with_check"])
            for r in await conn.fetch(
                "SELECT tablename, qual, with_check FROM pg_policies WHERE policyname = $1",
                rls.POLICY,
            )
        }
    finally:
        await conn.close()
    # every table with tenant rows, and only those, is forced under the one policy
    assert with_tenant == forced == set(tenant_tables()) == set(policies)
    assert len(forced) > 30
    for qual, check in policies.values():
        assert qual == check
        assert rls.TENANT_SETTING in qual
        assert rls.EVERY_TENANT_SETTING in qual


async def test_the_apps_role_owns_no_table_and_cannot_bypass(client: httpx.AsyncClient) -> None:
    role = await rls.connection_role(Tortoise.get_connection("default"))
    assert role.name == APP_ROLE
    assert (role.superuser, role.bypasses_rls, role.owned_tables) == (False, False, 0)
    assert role.guarded
    assert role.problem() is None


async def test_an_unscoped_query_sees_only_the_bound_tenant(client: httpx.AsyncClient) -> None:
    acme, bolt = await _two_companies()
    tables = tenant_tables()
    with rls.bound_to(acme.tenant.id):
        # a bare SELECT of every tenant table, no tenant filter anywhere
        seen = {table: await _tenants_seen(table) for table in tables}
        people = await Person.all()
        objectives = await Objective.all()
    assert set().union(*seen.values()) == {acme.tenant.id}
    assert seen["person"] == seen["objective"] == seen["kpi"] == {acme.tenant.id}
    assert {p.tenant_id for p in people} == {acme.tenant.id}
    assert len(people) == 4
    assert len(objectives) == 3  # acme's chain; bolt's six are not there
    with rls.bound_to(bolt.tenant.id):
        assert len(await Objective.all()) == 6


async def test_a_connection_bound_to_nothing_sees_nothing(client: httpx.AsyncClient) -> None:
    await _two_companies()
    with rls.unbound():
        seen = {table: await _tenants_seen(table) for table in tenant_tables()}
        counted = await Person.all().count()
        async with in_transaction():
            in_transaction_count = await Kpi.all().count()
    assert not any(seen.values())
    assert (counted, in_transaction_count) == (0, 0)


async def test_another_tenants_rows_cannot_be_written(client: httpx.AsyncClient) -> None:
    acme, bolt = await _two_companies()
    theirs = await Objective.filter(tenant_id=bolt.tenant.id).first()
    assert theirs is not None
    with rls.bound_to(acme.tenant.id):
        # an insert naming another tenant is refused by the policy's check
        with pytest.raises(OperationalError, match="row-level security"):
            await Person.create(
                tenant_id=bolt.tenant.id, name="潜入者", org_unit_id=bolt.root.id, role="employee"
            )
        # an update or delete by the other tenant's id finds nothing to change
        changed = await Objective.filter(id=theirs.id).update(title="改掉")
        deleted = await Objective.filter(id=theirs.id).delete()
        # and a row cannot be moved into another tenant
        with pytest.raises(OperationalError, match="row-level security"):
            await Objective.filter(tenant_id=acme.tenant.id).update(tenant_id=bolt.tenant.id)
    assert (changed, deleted) == (0, 0)
    await theirs.refresh_from_db()
    assert theirs.title != "改掉"


async def test_a_savepoint_rolled_back_takes_its_binding_with_it(
    client: httpx.AsyncClient,
) -> None:
    acme, bolt = await _two_companies()

    class Undo(Exception):
        pass

    async def look_at_bolt_then_undo() -> None:
        async with in_transaction():
            with rls.bound_to(bolt.tenant.id):
                assert len(await Objective.all()) == 6
            raise Undo

    async with in_transaction():
        with rls.bound_to(acme.tenant.id):
            assert len(await Objective.all()) == 3
        with pytest.raises(Undo):
            await look_at_bolt_then_undo()
        # the server went back to acme with the savepoint; bolt is applied again
        with rls.bound_to(bolt.tenant.id):
            assert len(await Objective.all()) == 6
        with rls.bound_to(acme.tenant.id):
            assert len(await Objective.all()) == 3


async def test_a_transaction_ends_after_its_statements_and_refuses_later_ones(
    client: httpx.AsyncClient,
) -> None:
    """Resolvers of one operation share its transaction's connection, and a DataLoader
    batch can outlive the resolvers that wanted it (a sibling field failed and
    graphql-core cancelled them): the COMMIT waits for a statement still running, and
    a statement that starts after the end is refused instead of reaching a connection
    already back in the pool."""
    acme, _ = await _two_companies()
    go_on = asyncio.Event()

    async def after_the_end() -> Any:
        await go_on.wait()
        return await Tortoise.get_connection("default").execute_query("SELECT 1")

    with rls.bound_to(acme.tenant.id):
        async with in_transaction() as transaction:
            running = asyncio.create_task(transaction.execute_query("SELECT pg_sleep(0.3)"))
            late = asyncio.create_task(after_the_end())
            await asyncio.sleep(0.05)
            assert not running.done()
        assert running.done()
        assert running.exception() is None
        go_on.set()
        with pytest.raises(TransactionManagementError):
            await late
        # the connection went back to the pool idle: the next statements run as usual
        counts = await asyncio.gather(*(Objective.all().count() for _ in range(8)))
    assert counts == [3] * 8


async def test_the_door_without_its_filter_still_serves_one_tenant(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given two tenants, and the tenant door's filter taken out (the bug RLS is for)
    acme, _ = await _two_companies()

    def unfiltered(self: TenantScope, model: type[Model]) -> Any:
        rls.bind(self.tenant.id)
        return model.all()

    monkeypatch.setattr(TenantScope, "query", unfiltered)
    # when acme's admin reads the goal tree and the KPIs through the API
    body = await gql(
        client, "{ goalTree { id } kpis(first: 50) { edges { node { id } } } }", auth=acme.token()
    )
    # then the answer holds acme's goals only: the database refused bolt's rows
    assert "errors" not in body, body
    assert len(body["data"]["goalTree"]) == 1
    assert len(body["data"]["kpis"]["edges"]) == 1
    acme_root = await Objective.get(tenant_id=acme.tenant.id, parent_id=None)
    acme_kpi = await Kpi.get(tenant_id=acme.tenant.id)
    assert body["data"]["goalTree"][0]["id"] == gid("Objective", acme_root.id)
    assert body["data"]["kpis"]["edges"][0]["node"]["id"] == gid("Kpi", acme_kpi.id)


async def test_each_request_starts_unbound_whatever_context_it_came_from(
    client: httpx.AsyncClient,
) -> None:
    acme, bolt = await _two_companies()
    with rls.bound_to(bolt.tenant.id):
        body = await gql(client, "{ goalTree { title } }", auth=acme.token())
        anonymous = await gql(client, "{ goalTree { title } }")
    assert len(body["data"]["goalTree"]) == 1
    assert anonymous["_status"] == 401


async def test_production_refuses_a_role_that_bypasses_row_level_security(
    postgres_owner_url: str,
) -> None:
    # the owner here is the server's superuser: fine to migrate with, not to serve
    settings = Settings(
        database_url=postgres_owner_url,
        secret=TEST_SECRET,
        sync_poll_seconds=0,
        env="production",
    )
    with pytest.raises(UnguardedRole, match=r"superuser.*GOALGRAPH_MIGRATE_DATABASE_URL"):
        async with LifespanManager(create_app(settings)):
            pass


def test_work_across_tenants_happens_in_a_few_named_places() -> None:
    # every_tenant() lifts the guard; each use is a reviewed decision, listed here
    uses: dict[str, int] = {}
    for path in sorted(ROOT.glob("*/**/*.py")):
        if ".venv" in path.parts or "build" in path.parts or path.parts[-2] == "tests":
            continue
        found = len(re.findall(r"\bevery_tenant\(\)", path.read_text(encoding="utf-8")))
        if found and path.name != "rls.py":
            uses[str(path.relative_to(ROOT))] = found
    assert uses == {
        "adapters/syncer.py": 1,  # the bindings of the due jobs just claimed, one statement
        "adapters/webhook.py": 1,  # the URL names a binding, not its tenant
        "core/access_keys.py": 1,  # an API key or SCIM credential by its digest
        "core/accounts.py": 1,  # an invitation or reset link by its digest
        "core/cli.py": 3,  # operator commands naming global ids, --all
        "core/db.py": 1,  # migrations, as the tables' owner
        "core/insights/schedule.py": 1,  # a periodic-scan row for each new tenant, one statement
        "core/leases.py": 2,  # claiming due sync and scan jobs, giving back unstarted ones
        "core/portability.py": 1,  # are an export's ids free in this database
        "core/sessions.py": 1,  # a refresh token by its digest
        "core/tenants.py": 1,  # `goalgraph tenant list`
    }
