"""Audit completeness in figures: every mutation of the schema leaves its audit rows,
in the very transaction of its change.

The mutations are enumerated from the built schema, and ``CALLS`` holds a hand-written
valid call for each, keyed by field name: a mutation without an entry fails the test,
so a new one cannot escape. Each call runs once through the real ASGI app, as an admin
(or the role it needs), against a company of its own, and must add exactly the audit
rows its change makes (one, or one per goal a cascade touches); a call that by design
writes none says why (``Call.no_audit``).

"Same transaction" is shown by refusal: before the real run, each audited call is run
once with the database refusing every insert into ``audit_event`` (a trigger). If the
change and its audit row share a transaction, the refused audit write takes the change
down with it and not one row of any table differs afterwards; a change committed on its
own would stay behind and show up in the comparison. Then the trigger goes and the same
call must succeed with its audit rows.

Figures: mutations in the schema, mutations run, missing audit rows (must be 0),
doubled audit rows (must be 0), changes that outlived their refused audit row (must
be 0).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
from graphql import GraphQLField, GraphQLSchema
from tortoise import Tortoise
from tortoise.exceptions import IntegrityError, OperationalError

from goalgraph.core.enums import Direction, OrgUnitKind
from goalgraph.core.models import (
    Adjustment,
    AuditEvent,
    KeyResult,
    Objective,
    Person,
    Recommendation,
)
from goalgraph.core.services import key_results, kpis, objectives, org, people
from goalgraph.schema.build import build_schema

from ..factories import Company, build_chain, gid, gql, make_company
from ..fake_directory import FakeDirectory, config_for, sample_directory, serving
from .conftest import Record, backend_of

SECTION = "audit"
ERRORS = "errors { field code message }"


@dataclass
class Call:
    """One mutation as a client sends it, and the audit rows it must leave."""

    variables: dict[str, Any]
    who: str = "admin"
    #: Audit rows a successful run adds.
    audited: int = 1
    #: Why the mutation writes no audit row by design (then ``audited`` is 0).
    no_audit: str = ""
    #: The token to send instead of ``who``'s (a session's, for signOut).
    bearer: str | None = None
    #: A file for an ``Upload`` argument: (argument, file name, bytes).
    upload: tuple[str, str, bytes] | None = None
    #: Tables that record the attempt itself, which stays when its change is refused
    #: (a sync run's history and its binding's lease and schedule).
    records: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.no_audit:
            self.audited = 0


@dataclass
class World:
    """A fresh company with a goal chain (objective → key result ← store KPI)."""

    client: httpx.AsyncClient
    company: Company
    objective: Objective
    key_result: KeyResult
    kpi: Any
    #: What a call needs for its duration (a fake directory's server).
    stack: contextlib.AsyncExitStack[bool | None] = field(default_factory=contextlib.AsyncExitStack)

    @property
    def c(self) -> Company:
        return self.company

    async def run(self, document: str, variables: dict[str, Any], who: str = "admin") -> Any:
        """A setup call through the API; returns its data and asserts no errors."""
        body = await gql(self.client, document, variables, auth=self.c.token(who) if who else None)
        assert "errors" not in body, body
        payload = next(iter(body["data"].values()))
        assert not (isinstance(payload, dict) and payload.get("errors")), body
        return payload


Case = Callable[[World], Awaitable[Call]]
CALLS: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    """Register the call of the mutation ``name`` (one per field of Mutation)."""

    def register(fn: Case) -> Case:
        CALLS[name] = fn
        return fn

    return register


def objective_input(w: World, **extra: Any) -> dict[str, Any]:
    return {
        "title": "新目标",
        "titleEn": "A new objective",
        "cycleId": gid("Cycle", w.c.cycle.id),
        "ownerUnitId": gid("OrgUnit", w.c.region.id),
        **extra,
    }


async def _free_key_result(w: World) -> KeyResult:
    """A key result fed by no KPI (check-ins are for those)."""
    return await key_results.create_key_result(
        w.c.scope,
        objective_id=w.objective.id,
        title="新客户数",
        title_en="New customers",
        target_value=100,
        owner_unit_id=w.c.store.id,
    )


async def _kpi(w: World) -> Any:
    return await kpis.create_kpi(
        w.c.scope,
        metric_code="daily_sales",
        title="日销售额",
        title_en="Daily sales",
        unit="CNY",
        direction=Direction.HIGHER_IS_BETTER,
        target=10_000,
        threshold=8_000,
        owner_unit_id=w.c.store.id,
    )


# --- goals --------------------------------------------------------------------------


@case("createObjective")
async def _create_objective(w: World) -> Call:
    return Call({"input": objective_input(w)})


@case("updateObjective")
async def _update_objective(w: World) -> Call:
    return Call({"input": {"id": gid("Objective", w.objective.id), "title": "改过的目标"}})


@case("archiveObjective")
async def _archive_objective(w: World) -> Call:
    # the chain's objective with its key result: one row for each goal archived
    return Call({"id": gid("Objective", w.objective.id)}, audited=2)


@case("createKeyResult")
async def _create_key_result(w: World) -> Call:
    return Call(
        {
            "input": {
                "objectiveId": gid("Objective", w.objective.id),
                "title": "复购率",
                "titleEn": "Repeat rate",
                "targetValue": 0.4,
                "ownerUnitId": gid("OrgUnit", w.c.store.id),
            }
        }
    )


@case("updateKeyResult")
async def _update_key_result(w: World) -> Call:
    return Call({"input": {"id": gid("KeyResult", w.key_result.id), "targetValue": 6_000_000}})


@case("archiveKeyResult")
async def _archive_key_result(w: World) -> Call:
    return Call({"id": gid("KeyResult", w.key_result.id)})


@case("checkIn")
async def _check_in(w: World) -> Call:
    free = await _free_key_result(w)
    return Call({"input": {"keyResultId": gid("KeyResult", free.id), "value": 40}})


@case("createKpi")
async def _create_kpi(w: World) -> Call:
    return Call(
        {
            "input": {
                "metricCode": "daily_sales",
                "title": "日销售额",
                "titleEn": "Daily sales",
                "target": 10_000,
                "threshold": 8_000,
                "ownerUnitId": gid("OrgUnit", w.c.store.id),
            }
        }
    )


@case("updateKpi")
async def _update_kpi(w: World) -> Call:
    return Call({"input": {"id": gid("Kpi", w.kpi.id), "target": 2.5}})


@case("archiveKpi")
async def _archive_kpi(w: World) -> Call:
    return Call({"id": gid("Kpi", w.kpi.id)})


@case("linkKpi")
async def _link_kpi(w: World) -> Call:
    kpi = await _kpi(w)
    return Call(
        {"keyResultId": gid("KeyResult", w.key_result.id), "kpiId": gid("Kpi", kpi.id), "weight": 2}
    )


@case("unlinkKpi")
async def _unlink_kpi(w: World) -> Call:
    return Call({"keyResultId": gid("KeyResult", w.key_result.id), "kpiId": gid("Kpi", w.kpi.id)})


@case("recordMeasurements")
async def _record_measurements(w: World) -> Call:
    return Call(
        {"entries": [{"kpiId": gid("Kpi", w.kpi.id), "period": "2026-11-27", "value": 3.5}]},
        no_audit="values are data, not settings: each measurement keeps who recorded it and "
        "when, and a replaced value is kept as a revision (core/services/measurements.py)",
    )


# --- packs, stages, the feedback loop ---------------------------------------------------

ENABLE = 'mutation { enablePack(name: "retail", stages: ["growth"]) { errors { code } } }'


@case("enablePack")
async def _enable_pack(w: World) -> Call:
    return Call({"name": "retail", "stages": ["growth"]})


@case("disablePack")
async def _disable_pack(w: World) -> Call:
    await w.run(ENABLE, {})
    return Call({"name": "retail"})


@case("createKpiFromTemplate")
async def _kpi_from_template(w: World) -> Call:
    await w.run(ENABLE, {})
    return Call(
        {
            "input": {
                "pack": "retail",
                "code": "store_daily_sales",
                "ownerUnitId": gid("OrgUnit", w.c.store.id),
            }
        }
    )


@case("applyOkrTemplate")
async def _apply_okr_template(w: World) -> Call:
    await w.run(ENABLE, {})
    return Call(
        {
            "input": {
                "pack": "retail",
                "code": "grow_revenue",
                "cycleId": gid("Cycle", w.c.cycle.id),
                "ownerUnitId": gid("OrgUnit", w.c.root.id),
                "unitIds": [gid("OrgUnit", w.c.store.id)],
            }
        },
        # an objective and three key results, each with its KPI and their link
        audited=10,
    )


@case("setLifecycleStage")
async def _set_stage(w: World) -> Call:
    return Call({"stage": "mature"})


@case("setStageWeighting")
async def _set_weighting(w: World) -> Call:
    return Call({"stage": "growth", "okrShare": 0.6, "kpiShare": 0.4})


@case("setAlertAfterMisses")
async def _alert_after(w: World) -> Call:
    return Call({"periods": 4})


async def _recommendation(w: World) -> Recommendation:
    """A training recommendation the feedback loop made for a KPI that kept missing."""
    await w.run(ENABLE, {})
    own = (
        await w.run(
            """mutation($i: CreateKpiFromTemplateInput!) { createKpiFromTemplate(input: $i) {
              kpi { id } errors { code } } }""",
            {
                "i": {
                    "pack": "retail",
                    "code": "associate_daily_sales",
                    "ownerPersonId": gid("Person", w.c.employee.id),
                }
            },
        )
    )["kpi"]["id"]
    entries = [{"kpiId": own, "period": f"2026-11-{d}", "value": 900} for d in (24, 25, 26, 27)]
    await w.run(RECORD, {"e": entries})
    found = await Recommendation.filter(tenant_id=w.c.tenant.id).first()
    assert found is not None, "the loop recommended no course"
    return found


@case("acceptRecommendation")
async def _accept_recommendation(w: World) -> Call:
    return Call({"id": gid("Recommendation", (await _recommendation(w)).id)})


@case("dismissRecommendation")
async def _dismiss_recommendation(w: World) -> Call:
    return Call({"id": gid("Recommendation", (await _recommendation(w)).id)})


RECORD = """mutation($e: [MeasurementEntry!]!) {
  recordMeasurements(entries: $e) { errors { code } } }"""


async def _adjustment(w: World) -> int:
    """A target proposal for the store, whose two KPIs keep missing (the loop proposes
    it when the values come in)."""
    sales = await _kpi(w)
    await kpis.link_kpi(w.c.scope, key_result_id=w.key_result.id, kpi_id=sales.id, weight=1.0)
    entries = [
        {"kpiId": gid("Kpi", kpi.id), "period": f"2026-11-{d}", "value": value}
        for kpi, value in ((w.kpi, 9.0), (sales, 5_000.0))
        for d in (24, 25, 26, 27)
    ]
    await w.run(RECORD, {"e": entries})
    found = await Adjustment.filter(tenant_id=w.c.tenant.id).first()
    assert found is not None, "the loop proposed no adjustment"
    return found.id


@case("acceptAdjustment")
async def _accept_adjustment(w: World) -> Call:
    # two changes: the key result's new target, and the proposal's decision
    return Call({"id": gid("Adjustment", await _adjustment(w))}, audited=2)


@case("dismissAdjustment")
async def _dismiss_adjustment(w: World) -> Call:
    return Call({"id": gid("Adjustment", await _adjustment(w))})


# --- bindings -----------------------------------------------------------------------

WEBHOOK = {"name": "收银", "adapter": "webhook", "config": {"secret": "whsec-audit-0123456789"}}
CREATE_BINDING = """mutation($i: CreateDataBindingInput!) { createDataBinding(input: $i) {
  dataBinding { id } errors { code } } }"""
DINGTALK = {
    "name": "钉钉",
    "adapter": "dingtalk",
    "config": {"base_url": "http://127.0.0.1:9", "app_key": "dingapp"},
    "secrets": {"app_secret": "dingtalk-audit-secret-42"},
}
#: The units (5) and people (7) of the sample directory a sync brings in, each audited.
SAMPLE_ROWS = 12


def fake_of(vendor: str) -> FakeDirectory:
    return FakeDirectory(vendor, sample_directory("1"))


CREATE_ORG_BINDING = """mutation($i: CreateOrgBindingInput!) { createOrgBinding(input: $i) {
  dataBinding { id } errors { code } } }"""


@case("createDataBinding")
async def _create_binding(w: World) -> Call:
    return Call({"input": {**WEBHOOK, "kpiId": gid("Kpi", w.kpi.id)}})


@case("updateDataBinding")
async def _update_binding(w: World) -> Call:
    made = await w.run(CREATE_BINDING, {"i": {**WEBHOOK, "kpiId": gid("Kpi", w.kpi.id)}})
    return Call({"input": {"id": made["dataBinding"]["id"], "everyMinutes": 30}})


@case("runSync")
async def _run_sync(w: World) -> Call:
    # a directory served on 127.0.0.1 for the call: its units and people come in
    fake = await w.stack.enter_async_context(serving(fake_of("dingtalk")))
    config = config_for(fake)
    secrets = {"app_secret": config.pop("app_secret")}
    binding = {"name": "钉钉", "adapter": "dingtalk", "config": config, "secrets": secrets}
    made = await w.run(CREATE_ORG_BINDING, {"i": binding})
    return Call(
        {"bindingId": made["dataBinding"]["id"]},
        audited=SAMPLE_ROWS,
        records=("sync_run", "data_binding"),
    )


@case("createOrgBinding")
async def _create_org_binding(w: World) -> Call:
    return Call({"input": DINGTALK})


@case("updateOrgBinding")
async def _update_org_binding(w: World) -> Call:
    made = await w.run(CREATE_ORG_BINDING, {"i": DINGTALK})
    return Call({"input": {"id": made["dataBinding"]["id"], "everyMinutes": 60}})


# --- cycles -------------------------------------------------------------------------

CREATE_CYCLE = """mutation($i: CreateCycleInput!) { createCycle(input: $i) {
  cycle { id } errors { code } } }"""


@case("createCycle")
async def _create_cycle(w: World) -> Call:
    return Call({"input": {"kind": "QUARTER", "year": 2027, "index": 1}})


@case("closeCycle")
async def _close_cycle(w: World) -> Call:
    return Call({"id": gid("Cycle", w.c.cycle.id)})


@case("reopenCycle")
async def _reopen_cycle(w: World) -> Call:
    close = "mutation($id: ID!) { closeCycle(id: $id) { errors { code } } }"
    await w.run(close, {"id": gid("Cycle", w.c.cycle.id)})
    return Call({"id": gid("Cycle", w.c.cycle.id)})


@case("rollForward")
async def _roll_forward(w: World) -> Call:
    made = await w.run(CREATE_CYCLE, {"i": {"kind": "QUARTER", "year": 2027, "index": 1}})
    return Call(
        {"fromCycleId": gid("Cycle", w.c.cycle.id), "toCycleId": made["cycle"]["id"]},
        audited=4,  # the objective, its key result and KPI link copied; the roll itself
    )


# --- the org and its people ---------------------------------------------------------


@case("createOrgUnit")
async def _create_unit(w: World) -> Call:
    return Call(
        {
            "input": {
                "name": "二号店",
                "nameEn": "Store 2",
                "kind": "STORE",
                "parentId": gid("OrgUnit", w.c.region.id),
            }
        }
    )


@case("updateOrgUnit")
async def _update_unit(w: World) -> Call:
    return Call({"input": {"id": gid("OrgUnit", w.c.store.id), "name": "一号旗舰店"}})


async def _region(w: World) -> Any:
    return await org.create_org_unit(
        w.c.scope, name="华南区", name_en="South", kind=OrgUnitKind.REGION, parent_id=w.c.root.id
    )


@case("moveOrgUnit")
async def _move_unit(w: World) -> Call:
    south = await _region(w)
    return Call({"id": gid("OrgUnit", w.c.store.id), "parentId": gid("OrgUnit", south.id)})


@case("archiveOrgUnit")
async def _archive_unit(w: World) -> Call:
    return Call({"id": gid("OrgUnit", (await _region(w)).id)})


@case("restoreOrgUnit")
async def _restore_unit(w: World) -> Call:
    south = await _region(w)
    archive = "mutation($id: ID!) { archiveOrgUnit(id: $id) { errors { code } } }"
    await w.run(archive, {"id": gid("OrgUnit", south.id)})
    return Call({"id": gid("OrgUnit", south.id)})


@case("createPerson")
async def _create_person(w: World) -> Call:
    return Call(
        {
            "input": {
                "name": "店员丙",
                "nameEn": "Clerk C",
                "orgUnitId": gid("OrgUnit", w.c.store.id),
                "role": "EMPLOYEE",
                "email": "clerk.c@acme.example",
            }
        }
    )


@case("updatePerson")
async def _update_person(w: World) -> Call:
    return Call({"input": {"id": gid("Person", w.c.employee.id), "jobTitle": "收银员"}})


@case("deactivatePerson")
async def _deactivate(w: World) -> Call:
    return Call({"id": gid("Person", w.c.other_employee.id)})


@case("reassignGoals")
async def _reassign(w: World) -> Call:
    await objectives.create_objective(
        w.c.scope,
        title="个人目标",
        title_en="Own objective",
        cycle_id=w.c.cycle.id,
        owner_person_id=w.c.employee.id,
    )
    return Call(
        {
            "input": {
                "personId": gid("Person", w.c.employee.id),
                "toPersonId": gid("Person", w.c.manager.id),
            }
        }
    )


@case("reactivatePerson")
async def _reactivate(w: World) -> Call:
    await people.deactivate_many(w.c.scope, [w.c.other_employee.id])
    return Call({"id": gid("Person", w.c.other_employee.id)})


@case("setDottedLineManagers")
async def _dotted(w: World) -> Call:
    return Call(
        {
            "personId": gid("Person", w.c.employee.id),
            "managerIds": [gid("Person", w.c.manager.id)],
        }
    )


@case("setRole")
async def _set_role(w: World) -> Call:
    return Call({"personId": gid("Person", w.c.employee.id), "role": "MANAGER"})


ROSTER = (
    "工号,姓名,英文名,部门,上级工号,邮箱,职位,角色\n"
    "2001,周杰,Zhou Jie,华东区/一号店,,zhou.jie@acme.example,店员,\n"
    "2002,吴敏,Wu Min,华东区/二号店,,wu.min@acme.example,店长,manager\n"
)


@case("importRoster")
async def _import_roster(w: World) -> Call:
    return Call(
        {"dryRun": False, "deactivateMissing": False},
        upload=("file", "花名册.csv", ROSTER.encode("gbk")),
        audited=3,  # a unit and two people
    )


# --- credentials and identity providers -----------------------------------------------


@case("createScimCredential")
async def _create_scim(w: World) -> Call:
    return Call({"name": "okta"})


@case("revokeScimCredential")
async def _revoke_scim(w: World) -> Call:
    made = await w.run(
        'mutation { createScimCredential(name: "okta") { credential { id } errors { code } } }',
        {},
    )
    return Call({"id": made["credential"]["id"]})


@case("createApiKey")
async def _create_api_key(w: World) -> Call:
    return Call({"input": {"name": "报表", "role": "VIEWER"}})


@case("revokeApiKey")
async def _revoke_api_key(w: World) -> Call:
    made = await w.run(
        """mutation { createApiKey(input: {name: "报表", role: VIEWER}) {
          apiKey { id } errors { code } } }""",
        {},
    )
    return Call({"id": made["apiKey"]["id"]})


OIDC = {
    "issuer": "https://idp.acme.example",
    "clientId": "goalgraph",
    "clientSecret": "oidc-audit-client-secret-7",
}
VENDOR = {"clientSecret": "vendor-audit-secret-9", "baseUrl": "https://open.vendor.example"}


@case("configureOidc")
async def _configure_oidc(w: World) -> Call:
    return Call({"input": OIDC})


@case("disableOidc")
async def _disable_oidc(w: World) -> Call:
    await w.run(
        "mutation($i: ConfigureOidcInput!) { configureOidc(input: $i) { errors { code } } }",
        {"i": OIDC},
    )
    return Call({})


@case("configureFeishu")
async def _configure_feishu(w: World) -> Call:
    return Call({"input": {**VENDOR, "clientId": "cli_acme", "tenantKey": "tk-acme"}})


@case("configureDingtalk")
async def _configure_dingtalk(w: World) -> Call:
    return Call({"input": {**VENDOR, "clientId": "dingacme", "corpId": "ding-corp"}})


@case("configureWecom")
async def _configure_wecom(w: World) -> Call:
    return Call({"input": {**VENDOR, "corpId": "wwacme", "agentId": "1000002"}})


@case("disableIdentityProvider")
async def _disable_provider(w: World) -> Call:
    await w.run(
        "mutation($i: ConfigureWecomInput!) { configureWecom(input: $i) { errors { code } } }",
        {"i": {**VENDOR, "corpId": "wwacme", "agentId": "1000002"}},
    )
    return Call({"kind": "WECOM"})


# --- accounts and sessions ------------------------------------------------------------

PASSWORD = "一号店 opens at eight, audit"
INVITE = "mutation($p: ID!) { invitePerson(personId: $p) { link errors { code } } }"
ACCEPT = """mutation($s: String!, $p: String!) { acceptInvitation(secret: $s, password: $p) {
  errors { code } } }"""
SIGN_IN = """mutation($t: String!, $e: String!, $p: String!) {
  signIn(tenant: $t, email: $e, password: $p) {
    session { accessToken refreshToken } errors { code } } }"""


def _link_secret(link: str) -> str:
    """The one-time secret an invitation or reset link carries, wherever it sits."""
    parts = urlsplit(link)
    query = parse_qs(parts.query) or parse_qs(parts.fragment)
    if query:
        return next(iter(query.values()))[0]
    return parts.path.rstrip("/").rpartition("/")[2] or parts.fragment


async def _with_email(w: World) -> Person:
    await people.update_person(w.c.scope, w.c.employee.id, {"email": "clerk.a@acme.example"})
    return w.c.employee


async def _invited(w: World) -> str:
    person = await _with_email(w)
    link = (await w.run(INVITE, {"p": gid("Person", person.id)}))["link"]
    return _link_secret(link)


async def _signed_in(w: World) -> dict[str, Any]:
    await w.run(ACCEPT, {"s": await _invited(w), "p": PASSWORD}, who="")
    body = await gql(
        w.client,
        SIGN_IN,
        {"t": w.c.tenant.slug, "e": "clerk.a@acme.example", "p": PASSWORD},
    )
    session: dict[str, Any] = body["data"]["signIn"]["session"]
    return session


@case("invitePerson")
async def _invite(w: World) -> Call:
    return Call({"personId": gid("Person", (await _with_email(w)).id)})


@case("issuePasswordReset")
async def _issue_reset(w: World) -> Call:
    await w.run(ACCEPT, {"s": await _invited(w), "p": PASSWORD}, who="")
    return Call({"personId": gid("Person", w.c.employee.id)})


@case("acceptInvitation")
async def _accept(w: World) -> Call:
    return Call({"secret": await _invited(w), "password": PASSWORD}, who="")


@case("resetPassword")
async def _reset(w: World) -> Call:
    await w.run(ACCEPT, {"s": await _invited(w), "p": PASSWORD}, who="")
    reset = "mutation($p: ID!) { issuePasswordReset(personId: $p) { link errors { code } } }"
    link = (await w.run(reset, {"p": gid("Person", w.c.employee.id)}))["link"]
    return Call({"secret": _link_secret(link), "password": PASSWORD + " again"}, who="")


@case("signIn")
async def _sign_in(w: World) -> Call:
    await w.run(ACCEPT, {"s": await _invited(w), "p": PASSWORD}, who="")
    return Call(
        {"tenant": w.c.tenant.slug, "email": "clerk.a@acme.example", "password": PASSWORD},
        who="",
    )


@case("refreshSession")
async def _refresh(w: World) -> Call:
    session = await _signed_in(w)
    return Call(
        {"refreshToken": session["refreshToken"]},
        who="",
        no_audit="a refresh continues the session signIn audited (session.started): each "
        "refresh token is a row of that session (RefreshToken: issued, rotated), which is "
        "the trail of its rotations; a reused token's revocation is audited",
    )


@case("setMyLocale")
async def _set_my_locale(w: World) -> Call:
    # a person's own setting: the employee may, and it is audited like any change of them
    return Call({"locale": "en"}, who="employee")


@case("signOut")
async def _sign_out(w: World) -> Call:
    session = await _signed_in(w)
    return Call({}, bearer=session["accessToken"])


# --- running and counting -----------------------------------------------------------


def mutation_fields(schema: GraphQLSchema) -> dict[str, GraphQLField]:
    assert schema.mutation_type is not None
    return dict(schema.mutation_type.fields)


def document(
    name: str, definition: GraphQLField, variables: dict[str, Any], upload: str | None = None
) -> str:
    """The mutation with every given argument as a variable of the schema's own type."""
    given = [a for a in definition.args if a in variables or a == upload]
    declared = ", ".join(f"${a}: {definition.args[a].type}" for a in given)
    passed = ", ".join(f"{a}: ${a}" for a in given)
    head = f"mutation({declared})" if declared else "mutation"
    call = f"{name}({passed})" if passed else name
    return f"{head} {{ {call} {{ {ERRORS} }} }}"


