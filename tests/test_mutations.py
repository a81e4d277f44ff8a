"""Goal mutations: the happy path end to end, typed errors, and nothing half-written."""

from __future__ import annotations

import httpx

from goalgraph.core.models import AuditEvent, CheckIn, KeyResult, Kpi, KpiLink, Objective

from .factories import gid, gql, make_company

CREATE_OBJECTIVE = """mutation($i: CreateObjectiveInput!) {
  createObjective(input: $i) {
    objective { id title level progress } errors { field code message } } }"""
CREATE_KR = """mutation($i: CreateKeyResultInput!) {
  createKeyResult(input: $i) { keyResult { id title owner { __typename ... on OrgUnit { name } } }
  errors { field code message } } }"""
CREATE_KPI = """mutation($i: CreateKpiInput!) {
  createKpi(input: $i) { kpi { id metricCode direction } errors { field code message } } }"""
LINK = """mutation($kr: ID!, $kpi: ID!, $w: Float!) {
  linkKpi(keyResultId: $kr, kpiId: $kpi, weight: $w) {
    link { weight kpi { metricCode } keyResult { title } } errors { field code } } }"""
CHECK_IN = """mutation($i: CheckInInput!) {
  checkIn(input: $i) { checkIn { value confidence note author { name } }
  keyResult { currentValue progress } errors { field code } } }"""


