"""Building test data through the core services, and talking to the API.

Data is created the way users create it (services with a real scope), so every
rule, path and audit event is exercised by the fixtures too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from goalgraph.core.enums import CycleKind, Direction, OrgUnitKind, Role
from goalgraph.core.identity import Identity, mint_token
from goalgraph.core.models import Cycle, OrgUnit, Person, Tenant
from goalgraph.core.services import key_results, kpis, objectives, org
from goalgraph.core.tenancy import Actor, TenantScope
from goalgraph.schema.ids import encode

from . import secrets_registry

TEST_SECRET = "test-secret-for-the-goalgraph-test-suite"


def gid(type_name: str, row_id: int) -> str:
    return str(encode(type_name, row_id))


def token(tenant: Tenant, role: Role, person: Person | None = None) -> str:
    identity = Identity(tenant.id, tenant.slug, role, person.id if person else None)
    return secrets_registry.register(
        "bearer token", mint_token(identity, TEST_SECRET, timedelta(hours=1))
    )


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    auth: str | None = None,
) -> dict[str, Any]:
    """POST a GraphQL operation and return the decoded JSON body.

    Secrets sent (passwords, client secrets) and answered (API keys, SCIM credentials,
    links, session tokens) are registered, so the session proves none was logged.
    """
    secrets_registry.register_found(variables)
    headers = {"Authorization": f"Bearer {auth}"} if auth else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    body: dict[str, Any] = response.json()
    secrets_registry.register_found(body.get("data"))
    body["_status"] = response.status_code
    return body


def scope_for(tenant: Tenant, person: Person, unit: OrgUnit) -> TenantScope:
    identity = Identity(tenant.id, tenant.slug, person.role, person.id)
    return TenantScope(tenant, identity, Actor(person, unit.path))


@dataclass
class Company:
    """A small tenant: company → region → store, an admin, a manager and employees."""

    tenant: Tenant
    root: OrgUnit
    region: OrgUnit
    store: OrgUnit
    admin: Person
    manager: Person
    employee: Person
    other_employee: Person
    cycle: Cycle
    scope: TenantScope
    extra: dict[str, Any] = field(default_factory=dict)

    def token(self, who: str = "admin") -> str:
        person: Person = getattr(self, who)
        return token(self.tenant, person.role, person)


async def make_company(slug: str, today: date | None = None) -> Company:
    """A tenant with a three-level org tree, four people and a quarter cycle."""
    tenant, root = await org.create_tenant(slug=slug, name=f"{slug} 公司", name_en=slug.title())
    admin = await Person.create(
        tenant_id=tenant.id, name="管理员", name_en="Admin", role=Role.ADMIN, org_unit_id=root.id
    )
    scope = scope_for(tenant, admin, root)
    region = await org.create_org_unit(
        scope, name="华东区", name_en="East", kind=OrgUnitKind.REGION, parent_id=root.id
    )
    store = await org.create_org_unit(
        scope, name="一号店", name_en="Store 1", kind=OrgUnitKind.STORE, parent_id=region.id
    )
    manager = await org.create_person(
        scope, name="区经理", name_en="Region Manager", role=Role.MANAGER, org_unit_id=region.id
    )
    employee = await org.create_person(
        scope, name="店员甲", name_en="Clerk A", org_unit_id=store.id
    )
    other = await org.create_person(scope, name="店员乙", name_en="Clerk B", org_unit_id=store.id)
    today = today or date(2026, 11, 28)
    cycle = await org.create_cycle(
        scope,
        name="2026Q4",
        kind=CycleKind.QUARTER,
        starts_on=date(2026, 10, 1),
        ends_on=date(2026, 12, 31),
    )
    return Company(tenant, root, region, store, admin, manager, employee, other, cycle, scope)


async def build_chain(company: Company, depth: int = 3, width: int = 1) -> dict[str, list[Any]]:
    """Objectives ``depth`` levels deep and ``width`` wide, each leaf objective with a
    key result fed by a store KPI: a tree of depth + 2 node levels."""
    scope, made = company.scope, {"objectives": [], "key_results": [], "kpis": []}
    level = [None]
    for d in range(depth):
        next_level = []
        for parent in level:
            for w in range(width):
                objective = await objectives.create_objective(
                    scope,
                    title=f"目标 {d}.{w}",
                    title_en=f"Objective {d}.{w}",
                    cycle_id=company.cycle.id,
                    owner_unit_id=company.root.id if d == 0 else company.region.id,
                    parent_id=parent.id if parent else None,
                )
                made["objectives"].append(objective)
                next_level.append(objective)
        level = next_level
    for objective in level:
        key_result = await key_results.create_key_result(
            scope,
            objective_id=objective.id,
            title="季度销售额达500万",
            title_en="Quarterly sales reach 5M",
            target_value=5_000_000,
            owner_unit_id=company.store.id,
        )
        kpi = await kpis.create_kpi(
            scope,
            metric_code="customer_wait_time",
            title="顾客等待时间",
            title_en="Customer wait time",
            unit="min",
            direction=Direction.LOWER_IS_BETTER,
            target=3,
            threshold=4,
            owner_unit_id=company.store.id,
        )
        await kpis.link_kpi(scope, key_result_id=key_result.id, kpi_id=kpi.id, weight=1.0)
        made["key_results"].append(key_result)
        made["kpis"].append(kpi)
    return made


def days(start: date, n: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]
