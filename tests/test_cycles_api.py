"""Cycles (考核周期) for admins: opening by kind and index, closing (scores frozen, writes
refused), reopening, and rolling objectives forward into the next cycle."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from strawberry import relay

from goalgraph.core.enums import CycleKind, GoalKind, GoalStatus
from goalgraph.core.errors import DomainError, ErrorCode
from goalgraph.core.models import (
    AuditEvent,
    CheckIn,
    Cycle,
    KeyResult,
    Kpi,
    KpiLink,
    Objective,
    Score,
)
from goalgraph.core.scoring.engine import score_cycle
from goalgraph.core.scoring.load import load_cycle
from goalgraph.core.services import cycles, key_results, kpis, objectives
from goalgraph.core.services.measurements import MeasurementInput, record_measurements
from goalgraph.core.tenancy import TenantScope
from goalgraph.plugins.enablement import enable_pack
from goalgraph.plugins.manager import PackManager
from goalgraph.plugins.view import bind_policies

from .factories import Company, build_chain, gid, gql, make_company
from .sqlcount import count_statements

CREATE = """mutation($input: CreateCycleInput!) { createCycle(input: $input) {
  cycle { id name nameEn kind startsOn endsOn closed closedAt }
  errors { field code message } } }"""
CLOSE = """mutation($id: ID!) { closeCycle(id: $id) {
  cycle { name closed closedAt } errors { field code message } } }"""
REOPEN = """mutation($id: ID!) { reopenCycle(id: $id) {
  cycle { name closed closedAt } errors { field code message } } }"""
ROLL = """mutation($from: ID!, $to: ID, $ids: [ID!]) {
  rollForward(fromCycleId: $from, toCycleId: $to, objectiveIds: $ids) {
    objectives { id title level score cycle { name } parent { id }
      rolledFrom { id title cycle { name } }
      keyResults { title startValue targetValue currentValue kpiLinks { weight } } }
    errors { field code message } } }"""
CARD = """query($cycle: ID, $at: DateTime) { scorecard(cycleId: $cycle, asOf: $at) {
  frozen closedAt stage okrShare kpiShare okrGrade kpiScore combinedScore
  cycle { name closed }
  objectives { grade objective { title } }
  kpis { score kpi { title } explain { target formula } } } }"""
LIST = """query($closed: Boolean!) { cycles(includeClosed: $closed) {
  totalCount edges { node { name closed } } } }"""


def _problems(body: dict[str, Any], field: str) -> list[dict[str, Any]]:
    assert "errors" not in body, body
    problems: list[dict[str, Any]] = body["data"][field]["errors"]
    return problems


# -- spans -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "year", "index", "expected"),
    [
        (CycleKind.YEAR, 2026, 1, ("2026", "2026", date(2026, 1, 1), date(2026, 12, 31))),
        (CycleKind.HALF, 2026, 1, ("2026H1", "2026 H1", date(2026, 1, 1), date(2026, 6, 30))),
        (CycleKind.HALF, 2026, 2, ("2026H2", "2026 H2", date(2026, 7, 1), date(2026, 12, 31))),
        (CycleKind.QUARTER, 2026, 1, ("2026Q1", "2026 Q1", date(2026, 1, 1), date(2026, 3, 31))),
        (CycleKind.QUARTER, 2026, 4, ("2026Q4", "2026 Q4", date(2026, 10, 1), date(2026, 12, 31))),
        (
            CycleKind.MONTH,
            2028,
            2,
            ("2028-02", "February 2028", date(2028, 2, 1), date(2028, 2, 29)),
        ),
        (
            CycleKind.MONTH,
            2026,
            2,
            ("2026-02", "February 2026", date(2026, 2, 1), date(2026, 2, 28)),
        ),
        (
            CycleKind.MONTH,
            2026,
            11,
            ("2026-11", "November 2026", date(2026, 11, 1), date(2026, 11, 30)),
        ),
        (
            CycleKind.WEEK,
            2026,
            1,
            ("2026-W01", "2026 week 1", date(2025, 12, 29), date(2026, 1, 4)),
        ),
        (
            CycleKind.WEEK,
            2026,
            53,
            ("2026-W53", "2026 week 53", date(2026, 12, 28), date(2027, 1, 3)),
        ),
    ],
)
def test_cycle_span_of_every_kind(
    kind: CycleKind, year: int, index: int, expected: tuple[str, str, date, date]
) -> None:
    assert cycles.cycle_span(kind, year, index) == expected


@pytest.mark.parametrize(
    ("kind", "year", "index", "field"),
    [
        (CycleKind.QUARTER, 2026, 5, "index"),
        (CycleKind.HALF, 2026, 0, "index"),
        (CycleKind.MONTH, 2026, 13, "index"),
        (CycleKind.YEAR, 2026, 2, "index"),
        (CycleKind.WEEK, 2027, 53, "index"),  # 2027 has 52 ISO weeks
        (CycleKind.YEAR, 10_000, 1, "year"),
    ],
)
def test_cycle_span_refuses_what_does_not_exist(
    kind: CycleKind, year: int, index: int, field: str
) -> None:
    with pytest.raises(DomainError) as refused:
        cycles.cycle_span(kind, year, index)
    assert refused.value.code is ErrorCode.OUT_OF_RANGE
    assert refused.value.problems[0].field == field


# -- creating ----------------------------------------------------------------------------


async def test_admins_open_cycles_by_kind_and_index(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    auth = company.token()

    async def create(**values: Any) -> dict[str, Any]:
        body = await gql(client, CREATE, {"input": values}, auth=auth)
        assert "errors" not in body, body
        payload: dict[str, Any] = body["data"]["createCycle"]
        return payload

    q1 = await create(kind="QUARTER", year=2027, index=1)
    assert q1["errors"] == []
    assert q1["cycle"] == {
        "id": q1["cycle"]["id"],
        "name": "2027Q1",
        "nameEn": "2027 Q1",
        "kind": "QUARTER",
        "startsOn": "2027-01-01",
        "endsOn": "2027-03-31",
        "closed": False,
        "closedAt": None,
    }
    feb = (await create(kind="MONTH", year=2028, index=2))["cycle"]
    assert (feb["name"], feb["endsOn"]) == ("2028-02", "2028-02-29")
    h2 = (await create(kind="HALF", year=2026, index=2))["cycle"]
    assert (h2["name"], h2["startsOn"], h2["endsOn"]) == ("2026H2", "2026-07-01", "2026-12-31")
    named = (await create(kind="QUARTER", year=2027, index=2, name="2027年第二季度"))["cycle"]
    assert (named["name"], named["nameEn"], named["startsOn"]) == (
        "2027年第二季度",
        "2027 Q2",
        "2027-04-01",
    )
    sprint = await create(kind="WEEK", name="Sprint 48", startsOn="2026-11-23", endsOn="2026-11-29")
    assert sprint["errors"] == []
    assert sprint["cycle"]["endsOn"] == "2026-11-29"

    # the new cycles' stored scores are built at once, and each creation is audited
    made = await company.scope.query(Cycle).filter(name__in=["2027Q1", "Sprint 48"])
    assert all(c.scores_built_at is not None for c in made)
    events = await company.scope.query(AuditEvent).filter(action="cycle.created").count()
    assert events == 1 + 5  # make_company's quarter, then these five

    # refused: a taken name, a missing name and dates, an impossible index, a non-admin
    duplicate = await create(kind="QUARTER", year=2026, index=4)
    assert [e["code"] for e in duplicate["errors"]] == ["CONFLICT"]
    missing = await create(kind="WEEK")
    assert {e["field"] for e in missing["errors"]} == {"name", "startsOn", "endsOn"}
    assert {e["code"] for e in missing["errors"]} == {"REQUIRED"}
    assert [e["code"] for e in (await create(kind="QUARTER", year=2027, index=5))["errors"]] == [
        "OUT_OF_RANGE"
    ]
    backwards = await create(kind="WEEK", name="x", startsOn="2026-11-29", endsOn="2026-11-23")
    assert [e["field"] for e in backwards["errors"]] == ["endsOn"]
    for who in ("manager", "employee"):
        body = await gql(
            client,
            CREATE,
            {"input": {"kind": "YEAR", "year": 2030}},
            auth=company.token(who),
        )
        assert [e["code"] for e in _problems(body, "createCycle")] == ["FORBIDDEN"]
    assert not await company.scope.query(Cycle).filter(name="2030").exists()

    listed = await gql(client, LIST, {"closed": True}, auth=auth)
    assert listed["data"]["cycles"]["totalCount"] == 6


# -- closing: frozen scores ---------------------------------------------------------------


async def _stored(scope: TenantScope, cycle: Cycle) -> dict[tuple[str, int], tuple[Any, Any]]:
    rows = await scope.query(Score).filter(cycle_id=cycle.id)
    return {(str(r.kind), r.node_id): (r.value, r.score) for r in rows}


async def _year_with_the_same_kpi(company: Company, kpi: Kpi) -> Cycle:
    """An open year cycle over the quarter, with an objective fed by the same KPI."""
    scope = company.scope
    year = await cycles.create_cycle(
        scope,
        name="2026",
        kind=CycleKind.YEAR,
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
    )
    objective = await objectives.create_objective(
        scope, title="全年顾客体验", cycle_id=year.id, owner_unit_id=company.root.id
    )
    key_result = await key_results.create_key_result(
        scope, objective_id=objective.id, title="等待时间达标", target_value=1
    )
    await kpis.link_kpi(scope, key_result_id=key_result.id, kpi_id=kpi.id)
    return year


async def test_closing_a_cycle_freezes_its_scores_and_scorecard(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    scope, quarter, auth = company.scope, company.cycle, company.token()
    chain = await build_chain(company, depth=3, width=2)
    wait = chain["kpis"][0]
    year = await _year_with_the_same_kpi(company, wait)
    await record_measurements(
        scope, [MeasurementInput(k.id, date(2026, 11, 2), 3.5) for k in chain["kpis"]]
    )
    q_var = {"cycle": gid("Cycle", quarter.id)}
    before = (await gql(client, CARD, q_var, auth=auth))["data"]["scorecard"]
    assert before["frozen"] is False
    assert before["kpiScore"] is not None
    await asyncio.sleep(0.01)
    open_moment = datetime.now(UTC)
    await asyncio.sleep(0.01)

    closed = await gql(client, CLOSE, {"id": q_var["cycle"]}, auth=auth)
    assert _problems(closed, "closeCycle") == []
    assert closed["data"]["closeCycle"]["cycle"]["closed"] is True
    row = await scope.get(Cycle, quarter.id)
    assert row.closed_at is not None
    assert row.closed_by_id == company.admin.id
    event = await scope.query(AuditEvent).get(action="cycle.closed", entity_id=quarter.id)
    assert event.before == {"closed_at": None, "closed_by_id": None}
    assert event.after == {
        "closed_at": row.closed_at.isoformat(),
        "closed_by_id": company.admin.id,
    }
    frozen_scores = await _stored(scope, row)
    frozen_card = (await gql(client, CARD, q_var, auth=auth))["data"]["scorecard"]
    assert frozen_card["frozen"] is True
    assert frozen_card["closedAt"] is not None
    assert {k: v for k, v in frozen_card.items() if k not in {"frozen", "closedAt", "cycle"}} == {
        k: v for k, v in before.items() if k not in {"frozen", "closedAt", "cycle"}
    }
    year_before = await _stored(scope, year)

    # KPIs span cycles: measurements and settings still change, inside the closed quarter
    written = await gql(
        client,
        """mutation($e: [MeasurementEntry!]!) { recordMeasurements(entries: $e) {
          errors { code } } }""",
        {
            "e": [
                {"kpiId": gid("Kpi", k.id), "period": "2026-11-03", "value": 9.0}
                for k in chain["kpis"]
            ]
        },
        auth=auth,
    )
    assert _problems(written, "recordMeasurements") == []
    retarget = """mutation($id: ID!) { updateKpi(input: {id: $id, target: 2, threshold: 5,
      weight: 4}) { errors { code } } }"""
    assert (
        _problems(await gql(client, retarget, {"id": gid("Kpi", wait.id)}, auth=auth), "updateKpi")
        == []
    )
    manager = PackManager.discover()
    await enable_pack(bind_policies(scope, manager), manager, "retail", ["growth"])
    stage = """mutation { setLifecycleStage(stage: "mature") { errors { code } } }"""
    assert _problems(await gql(client, stage, auth=auth), "setLifecycleStage") == []

    # the closed quarter's stored scores and scorecard stay; the open year moves
    assert await _stored(scope, row) == frozen_scores
    after = (await gql(client, CARD, q_var, auth=auth))["data"]["scorecard"]
    assert after == frozen_card
    assert await _stored(scope, year) != year_before
    year_card = (await gql(client, CARD, {"cycle": gid("Cycle", year.id)}, auth=auth))["data"]
    assert year_card["scorecard"]["frozen"] is False
    assert year_card["scorecard"]["stage"] == "mature"

    # asOf still works: before closing, the figures then; after it, the frozen ones
    as_then = await gql(client, CARD, {**q_var, "at": open_moment.isoformat()}, auth=auth)
    then_card = as_then["data"]["scorecard"]
    for key in ("okrGrade", "kpiScore", "combinedScore", "stage", "okrShare"):
        assert then_card[key] == pytest.approx(before[key])
    assert then_card["frozen"] is True  # the cycle is closed now: these figures stay
    as_now = await gql(client, CARD, {**q_var, "at": datetime.now(UTC).isoformat()}, auth=auth)
    assert as_now["data"]["scorecard"] == frozen_card

    # closing twice is refused; only admins and consultants close
    again = await gql(client, CLOSE, {"id": q_var["cycle"]}, auth=auth)
    assert [e["code"] for e in _problems(again, "closeCycle")] == ["CYCLE_CLOSED"]
    year_id = {"id": gid("Cycle", year.id)}
    by_manager = await gql(client, CLOSE, year_id, auth=company.token("manager"))
    assert [e["code"] for e in _problems(by_manager, "closeCycle")] == ["FORBIDDEN"]
    assert not (await scope.get(Cycle, year.id)).closed

    listed = await gql(client, LIST, {"closed": False}, auth=auth)
    assert [e["node"]["name"] for e in listed["data"]["cycles"]["edges"]] == ["2026"]


async def test_reopening_lets_writes_in_and_scores_catch_up(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    scope, quarter = company.scope, company.cycle
    chain = await build_chain(company, depth=2)
    await cycles.close_cycle(scope, quarter.id)
    await record_measurements(scope, [MeasurementInput(chain["kpis"][0].id, date(2026, 11, 5), 2)])
    frozen = await _stored(scope, await scope.get(Cycle, quarter.id))

    cycle_id = {"id": gid("Cycle", quarter.id)}
    refused = await gql(client, REOPEN, cycle_id, auth=company.token("manager"))
    assert [e["code"] for e in _problems(refused, "reopenCycle")] == ["FORBIDDEN"]
    reopened = await gql(client, REOPEN, cycle_id, auth=company.token())
    assert _problems(reopened, "reopenCycle") == []
    assert reopened["data"]["reopenCycle"]["cycle"]["closed"] is False
    assert await scope.query(AuditEvent).filter(action="cycle.reopened").count() == 1

    row = await scope.get(Cycle, quarter.id)
    stored = await _stored(scope, row)
    assert stored != frozen  # the measurement made while closed counts now
    scratch = score_cycle(await load_cycle(scope, row), None)
    assert (
        stored[(GoalKind.KPI.value, chain["kpis"][0].id)][1]
        == scratch.kpis[chain["kpis"][0].id].score
    )
    again = await gql(client, REOPEN, cycle_id, auth=company.token())
    assert [e["code"] for e in _problems(again, "reopenCycle")] == ["INVALID"]
    await key_results.check_in(scope, key_result_id=chain["key_results"][0].id, value=1)


# -- closing: refused writes ----------------------------------------------------------------


async def _counts(scope: TenantScope) -> dict[str, int]:
    return {
        model.__name__: await scope.query(model).count()
        for model in (Objective, KeyResult, KpiLink, CheckIn, AuditEvent, Score)
    }


async def test_every_write_into_a_closed_cycle_is_refused(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    scope, quarter, auth = company.scope, company.cycle, company.token()
    chain = await build_chain(company, depth=2, width=2)
    top, child, other = chain["objectives"][0], chain["objectives"][2], chain["objectives"][1]
    key_result, kpi = chain["key_results"][0], chain["kpis"][0]
    spare = await kpis.create_kpi(
        scope,
        metric_code="foot_traffic",
        title="客流量",
        target=1200,
        threshold=1000,
        owner_unit_id=company.store.id,
    )
    await cycles.close_cycle(scope, quarter.id)
    counts = await _counts(scope)
    snapshot = {
        o.id: (o.title, o.parent_id, o.path, o.status) for o in await scope.query(Objective).all()
    }
    krs = {k.id: (k.title, k.current_value, k.status) for k in await scope.query(KeyResult).all()}

    o, k = gid("Objective", top.id), gid("KeyResult", key_result.id)
    writes = [
        (
            "createObjective",
            """mutation($c: ID!, $u: ID!) { createObjective(input: {title: "新目标",
              cycleId: $c, ownerUnitId: $u}) { errors { field code } } }""",
            {"c": gid("Cycle", quarter.id), "u": gid("OrgUnit", company.root.id)},
        ),
        (
            "updateObjective",
            """mutation($o: ID!) { updateObjective(input: {id: $o, title: "改名"}) {
              errors { field code } } }""",
            {"o": o},
        ),
        (
            "updateObjective",
            """mutation($o: ID!, $p: ID!) { updateObjective(input: {id: $o, parentId: $p}) {
              errors { field code } } }""",
            {"o": gid("Objective", child.id), "p": gid("Objective", other.id)},
        ),
        (
            "archiveObjective",
            """mutation($o: ID!) { archiveObjective(id: $o) { errors { field code } } }""",
            {"o": o},
        ),
        (
            "createKeyResult",
            """mutation($o: ID!) { createKeyResult(input: {objectiveId: $o, title: "新成果",
              targetValue: 10}) { errors { field code } } }""",
            {"o": o},
        ),
        (
            "updateKeyResult",
            """mutation($k: ID!) { updateKeyResult(input: {id: $k, targetValue: 9}) {
              errors { field code } } }""",
            {"k": k},
        ),
        (
            "archiveKeyResult",
            """mutation($k: ID!) { archiveKeyResult(id: $k) { errors { field code } } }""",
            {"k": k},
        ),
        (
            "checkIn",
            """mutation($k: ID!) { checkIn(input: {keyResultId: $k, value: 42}) {
              errors { field code } } }""",
            {"k": k},
        ),
        (
            "linkKpi",
            """mutation($k: ID!, $p: ID!) { linkKpi(keyResultId: $k, kpiId: $p) {
              errors { field code } } }""",
            {"k": k, "p": gid("Kpi", spare.id)},
        ),
        (
            "linkKpi",
            """mutation($k: ID!, $p: ID!) { linkKpi(keyResultId: $k, kpiId: $p, weight: 3) {
              errors { field code } } }""",
            {"k": k, "p": gid("Kpi", kpi.id)},
        ),
        (
            "unlinkKpi",
            """mutation($k: ID!, $p: ID!) { unlinkKpi(keyResultId: $k, kpiId: $p) {
              errors { field code } } }""",
            {"k": k, "p": gid("Kpi", kpi.id)},
        ),
    ]
    for field, document, variables in writes:
        body = await gql(client, document, variables, auth=auth)
        assert [e["code"] for e in _problems(body, field)] == ["CYCLE_CLOSED"], field

    # nothing was written
    assert await _counts(scope) == counts
    assert {
        o.id: (o.title, o.parent_id, o.path, o.status) for o in await scope.query(Objective).all()
    } == snapshot
    assert {
        k.id: (k.title, k.current_value, k.status) for k in await scope.query(KeyResult).all()
    } == krs
    weights = await scope.query(KpiLink).filter(kpi_id=kpi.id).values_list("weight", flat=True)
    assert list(weights) == [1.0]


# -- rolling forward -------------------------------------------------------------------------


async def test_roll_forward_copies_the_tree_key_results_and_links(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    scope, quarter, auth = company.scope, company.cycle, company.token()
    chain = await build_chain(company, depth=3, width=2)  # 2 + 4 + 8 objectives
    # a key result half way (start 0 → 5M, at 2M) and one already done
    await key_results.check_in(scope, key_result_id=chain["key_results"][0].id, value=2_000_000)
    await key_results.check_in(scope, key_result_id=chain["key_results"][1].id, value=5_500_000)
    gone = chain["objectives"][-1]
    await objectives.archive_objective(scope, gone.id)  # archived ones stay behind
    await record_measurements(
        scope, [MeasurementInput(k.id, date(2027, 1, 5), 2.5) for k in chain["kpis"]]
    )
    await cycles.close_cycle(scope, quarter.id)
    next_q = (
        await gql(
            client, CREATE, {"input": {"kind": "QUARTER", "year": 2027, "index": 1}}, auth=auth
        )
    )["data"]["createCycle"]["cycle"]

    rolled = await gql(client, ROLL, {"from": gid("Cycle", quarter.id)}, auth=auth)
    assert _problems(rolled, "rollForward") == []
    copies = rolled["data"]["rollForward"]["objectives"]
    originals = {
        o.id: o
        for o in await scope.query(Objective).filter(cycle_id=quarter.id, status=GoalStatus.ACTIVE)
    }
    assert len(copies) == len(originals) == 13
    assert {c["cycle"]["name"] for c in copies} == {"2027Q1"}
    assert {c["rolledFrom"]["cycle"]["name"] for c in copies} == {"2026Q4"}

    rows = {
        o.id: o for o in await scope.query(Objective).filter(cycle_id=int(_row_id(next_q["id"])))
    }
    copy_of = {o.rolled_from_id: o for o in rows.values()}
    assert set(copy_of) == set(originals)
    for original in originals.values():
        copy = copy_of[original.id]
        assert (copy.title, copy.owner_unit_id, copy.alignment_weight, copy.depth) == (
            original.title,
            original.owner_unit_id,
            original.alignment_weight,
            original.depth,
        )
        parent = copy_of[original.parent_id] if original.parent_id else None
        assert copy.parent_id == (parent.id if parent else None)
        assert copy.path == f"{parent.path if parent else '/'}{copy.id}/"
    assert all(c.id > p.id for c in rows.values() for p in rows.values() if p.id == c.parent_id)

    # key results start where the originals stand, towards the same target
    made = {
        (k.objective_id, k.title): k
        for k in await scope.query(KeyResult).filter(objective_id__in=list(rows))
    }
    halfway = copy_of[chain["key_results"][0].objective_id]
    done = copy_of[chain["key_results"][1].objective_id]
    first = made[(halfway.id, "季度销售额达500万")]
    assert (first.start_value, first.current_value, first.target_value) == (
        2_000_000,
        2_000_000,
        5_000_000,
    )
    second = made[(done.id, "季度销售额达500万")]
    assert (second.start_value, second.current_value) == (0, 0)  # reached: a fresh run
    assert len(made) == 7  # the archived objective's key result stayed behind
    links = await scope.query(KpiLink).filter(key_result_id__in=[k.id for k in made.values()])
    original_links = await scope.query(KpiLink).filter(key_result__objective_id__in=list(originals))
    assert sorted((link.kpi_id, link.weight) for link in links) == sorted(
        (link.kpi_id, link.weight) for link in original_links
    )

    # the new cycle's stored scores are current (equal to a computation from scratch),
    # and the copies already grade from the January measurements
    target = await scope.get(Cycle, int(_row_id(next_q["id"])))
    scratch = score_cycle(await load_cycle(scope, target), await scope.scoring_policies())
    stored = await _stored(scope, target)
    for objective_id, grade in scratch.objectives.items():
        assert stored[(GoalKind.OBJECTIVE.value, objective_id)][1] == grade
    for key_result_id, grade in scratch.key_results.items():
        assert stored[(GoalKind.KEY_RESULT.value, key_result_id)][1] == grade
    assert all(c["score"] is not None for c in copies)

    # audited: one event per copy, and one for the roll
    assert await scope.query(AuditEvent).filter(
        action="objective.created", entity_id__in=list(rows)
    ).count() == len(rows)
    assert await scope.query(AuditEvent).filter(action="cycle.rolled_forward").count() == 1

    # a second roll of the same objectives is refused, as are closed and same cycles
    again = await gql(client, ROLL, {"from": gid("Cycle", quarter.id)}, auth=auth)
    assert [e["code"] for e in _problems(again, "rollForward")] == ["CONFLICT"]
    into_closed = await gql(
        client, ROLL, {"from": next_q["id"], "to": gid("Cycle", quarter.id)}, auth=auth
    )
    assert [e["code"] for e in _problems(into_closed, "rollForward")] == ["CYCLE_CLOSED"]
    same = await gql(client, ROLL, {"from": next_q["id"], "to": next_q["id"]}, auth=auth)
    assert [e["code"] for e in _problems(same, "rollForward")] == ["INVALID"]
    by_manager = await gql(
        client, ROLL, {"from": gid("Cycle", quarter.id)}, auth=company.token("manager")
    )
    assert [e["code"] for e in _problems(by_manager, "rollForward")] == ["FORBIDDEN"]
    no_next = await gql(client, ROLL, {"from": next_q["id"]}, auth=auth)
    assert [e["field"] for e in _problems(no_next, "rollForward")] == ["toCycleId"]


def _row_id(global_id: str) -> str:
    return relay.GlobalID.from_id(global_id).node_id


async def test_roll_forward_of_chosen_objectives_brings_their_subtrees(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    scope, auth = company.scope, company.token()
    chain = await build_chain(company, depth=3, width=2)
    middle = chain["objectives"][2]  # a second-level objective with two children
    target = await cycles.create_cycle(
        scope,
        name="2027Q1",
        kind=CycleKind.QUARTER,
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 3, 31),
    )
    body = await gql(
        client,
        ROLL,
        {
            "from": gid("Cycle", company.cycle.id),
            "to": gid("Cycle", target.id),
            "ids": [gid("Objective", middle.id)],
        },
        auth=auth,
    )
    assert _problems(body, "rollForward") == []
    copies = body["data"]["rollForward"]["objectives"]
    assert [c["rolledFrom"]["title"] for c in copies] == ["目标 1.0", "目标 2.0", "目标 2.1"]
    top = copies[0]
    assert (top["level"], top["parent"]) == (0, None)  # its parent stayed behind
    assert [c["parent"]["id"] for c in copies[1:]] == [top["id"], top["id"]]
    assert [len(c["keyResults"]) for c in copies] == [0, 1, 1]

    foreign = await gql(
        client,
        ROLL,
        {
            "from": gid("Cycle", target.id),
            "to": gid("Cycle", company.cycle.id),
            "ids": [gid("Objective", middle.id)],
        },
        auth=auth,
    )
    assert [e["field"] for e in _problems(foreign, "rollForward")] == ["objectiveIds"]


async def _rolled_statements(slug: str, depth: int, width: int) -> tuple[int, int]:
    company = await make_company(slug)
    chain = await build_chain(company, depth=depth, width=width)
    target = await cycles.create_cycle(
        company.scope,
        name="2027Q1",
        kind=CycleKind.QUARTER,
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 3, 31),
    )
    with count_statements() as statements:
        copies = await cycles.roll_forward(
            company.scope, from_cycle_id=company.cycle.id, to_cycle_id=target.id
        )
    assert len(copies) == len(chain["objectives"])
    return len(copies), len(statements)


async def test_roll_forward_costs_the_same_statements_for_3_and_30_objectives(
    client: httpx.AsyncClient,
) -> None:
    small, small_statements = await _rolled_statements("small", 3, 1)  # a chain of 3
    large, large_statements = await _rolled_statements("large", 2, 5)  # 5 + 25
    assert (small, large) == (3, 30)
    assert small_statements == large_statements