async def test_build_a_goal_chain_through_the_api(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    admin = company.token()
    top = await gql(
        client,
        CREATE_OBJECTIVE,
        {
            "i": {
                "title": "年度营收增长20%",
                "titleEn": "Grow revenue 20%",
                "cycleId": gid("Cycle", company.cycle.id),
                "ownerUnitId": gid("OrgUnit", company.root.id),
            }
        },
        auth=admin,
    )
    top_id = top["data"]["createObjective"]["objective"]["id"]
    region = await gql(
        client,
        CREATE_OBJECTIVE,
        {
            "i": {
                "title": "华东区营收增长20%",
                "cycleId": gid("Cycle", company.cycle.id),
                "ownerUnitId": gid("OrgUnit", company.region.id),
                "parentId": top_id,
            }
        },
        auth=admin,
    )
    region_obj = region["data"]["createObjective"]["objective"]
    assert region_obj["level"] == 1
    kr = await gql(
        client,
        CREATE_KR,
        {
            "i": {
                "objectiveId": region_obj["id"],
                "title": "季度销售额达500万",
                "targetValue": 5e6,
                "unit": "CNY",
                "ownerUnitId": gid("OrgUnit", company.store.id),
            }
        },
        auth=admin,
    )
    key_result = kr["data"]["createKeyResult"]["keyResult"]
    assert key_result["owner"] == {"__typename": "OrgUnit", "name": "一号店"}
    kpi = await gql(
        client,
        CREATE_KPI,
        {
            "i": {
                "metricCode": "store_daily_sales",
                "title": "日销售额",
                "target": 55000,
                "threshold": 50000,
                "ownerUnitId": gid("OrgUnit", company.store.id),
            }
        },
        auth=admin,
    )
    kpi_id = kpi["data"]["createKpi"]["kpi"]["id"]
    link = await gql(client, LINK, {"kr": key_result["id"], "kpi": kpi_id, "w": 2.0}, auth=admin)
    assert link["data"]["linkKpi"] == {
        "link": {
            "weight": 2.0,
            "kpi": {"metricCode": "store_daily_sales"},
            "keyResult": {"title": "季度销售额达500万"},
        },
        "errors": [],
    }
    # linking again only changes the weight
    await gql(client, LINK, {"kr": key_result["id"], "kpi": kpi_id, "w": 3.0}, auth=admin)
    assert [link.weight for link in await KpiLink.all()] == [3.0]
    actions = [e.action for e in await AuditEvent.all().order_by("id")]
    assert actions[-2:] == ["kpi.linked", "kpi.link_weight"]


async def test_check_in_moves_a_key_result(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    objective = await gql(
        client,
        CREATE_OBJECTIVE,
        {
            "i": {
                "title": "优化客户体验",
                "cycleId": gid("Cycle", company.cycle.id),
                "ownerUnitId": gid("OrgUnit", company.store.id),
            }
        },
        auth=company.token(),
    )
    kr = await gql(
        client,
        CREATE_KR,
        {
            "i": {
                "objectiveId": objective["data"]["createObjective"]["objective"]["id"],
                "title": "NPS 从30到50",
                "startValue": 30,
                "targetValue": 50,
            }
        },
        auth=company.token(),
    )
    kr_id = kr["data"]["createKeyResult"]["keyResult"]["id"]
    # an employee of the owning store may check in
    body = await gql(
        client,
        CHECK_IN,
        {"i": {"keyResultId": kr_id, "value": 40, "confidence": 0.7, "note": "周会"}},
        auth=company.token("employee"),
    )
    assert body["data"]["checkIn"] == {
        "checkIn": {"value": 40.0, "confidence": 0.7, "note": "周会", "author": {"name": "店员甲"}},
        "keyResult": {"currentValue": 40.0, "progress": 0.5},
        "errors": [],
    }
    # a confidence outside 0..1 is refused and changes nothing
    bad = await gql(
        client,
        CHECK_IN,
        {"i": {"keyResultId": kr_id, "value": 45, "confidence": 7}},
        auth=company.token("employee"),
    )
    assert bad["data"]["checkIn"]["errors"] == [{"field": "confidence", "code": "OUT_OF_RANGE"}]
    assert await CheckIn.all().count() == 1
    assert (await KeyResult.get()).current_value == 40.0


async def test_bad_input_gets_typed_errors_and_changes_nothing(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    before = await AuditEvent.all().count()
    body = await gql(
        client,
        CREATE_KPI,
        {
            "i": {
                "metricCode": " ",
                "title": "",
                "target": 3,
                "threshold": 2,
                "direction": "LOWER_IS_BETTER",
                "weight": -1,
                "ownerUnitId": gid("OrgUnit", company.store.id),
            }
        },
        auth=company.token(),
    )
    payload = body["data"]["createKpi"]
    assert payload["kpi"] is None
    assert {(e["field"], e["code"]) for e in payload["errors"]} == {
        ("metricCode", "REQUIRED"),
        ("title", "REQUIRED"),
        ("weight", "OUT_OF_RANGE"),
    }
    threshold = await gql(
        client,
        CREATE_KPI,
        {
            "i": {
                "metricCode": "wait",
                "title": "等待",
                "target": 3,
                "threshold": 2,
                "direction": "LOWER_IS_BETTER",
                "ownerUnitId": gid("OrgUnit", company.store.id),
            }
        },
        auth=company.token(),
    )
    assert [e["field"] for e in threshold["data"]["createKpi"]["errors"]] == ["threshold"]
    both_owners = await gql(
        client,
        CREATE_OBJECTIVE,
        {
            "i": {
                "title": "x",
                "cycleId": gid("Cycle", company.cycle.id),
                "ownerUnitId": gid("OrgUnit", company.store.id),
                "ownerPersonId": gid("Person", company.employee.id),
            }
        },
        auth=company.token(),
    )
    assert both_owners["data"]["createObjective"]["errors"][0]["code"] == "INVALID"
    wrong_kind = await gql(
        client,
        CREATE_OBJECTIVE,
        {
            "i": {
                "title": "x",
                "cycleId": gid("OrgUnit", company.store.id),
                "ownerUnitId": gid("OrgUnit", company.store.id),
            }
        },
        auth=company.token(),
    )
    assert wrong_kind["data"]["createObjective"]["errors"] == [
        {"field": "cycleId", "code": "INVALID", "message": "cycleId is not an id of a Cycle"}
    ]
    assert await Kpi.all().count() == 0
    assert await Objective.all().count() == 0
    assert await AuditEvent.all().count() == before


async def test_an_objective_cannot_align_under_its_own_subtree(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    ids = []
    parent = None
    for title in ("A", "B", "C"):
        body = await gql(
            client,
            CREATE_OBJECTIVE,
            {
                "i": {
                    "title": title,
                    "cycleId": gid("Cycle", company.cycle.id),
                    "ownerUnitId": gid("OrgUnit", company.root.id),
                    "parentId": parent,
                }
            },
            auth=company.token(),
        )
        parent = body["data"]["createObjective"]["objective"]["id"]
        ids.append(parent)
    update = """mutation($i: UpdateObjectiveInput!) {
      updateObjective(input: $i) { objective { level } errors { field code } } }"""
    loop = await gql(
        client, update, {"i": {"id": ids[0], "parentId": ids[2]}}, auth=company.token()
    )
    assert loop["data"]["updateObjective"]["errors"] == [
        {"field": "parentId", "code": "ALIGNMENT_LOOP"}
    ]
    # moving C to the top re-roots it; moving B to the top carries C along
    moved = await gql(client, update, {"i": {"id": ids[1], "parentId": None}}, auth=company.token())
    assert moved["data"]["updateObjective"]["objective"]["level"] == 0
    rows = {o.title: o for o in await Objective.all()}
    assert rows["C"].depth == 1
    assert rows["C"].path == f"/{rows['B'].id}/{rows['C'].id}/"


async def test_roles_limit_who_may_change_goals(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    data = {
        "i": {
            "title": "个人目标",
            "cycleId": gid("Cycle", company.cycle.id),
            "ownerUnitId": gid("OrgUnit", company.root.id),
        }
    }
    # a region manager may not set the company's objectives
    body = await gql(client, CREATE_OBJECTIVE, data, auth=company.token("manager"))
    assert body["data"]["createObjective"]["errors"][0]["code"] == "FORBIDDEN"
    # but may set the region's and the store's
    data["i"]["ownerUnitId"] = gid("OrgUnit", company.store.id)
    body = await gql(client, CREATE_OBJECTIVE, data, auth=company.token("manager"))
    assert body["data"]["createObjective"]["errors"] == []
    # an employee may own personal objectives only
    data["i"]["ownerUnitId"] = None
    data["i"]["ownerPersonId"] = gid("Person", company.other_employee.id)
    body = await gql(client, CREATE_OBJECTIVE, data, auth=company.token("employee"))
    assert body["data"]["createObjective"]["errors"][0]["code"] == "FORBIDDEN"
    data["i"]["ownerPersonId"] = gid("Person", company.employee.id)
    body = await gql(client, CREATE_OBJECTIVE, data, auth=company.token("employee"))
    assert body["data"]["createObjective"]["errors"] == []


async def test_archiving_twice_is_refused(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    created = await gql(
        client,
        CREATE_OBJECTIVE,
        {
            "i": {
                "title": "A",
                "cycleId": gid("Cycle", company.cycle.id),
                "ownerUnitId": gid("OrgUnit", company.root.id),
            }
        },
        auth=company.token(),
    )
    oid = created["data"]["createObjective"]["objective"]["id"]
    archive = (
        "mutation($id: ID!) { archiveObjective(id: $id) { objective { status } errors { code } } }"
    )
    first = await gql(client, archive, {"id": oid}, auth=company.token())
    assert first["data"]["archiveObjective"] == {"objective": {"status": "ARCHIVED"}, "errors": []}
    second = await gql(client, archive, {"id": oid}, auth=company.token())
    assert second["data"]["archiveObjective"]["errors"] == [{"code": "ARCHIVED"}]


async def test_an_update_cannot_clear_a_required_field(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    kpi = await gql(
        client,
        CREATE_KPI,
        {
            "i": {
                "metricCode": "sales",
                "title": "日销售额",
                "target": 100,
                "threshold": 80,
                "ownerUnitId": gid("OrgUnit", company.store.id),
            }
        },
        auth=company.token(),
    )
    update = """mutation($i: UpdateKpiInput!) { updateKpi(input: $i) {
      kpi { title } errors { field code message } } }"""
    body = await gql(
        client,
        update,
        {"i": {"id": kpi["data"]["createKpi"]["kpi"]["id"], "titleEn": None}},
        auth=company.token(),
    )
    assert body["data"]["updateKpi"]["errors"] == [
        {"field": "titleEn", "code": "REQUIRED", "message": "titleEn cannot be null"}
    ]