async def send(w: World, name: str, doc: str, call: Call) -> dict[str, Any]:
    bearer = call.bearer or (w.c.token(call.who) if call.who else None)
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    if call.upload is None:
        body = await gql(w.client, doc, call.variables, auth=bearer)
    else:
        argument, filename, data = call.upload
        operations = {"query": doc, "variables": {**call.variables, argument: None}}
        response = await w.client.post(
            "/graphql",
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": [f"variables.{argument}"]}),
            },
            files={"0": (filename, data, "text/csv")},
            headers=headers,
        )
        body = response.json()
    return body


def succeeded(name: str, body: dict[str, Any]) -> bool:
    data = body.get("data") or {}
    return "errors" not in body and not (data.get(name) or {}).get("errors")


# --- the audit table refusing inserts -------------------------------------------------

REFUSE_SQLITE = (
    "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END"
)
REFUSE_POSTGRES = (
    "CREATE OR REPLACE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$",
    "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
)


class AuditRefusal:
    """Turns the refusing trigger on and off (as the table's owner on PostgreSQL)."""

    def __init__(self, owner_url: str | None) -> None:
        self.owner_url = owner_url
        self.conn: asyncpg.Connection | None = None

    async def __aenter__(self) -> AuditRefusal:
        if self.owner_url:
            url = self.owner_url.replace("postgres://", "postgresql://", 1)
            self.conn = await asyncpg.connect(url)
            await self.conn.execute(REFUSE_POSTGRES[0])
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.off()
        if self.conn is not None:
            await self.conn.close()

    async def on(self) -> None:
        if self.conn is not None:
            await self.conn.execute(REFUSE_POSTGRES[1])
        else:
            await Tortoise.get_connection("default").execute_script(REFUSE_SQLITE)

    async def off(self) -> None:
        drop = "DROP TRIGGER IF EXISTS refuse_audit"
        if self.conn is not None:
            await self.conn.execute(f"{drop} ON audit_event")
        else:
            await Tortoise.get_connection("default").execute_script(drop)


