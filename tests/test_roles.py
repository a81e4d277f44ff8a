"""Roles: the matrix in core/roles.toml covers every root field and is enforced before
resolvers run, admins assign roles, and no path leaves a tenant without an admin."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry

from goalgraph.core.enums import Direction, Role
from goalgraph.core.errors import DomainError, ErrorCode
from goalgraph.core.models import Alert, AuditEvent, Person
from goalgraph.core.roles import ROOTS, Relation, markdown_table, matrix, parse
from goalgraph.core.roster import RosterRow, apply_roster, plan_roster
from goalgraph.core.services import kpis, people
from goalgraph.core.settings import Settings
from goalgraph.schema.build import EXTRA_TYPES, GoalGraphSchema, build_schema
from goalgraph.schema.context import Context
from goalgraph.schema.mutations.root import Mutation
from goalgraph.schema.queries import Query
from goalgraph.schema.role_guard import guard_root_fields, root_fields
from goalgraph.schema.subscriptions import Subscription

from .cli import cli
from .factories import gid, gql, make_company, scope_for, token

DOCS = Path(__file__).resolve().parent.parent / "docs" / "security.md"
SET_ROLE = """mutation($p: ID!, $r: Role!) { setRole(personId: $p, role: $r) {
  person { id role } errors { field code message } } }"""
UPDATE = """mutation($i: UpdatePersonInput!) { updatePerson(input: $i) {
  person { role } errors { field code message } } }"""
DEACTIVATE = """mutation($id: ID!) { deactivatePerson(id: $id) {
  person { active } reassigned errors { field code message } } }"""


# ----------------------------------------------------------------------- the matrix


def test_every_root_field_of_the_schema_has_a_rule_and_every_rule_a_field() -> None:
    fields = root_fields(build_schema())
    roles = matrix()
    for root in ROOTS:
        missing = [f for f in fields[root] if roles.rule(root, f) is None]
        assert missing == [], f"{root} fields without a rule in core/roles.toml: {missing}"
        stale = sorted(set(getattr(roles, root)) - set(fields[root]))
        assert stale == [], f"rules in core/roles.toml for no {root} field: {stale}"
    assert sum(len(v) for v in fields.values()) > 80


def test_the_matrix_file_is_validated_when_loaded() -> None:
    assert parse('[Query.viewer]\nadmin = ["all"]\n').allows("Query", "viewer", Role.ADMIN)
    for bad in (
        '[Query.viewer]\nboss = ["all"]\n',  # no such role
        '[Query.viewer]\nadmin = ["everything"]\n',  # no such relation
        "[Query.viewer]\nadmin = []\n",  # refuse by leaving the role out
        '[Queries.viewer]\nadmin = ["all"]\n',  # no such root
    ):
        with pytest.raises(ValueError):  # noqa: PT011 - pydantic's ValidationError
            parse(bad)


def test_the_matrix_agrees_with_the_principles() -> None:
    roles = matrix()
    everyone = list(Role)
    # OKRs are visible company-wide
    for field in ("goalTree", "objective", "objectives", "keyResult", "keyResults"):
        for role in everyone:
            assert roles.rule("Query", field).relations(role) == (Relation.ALL,), (field, role)  # type: ignore[union-attr]
    # a person's scores: them, their managers, admins; consultants read only their own
    scorecard = roles.rule("Query", "scorecard")
    assert scorecard is not None
    assert scorecard.relations(Role.ADMIN) == (Relation.ALL,)
    assert scorecard.relations(Role.CONSULTANT) == (Relation.SELF,)
    assert Relation.UNIT in (scorecard.relations(Role.MANAGER) or ())
    assert Relation.ALL not in (scorecard.relations(Role.EMPLOYEE) or ())
    assert not roles.allows("Query", "ranking", Role.CONSULTANT)
    assert not roles.allows("Query", "ranking", Role.EMPLOYEE)
    # consultants configure packs, templates and bindings
    for root, field in (
        ("Mutation", "enablePack"),
        ("Mutation", "createKpiFromTemplate"),
        ("Mutation", "applyOkrTemplate"),
        ("Mutation", "createDataBinding"),
        ("Query", "dataBindings"),
    ):
        assert roles.allows(root, field, Role.CONSULTANT), field
    # roles, keys and credentials are for admins, never for API keys
    for root, field in (
        ("Mutation", "setRole"),
        ("Mutation", "createApiKey"),
        ("Mutation", "revokeApiKey"),
        ("Query", "apiKeys"),
    ):
        assert [r for r in everyone if roles.allows(root, field, r)] == [Role.ADMIN]
        assert not roles.allows(root, field, Role.ADMIN, api_key=True)
    # viewers write nothing
    writes = [f for f in roles.Mutation if roles.allows("Mutation", f, Role.VIEWER)]
    # ending their own session and choosing their own language write nothing of the tenant
    assert writes == ["setMyLocale", "signOut"]


def test_the_docs_table_is_the_generated_one() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert text.startswith("# Security\n")
    found = re.search(r"do not edit by hand -->\n\n(.*)<!-- end of roles table -->", text, re.S)
    assert found is not None, "docs/security.md has no generated roles table"
    assert found.group(1) == markdown_table(), "run `goalgraph roles` into docs/security.md"


# ---------------------------------------------------------- enforcement, each role

#: (operation, variables builder, root field) samples; allowed roles from the matrix.
SAMPLES: list[tuple[str, str]] = [
    ("viewer", "{ viewer { role } }"),
    ("objectives", "{ objectives { edges { node { id } } } }"),
    ("dataBindings", "{ dataBindings { id } }"),
    ("apiKeys", "{ apiKeys { id } }"),
    ("scimCredentials", "{ scimCredentials { id } }"),
    ("syncRuns", '{ syncRuns(bindingId: "RGF0YUJpbmRpbmc6MA==") { edges { node { id } } } }'),
    ("enablePack", 'mutation { enablePack(name: "nope", stages: []) { errors { code } } }'),
    ("setAlertAfterMisses", "mutation { setAlertAfterMisses(periods: 3) { errors { code } } }"),
    ("reopenCycle", 'mutation { reopenCycle(id: "Q3ljbGU6MA==") { errors { code } } }'),
    (
        "createApiKey",
        'mutation { createApiKey(input: {name: "k", role: VIEWER}) { errors { code } } }',
    ),
]


def _refused(body: dict[str, Any], field: str) -> bool:
    """Whether the matrix refused ``field``: FORBIDDEN as a payload's only error, or
    as the field's GraphQL error."""
    for error in body.get("errors", []):
        if error.get("path") == [field]:
            return bool(error["extensions"]["code"] == "FORBIDDEN")
    payload = (body.get("data") or {}).get(field)
    if isinstance(payload, dict) and payload.get("errors"):
        return bool(payload["errors"][0]["code"] == "FORBIDDEN")
    return False


