"""The documentation's GraphQL examples are real: each one validates against the schema
and runs without errors on the demo tenant, as an admin."""

from __future__ import annotations

import inspect
import re
from datetime import date
from pathlib import Path

import httpx
import pytest
from graphql import parse, validate

from goalgraph.core.enums import Role
from goalgraph.core.models import Cycle, KeyResult, Kpi, Objective, OrgUnit, Person, Tenant
from goalgraph.plugins.retail.demo import seed_demo
from goalgraph.schema import build_schema

from .factories import gid, gql, token

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    ROOT / "README.md",
    ROOT / "docs" / "graphql-api.md",
    ROOT / "docs" / "scoring.md",
    ROOT / "docs" / "adapters.md",
]
BLOCK = re.compile(r"```graphql\n(.*?)```", re.S)


def _examples() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for i, block in enumerate(BLOCK.findall(page.read_text(encoding="utf-8"))):
            found.append((f"{page.name}#{i}", block))
    return found


EXAMPLES = _examples()


def test_the_docs_have_examples() -> None:
    assert len(EXAMPLES) >= 12


@pytest.mark.parametrize(("where", "document"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_example_matches_the_schema(where: str, document: str) -> None:
    schema = build_schema()._schema
    errors = validate(schema, parse(document))
    assert not errors, f"{where}: {errors}"


async def _variables(tenant: Tenant) -> dict[str, str | None]:
    t = tenant.id
    hq = await Objective.get(tenant_id=t, title="年度营收增长20%")
    east = await Objective.get(tenant_id=t, title="华东区营收增长20%")
    store = await OrgUnit.get(tenant_id=t, name="上海徐汇店")
    wait = await Kpi.get(tenant_id=t, owner_unit_id=store.id, metric_code="customer_wait_time")
    nps = await KeyResult.get(tenant_id=t, title="顾客净推荐值从30提升到50")
    return {
        "root": gid("Objective", hq.id),
        "id": gid("Objective", hq.id),
        "parent": gid("Objective", hq.id),
        "objective": gid("Objective", east.id),
        "cycle": gid("Cycle", (await Cycle.get(tenant_id=t, kind="year")).id),
        "unit": gid("OrgUnit", (await OrgUnit.get(tenant_id=t, name="华东区")).id),
        "store": gid("OrgUnit", store.id),
        "company": gid("OrgUnit", (await OrgUnit.get(tenant_id=t, parent_id=None)).id),
        "kpi": gid("Kpi", wait.id),
        "kr": gid("KeyResult", nps.id),
        "after": None,
        "person": gid(
            "Person",
            (await Person.get(tenant_id=t, email="sh-xuhui.manager@freshmart.example")).id,
        ),
    }


async def test_examples_run_on_the_demo(client: httpx.AsyncClient) -> None:
    summary = await seed_demo(date(2026, 11, 28))
    tenant = await Tenant.get(id=summary.tenant_id)
    admin = await Person.get(id=summary.admin_person_id)
    auth = token(tenant, Role.ADMIN, admin)
    values = await _variables(tenant)
    for where, document in EXAMPLES:
        if document.lstrip().startswith("subscription"):
            continue  # runs over a websocket, in tests/test_subscriptions.py
        names = set(re.findall(r"\$(\w+)\s*:", document))
        body = await gql(client, document, {n: values[n] for n in names}, auth=auth)
        assert "errors" not in body, (where, body)
        for field, payload in body["data"].items():
            if isinstance(payload, dict) and "errors" in payload:
                assert payload["errors"] == [], (where, field, payload)


def test_every_hook_is_documented_with_its_signature() -> None:
    from goalgraph.plugins import hookspecs

    page = (ROOT / "docs" / "packs.md").read_text(encoding="utf-8")
    hooks = [n for n in vars(hookspecs) if n.startswith("goalgraph_")]
    assert len(hooks) >= 8
    for name in hooks:
        signature = str(inspect.signature(getattr(hookspecs, name))).replace("'", "")
        assert f"### `{name}{signature}`" in page, name
