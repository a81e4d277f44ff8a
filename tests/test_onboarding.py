"""docs/onboarding.md's first day, run as it stands: a company from nothing to its goal
tree over its imported org, through the real CLI and the real app.

The commands and GraphQL documents are read from the page itself, so the page cannot
drift from what goalgraph does: a new tenant, a 500-person GBK roster with Chinese
headers (dry run, then apply, then again as a no-op), a cycle, the retail pack, the
company objective cascaded into every imported store, the goal tree, the first binding,
and the store manager invited, setting a password and signing in.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import httpx
from graphql import parse, validate

from goalgraph.core.models import AuditEvent, OrgUnit, Person, Tenant
from goalgraph.schema import build_schema

from .cli import cli
from .factories import TEST_SECRET, gid, gql

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "onboarding.md"


def _first_day() -> str:
    text = PAGE.read_text(encoding="utf-8")
    return text[text.index("## A company's first day") : text.index("## Roster import")]


def _commands() -> list[list[str]]:
    """The page's ``goalgraph …`` command lines, in order (the server aside)."""
    lines: list[list[str]] = []
    for block in re.findall(r"```sh\n(.*?)```", _first_day(), re.S):
        for line in block.splitlines():
            if line.startswith("goalgraph ") and not line.startswith("goalgraph serve"):
                lines.append(shlex.split(line)[1:])
    return lines


def _documents() -> dict[str, str]:
    """The page's GraphQL documents by operation name."""
    found = {}
    for block in re.findall(r"```graphql\n(.*?)```", _first_day(), re.S):
        name = re.match(r"\s*(?:query|mutation)\s+(\w+)", block)
        assert name, block
        found[name.group(1)] = block
    return found


def test_the_pages_documents_match_the_schema() -> None:
    schema = build_schema()._schema
    documents = _documents()
    assert set(documents) >= {
        "OpenNextQuarter",
        "Stores",
        "Cascade",
        "CompanyTree",
        "BindPos",
        "InviteStoreManager",
        "SignIn",
    }
    for name, document in documents.items():
        assert not validate(schema, parse(document)), name


async def _run(client: httpx.AsyncClient, auth: str, name: str, **variables: Any) -> Any:
    body = await gql(client, _documents()[name], variables, auth=auth)
    assert "errors" not in body, (name, body)
    for payload in body["data"].values():
        if isinstance(payload, dict) and "errors" in payload:
            assert payload["errors"] == [], (name, payload)
    return body["data"]


async def test_a_company_from_nothing_to_its_goal_tree(
    client: httpx.AsyncClient, db_url: str
) -> None:
    commands = _commands()
    assert [c[:2] for c in commands] == [
        ["migrate"],
        ["tenant", "create"],
        ["org", "import"],
        ["org", "import"],
        ["tenant", "show"],
        ["packs", "enable"],
    ]
    migrate, create, dry_run, apply, show, enable = commands

    def run(args: list[str]) -> str:
        """A documented command, its relative paths taken from the repository root."""
        args = [str(ROOT / a) if a.startswith("docs/") else a for a in args]
        done = cli(db_url, TEST_SECRET, *args, check=False)
        assert done.returncode == 0, (args, done.stderr)
        return done.stdout + done.stderr

    # 1. the tenant, its company unit, the current quarter and the first admin
    run(migrate)
    made = cli(db_url, TEST_SECRET, *create)
    auth = made.stdout.strip().splitlines()[-1]
    assert "tenant 'acme' created" in made.stderr + made.stdout
    again = cli(db_url, TEST_SECRET, *create, check=False)
    assert again.returncode == 2
    assert again.stderr.strip().count("\n") == 0
    assert "already exists" in again.stderr
    tenant = await Tenant.get(slug="acme")
    assert await Person.filter(tenant_id=tenant.id).count() == 1

    # 2. the roster: a dry run writes nothing, the apply everything, again nothing
    events = await AuditEvent.filter(tenant_id=tenant.id).count()
    out = run(dry_run)
    assert "people to add 500" in out
    assert "units to add 26" in out
    assert await Person.filter(tenant_id=tenant.id).count() == 1
    assert await AuditEvent.filter(tenant_id=tenant.id).count() == events

    run(apply)
    assert await Person.filter(tenant_id=tenant.id, active=True).count() == 501
    stores = await OrgUnit.filter(tenant_id=tenant.id, kind="store").count()
    assert stores == 20
    assert "people (active)   │ 501" in run(show)
    events = await AuditEvent.filter(tenant_id=tenant.id).count()
    assert "nothing to change" in run(apply)
    assert await AuditEvent.filter(tenant_id=tenant.id).count() == events
    staff = await Person.get(tenant_id=tenant.id, code="100200")
    boss = await Person.get(tenant_id=tenant.id, code="100019")
    assert staff.manager_id == boss.id

    # 3. the next cycle; 4. the pack
    opened = await _run(client, auth, "OpenNextQuarter")
    assert opened["createCycle"]["cycle"]["name"] == "2027Q1"
    run(enable)

    # 5. the company objective cascaded into every imported store
    found = await _run(client, auth, "Stores")
    assert found["orgUnits"]["totalCount"] == 20
    store_ids = [e["node"]["id"] for e in found["orgUnits"]["edges"]]
    company = found["company"]["edges"][0]["node"]["id"]
    current = found["cycles"]["edges"][0]["node"]
    assert current["name"].endswith(("Q1", "Q2", "Q3", "Q4"))
    cascade = await _run(
        client, auth, "Cascade", cycle=current["id"], company=company, stores=store_ids
    )
    key_results = cascade["applyOkrTemplate"]["objective"]["keyResults"]
    assert [len(kr["kpiLinks"]) for kr in key_results] == [20, 20, 20]

    # 6. the goal tree over the imported units
    tree = (await _run(client, auth, "CompanyTree"))["goalTree"]
    assert [node["title"] for node in tree] == ["年度营收增长20%"]
    assert tree[0]["owner"]["name"] == "艾可美超市"
    assert len(tree[0]["children"]) == 3
    for key_result in tree[0]["children"]:
        owners = [kpi["owner"]["kind"] for kpi in key_result["children"]]
        assert owners == ["STORE"] * 20, key_result["title"]

    # 7. the first data binding
    bound = await _run(client, auth, "BindPos")
    assert bound["createDataBinding"]["dataBinding"]["adapter"] == "retail.pos"

    # 8. the store manager is invited, sets a password through the link, signs in
    manager = await Person.get(tenant_id=tenant.id, code="100003")
    invited = await _run(client, auth, "InviteStoreManager", person=gid("Person", manager.id))
    link = invited["invitePerson"]["link"]
    assert link.startswith("http://127.0.0.1:8000/auth/acme/invite/")
    path = link.removeprefix("http://127.0.0.1:8000")
    password = "一号店 opens at eight"
    page = await client.post(path, data={"password": password, "confirm": password})
    assert page.status_code == 200
    signed_in = await _run(client, "", "SignIn", email="P100003@corp.example", password=password)
    session = signed_in["signIn"]["session"]
    me = await gql(client, "{ viewer { role person { name } } }", auth=session["accessToken"])
    assert me["data"]["viewer"] == {"role": "MANAGER", "person": {"name": "刘军"}}