async def test_each_role_is_allowed_or_refused_as_the_matrix_says(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    tokens = {
        Role.ADMIN: company.token(),
        Role.MANAGER: company.token("manager"),
        Role.EMPLOYEE: company.token("employee"),
        Role.CONSULTANT: token(company.tenant, Role.CONSULTANT),
        Role.VIEWER: token(company.tenant, Role.VIEWER),
    }
    roles = matrix()
    checked = 0
    for field, operation in SAMPLES:
        root = "Mutation" if operation.startswith("mutation") else "Query"
        for role, auth in tokens.items():
            body = await gql(client, operation, auth=auth)
            allowed = roles.allows(root, field, role)
            assert _refused(body, field) is not allowed, (field, role, body)
            checked += 1
        # and nobody unauthenticated gets anything
        body = await gql(client, operation)
        assert body["_status"] == 401
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert checked == len(SAMPLES) * 5


async def test_a_field_without_a_rule_is_refused_before_its_resolver(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    schema: strawberry.Schema = GoalGraphSchema(
        query=Query, mutation=Mutation, subscription=Subscription, types=EXTRA_TYPES
    )
    # a matrix that knows `tenant` only
    guard_root_fields(schema, parse('[Query.tenant]\nadmin = ["all"]\n'))
    context = Context(request=None, response=None, settings=Settings(), packs=None)  # type: ignore[arg-type]
    context._scope = company.scope
    allowed = await schema.execute("{ tenant { slug } }", context_value=context)
    assert allowed.errors is None
    assert allowed.data == {"tenant": {"slug": "acme"}}
    result = await schema.execute("{ viewer { role } }", context_value=context)
    assert result.errors is not None
    assert [(e.path, (e.extensions or {}).get("code")) for e in result.errors] == [
        (["viewer"], "FORBIDDEN")
    ]
    mutation = await schema.execute(
        'mutation { createApiKey(input: {name: "k", role: VIEWER}) { errors { code } } }',
        context_value=context,
    )
    assert mutation.data == {"createApiKey": {"errors": [{"code": "FORBIDDEN"}]}}
    # subscriptions too: refused when they start
    stream = await schema.subscribe("subscription { alerts { kind } }", context_value=context)
    first = await anext(stream) if hasattr(stream, "__anext__") else stream  # type: ignore[arg-type]
    errors = getattr(first, "errors", None)
    assert errors, "an unruled subscription must be refused"
    assert errors[0].extensions["code"] == "FORBIDDEN"


async def test_consultants_read_no_one_elses_scorecard_nor_rankings(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    consultant = await people.create_person(
        company.scope, name="顾问", org_unit_id=company.root.id, role=Role.CONSULTANT
    )
    # even one an employee reports to by a dotted line
    await people.set_dotted_lines(company.scope, company.employee.id, [consultant.id])
    auth = token(company.tenant, Role.CONSULTANT, consultant)
    card = await gql(
        client,
        "query($p: ID!) { scorecard(personId: $p) { combinedScore } }",
        {"p": gid("Person", company.employee.id)},
        auth=auth,
    )
    assert card["errors"][0]["extensions"]["code"] == "FORBIDDEN", card
    ranking = await gql(
        client,
        "query($u: ID!) { ranking(orgUnitId: $u) { rank } }",
        {"u": gid("OrgUnit", company.root.id)},
        auth=auth,
    )
    assert ranking["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    own = await gql(
        client,
        "query($p: ID!) { scorecard(personId: $p) { combinedScore } }",
        {"p": gid("Person", consultant.id)},
        auth=auth,
    )
    assert "errors" not in own, own


async def test_consultants_see_team_alerts_but_no_ones_personal_alerts(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    made: dict[str, int] = {}
    for name, unit, person in (
        ("team", company.store.id, None),
        ("personal", None, company.employee.id),
    ):
        kpi = await kpis.create_kpi(
            company.scope,
            metric_code="customer_wait_time",
            title=name,
            unit="min",
            direction=Direction.LOWER_IS_BETTER,
            target=3,
            threshold=4,
            owner_unit_id=unit,
            owner_person_id=person,
        )
        alert = await company.scope.create(
            Alert,
            kpi_id=kpi.id,
            owner_unit_id=unit,
            owner_person_id=person,
            owner_path=company.store.path,
            misses=3,
        )
        made[name] = alert.id
    query = "{ alerts { id } }"
    admin = await gql(client, query, auth=company.token())
    assert len(admin["data"]["alerts"]) == 2
    consultant = await gql(client, query, auth=token(company.tenant, Role.CONSULTANT))
    assert [a["id"] for a in consultant["data"]["alerts"]] == [gid("Alert", made["team"])]
    employee = await gql(client, query, auth=company.token("employee"))
    assert len(employee["data"]["alerts"]) == 2  # their own, and their unit's


# ------------------------------------------------------------ setRole, the last admin


async def test_admins_set_roles_audited_and_the_last_admin_keeps_theirs(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    employee = gid("Person", company.employee.id)
    # an admin makes the employee a manager, and it is audited with its before value
    body = await gql(client, SET_ROLE, {"p": employee, "r": "MANAGER"}, auth=company.token())
    assert body["data"]["setRole"] == {"person": {"id": employee, "role": "MANAGER"}, "errors": []}
    event = (
        await AuditEvent.filter(entity_type="person", entity_id=company.employee.id)
        .order_by("-id")
        .first()
    )
    assert event is not None
    assert (event.action, event.before, event.after) == (
        "person.updated",
        {"role": "employee"},
        {"role": "manager"},
    )
    assert event.actor_id == company.admin.id
    # a manager or a consultant may not
    for auth in (company.token("manager"), token(company.tenant, Role.CONSULTANT)):
        body = await gql(client, SET_ROLE, {"p": employee, "r": "VIEWER"}, auth=auth)
        assert body["data"]["setRole"]["errors"][0]["code"] == "FORBIDDEN"
    # the only admin cannot step down
    admin = gid("Person", company.admin.id)
    body = await gql(client, SET_ROLE, {"p": admin, "r": "EMPLOYEE"}, auth=company.token())
    assert [e["code"] for e in body["data"]["setRole"]["errors"]] == ["LAST_ADMIN"]
    update = await gql(client, UPDATE, {"i": {"id": admin, "role": "VIEWER"}}, auth=company.token())
    assert [e["code"] for e in update["data"]["updatePerson"]["errors"]] == ["LAST_ADMIN"]
    assert (await Person.get(id=company.admin.id)).role == Role.ADMIN
    # once there is a second admin, they can
    await gql(client, SET_ROLE, {"p": employee, "r": "ADMIN"}, auth=company.token())
    body = await gql(client, SET_ROLE, {"p": admin, "r": "EMPLOYEE"}, auth=company.token())
    assert body["data"]["setRole"]["errors"] == []
    # and the role applies from the next request
    assert (await Person.get(id=company.admin.id)).role == Role.EMPLOYEE


async def test_consultants_neither_grant_nor_take_away_admin(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    auth = token(company.tenant, Role.CONSULTANT)
    grant = await gql(
        client,
        UPDATE,
        {"i": {"id": gid("Person", company.employee.id), "role": "ADMIN"}},
        auth=auth,
    )
    assert grant["data"]["updatePerson"]["errors"][0]["code"] == "FORBIDDEN"
    other = await gql(
        client,
        UPDATE,
        {"i": {"id": gid("Person", company.employee.id), "role": "MANAGER"}},
        auth=auth,
    )
    assert other["data"]["updatePerson"]["errors"] == []
    created = await gql(
        client,
        """mutation($u: ID!) { createPerson(input: {name: "新管理员", orgUnitId: $u, role: ADMIN})
          { errors { code } } }""",
        {"u": gid("OrgUnit", company.root.id)},
        auth=auth,
    )
    assert created["data"]["createPerson"]["errors"][0]["code"] == "FORBIDDEN"


async def test_the_last_admin_is_not_deactivated_by_any_path(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    consultant = token(company.tenant, Role.CONSULTANT)
    admin_id = gid("Person", company.admin.id)
    # deactivatePerson (an admin cannot deactivate themselves; a consultant tries)
    body = await gql(client, DEACTIVATE, {"id": admin_id}, auth=consultant)
    assert [e["code"] for e in body["data"]["deactivatePerson"]["errors"]] == ["LAST_ADMIN"]
    # the one place every deactivation goes through (SCIM, directory syncs, rosters)
    with pytest.raises(DomainError) as refused:
        await people.deactivate_many(company.scope, [company.admin.id, company.employee.id])
    assert refused.value.code is ErrorCode.LAST_ADMIN
    # SCIM
    made = await gql(
        client, 'mutation { createScimCredential(name: "idp") { secret } }', auth=company.token()
    )
    secret = made["data"]["createScimCredential"]["secret"]
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": False}}],
    }
    response = await client.patch(
        f"/scim/v2/Users/{company.admin.id}",
        json=patch,
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert 400 <= response.status_code < 500, response.text
    person = await Person.get(id=company.admin.id)
    assert person.active
    assert person.role == Role.ADMIN
    # and with another admin, the deactivation goes through
    await people.set_role(company.scope, company.manager.id, Role.ADMIN)
    await people.deactivate_many(company.scope, [company.manager.id])
    assert not (await Person.get(id=company.manager.id)).active


async def test_a_roster_import_keeps_an_admin(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    await Person.filter(id=company.admin.id).update(code="A1")
    await Person.filter(id=company.manager.id).update(code="M1")
    consultant = await people.create_person(
        company.scope, name="顾问", org_unit_id=company.root.id, role=Role.CONSULTANT, code="C1"
    )
    scope = scope_for(company.tenant, consultant, company.root)
    # demoting the only admin is a problem of the import, on its row; nothing is written
    demote = [
        RosterRow(2, "A1", "管理员", role="employee"),
        RosterRow(3, "C1", "顾问", role="consultant"),
    ]
    plan = await plan_roster(scope, demote)
    assert [(p.line, p.code) for p in plan.problems] == [
        (2, ErrorCode.FORBIDDEN),
        (2, ErrorCode.LAST_ADMIN),
    ]
    # an admin demoting themselves, the only admin: the last-admin rule alone
    plan = await plan_roster(company.scope, [RosterRow(2, "A1", "管理员", role="employee")])
    assert [(p.line, p.code) for p in plan.problems] == [(2, ErrorCode.LAST_ADMIN)]
    with pytest.raises(DomainError):
        await apply_roster(company.scope, plan)
    # leaving the admin out with deactivate-missing deactivates nobody
    rows = [
        RosterRow(2, "M1", "区经理", department=("华东区",), role="manager"),
        RosterRow(3, "C1", "顾问", role="consultant"),
    ]
    plan = await plan_roster(scope, rows, deactivate_missing=True, missing_scope="all")
    assert ErrorCode.LAST_ADMIN in [p.code for p in plan.problems]
    # promoting another admin in the same file lets the old one step down
    swap = [
        RosterRow(2, "A1", "管理员", role="employee"),
        RosterRow(3, "M1", "区经理", department=("华东区",), role="admin"),
    ]
    plan = await plan_roster(company.scope, swap)
    assert plan.problems == []
    await apply_roster(company.scope, plan)
    assert (await Person.get(id=company.admin.id)).role == Role.EMPLOYEE
    assert (await Person.get(id=company.manager.id)).role == Role.ADMIN


# ------------------------------------------------------------------------ the command


def test_goalgraph_token_is_refused_in_production(tmp_path: Path) -> None:
    args = ("token", "--tenant", "acme", "--role", "admin")
    refused = cli(
        tmp_path / "x.sqlite3", "s" * 32, *args, check=False, env={"GOALGRAPH_ENV": "production"}
    )
    assert refused.returncode == 2
    assert refused.stdout == ""
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "GOALGRAPH_ENV=production" in lines[0]


def test_goalgraph_roles_prints_the_docs_table(tmp_path: Path) -> None:
    printed = cli(tmp_path / "x.sqlite3", "s" * 32, "roles")
    assert printed.stdout == markdown_table()