async def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in id order: what "nothing changed" is compared on."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for app in Tortoise.apps.values():
        for model in app.values():
            rows = await model.all().order_by(model._meta.pk_attr).values_list()
            tables[model._meta.db_table] = [tuple(map(str, row)) for row in rows]
    return tables


def changed_tables(
    before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]
) -> list[str]:
    return sorted(t for t in after if before.get(t) != after[t])


# --- the tests ------------------------------------------------------------------------


def test_every_mutation_has_a_call() -> None:
    schema = build_schema()._schema
    missing = sorted(set(mutation_fields(schema)) - set(CALLS))
    assert missing == [], f"add a call to CALLS for {missing}"
    assert sorted(set(CALLS) - set(mutation_fields(schema))) == []


async def _world(client: httpx.AsyncClient, n: int) -> World:
    company = await make_company(f"audit{n}")
    chain = await build_chain(company, depth=1)
    return World(client, company, chain["objectives"][0], chain["key_results"][0], chain["kpis"][0])


@dataclass
class Tally:
    """What the run found, for the figures and the failure message."""

    run: int = 0
    exempt: int = 0
    missing: int = 0
    doubled: int = 0
    outlived: int = 0
    problems: list[str] = field(default_factory=list)


async def _refused_leaves_nothing(
    w: World, name: str, doc: str, call: Call, refusal: AuditRefusal
) -> list[str]:
    """The tables the call changed while its audit rows were refused (none if the change
    and its audit share a transaction), less those that record the attempt itself."""
    await refusal.on()
    before = await snapshot()
    try:
        # the refused insert fails the request (an unexpected error, which the ASGI
        # transport raises here); what matters is what it leaves behind
        with contextlib.suppress(IntegrityError, OperationalError):
            await send(w, name, doc, call)
    finally:
        await refusal.off()
    return [t for t in changed_tables(before, await snapshot()) if t not in call.records]


async def _check(
    w: World, name: str, definition: GraphQLField, refusal: AuditRefusal, tally: Tally
) -> None:
    """Set the call up, run it refused then for real, and count its audit rows."""
    try:
        call = await CALLS[name](w)
    except AssertionError as exc:
        tally.problems.append(f"{name}: its setup failed: {exc}")
        return
    tally.exempt += bool(call.no_audit)
    doc = document(name, definition, call.variables, call.upload[0] if call.upload else None)
    if call.audited and (left := await _refused_leaves_nothing(w, name, doc, call, refusal)):
        tally.outlived += 1
        tally.problems.append(f"{name}: with its audit refused, {left} changed anyway")
    audit_before = await AuditEvent.filter(tenant_id=w.c.tenant.id).count()
    body = await send(w, name, doc, call)
    tally.run += 1
    if not succeeded(name, body):
        tally.problems.append(f"{name}: the call failed: {body}")
        return
    added = await AuditEvent.filter(tenant_id=w.c.tenant.id).count() - audit_before
    if added != call.audited:
        tally.problems.append(f"{name}: {added} audit rows, expected {call.audited}")
    tally.missing += max(0, call.audited - added)
    tally.doubled += max(0, added - call.audited)


async def test_every_mutation_audits_its_change_in_its_own_transaction(
    client: httpx.AsyncClient, db_url: str, figures: Record, request: pytest.FixtureRequest
) -> None:
    fields = mutation_fields(build_schema()._schema)
    owner = None
    if backend_of(db_url) == "postgres":
        owner = request.getfixturevalue("postgres_owner_url")
    tally = Tally()
    async with AuditRefusal(owner) as refusal:
        for n, name in enumerate(sorted(fields)):
            if name not in CALLS:
                tally.problems.append(f"{name}: no call")
                continue
            w = await _world(client, n)
            async with w.stack:
                await _check(w, name, fields[name], refusal, tally)
    figures(SECTION, "mutations in the schema", len(fields))
    figures(SECTION, "mutations run", tally.run)
    figures(SECTION, "by design without an audit row", tally.exempt)
    figures(SECTION, "missing audit rows", tally.missing, must_be_zero=True)
    figures(SECTION, "doubled audit rows", tally.doubled, must_be_zero=True)
    figures(SECTION, "changes outliving a refused audit row", tally.outlived, must_be_zero=True)
    assert tally.problems == [], "\n".join(tally.problems)
