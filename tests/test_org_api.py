"""Org units through the API: created, renamed, moved with their whole subtree,
archived only when nothing active is left in them, restored; admins only."""

from __future__ import annotations

from datetime import date

import httpx

from goalgraph.core.enums import OrgUnitKind, Role
from goalgraph.core.models import Alert, AuditEvent, OrgUnit
from goalgraph.core.services import kpis, org
from goalgraph.core.services.measurements import MeasurementInput, record_measurements

from .factories import Company, build_chain, gid, gql, make_company, token
from .sqlcount import count_statements

CREATE = """mutation($i: CreateOrgUnitInput!) { createOrgUnit(input: $i) {
  orgUnit { id name nameEn kind code externalId depth archived parent { name } }
  errors { field code message } } }"""
UPDATE = """mutation($i: UpdateOrgUnitInput!) { updateOrgUnit(input: $i) {
  orgUnit { name nameEn kind code externalId } errors { field code message } } }"""
MOVE = """mutation($id: ID!, $parent: ID!) { moveOrgUnit(id: $id, parentId: $parent) {
  orgUnit { depth parent { name } ancestors { name } } errors { field code message } } }"""
ARCHIVE = """mutation($id: ID!) { archiveOrgUnit(id: $id) {
  orgUnit { archived archivedAt } errors { field code message } } }"""
RESTORE = """mutation($id: ID!) { restoreOrgUnit(id: $id) {
  orgUnit { archived archivedAt } errors { field code message } } }"""
RANKING = """query($unit: ID!, $cycle: ID) { ranking(orgUnitId: $unit, cycleId: $cycle) {
  rank person { nameEn } scorecard { combinedScore } } }"""
UNIT_CARD = """query($unit: ID, $cycle: ID) { scorecard(orgUnitId: $unit, cycleId: $cycle) {
  kpiScore combinedScore kpis { kpi { title } } } }"""
KPI = """query($id: ID!) { kpi(id: $id) { valuesVisible currentValue } }"""


async def _new_region(company: Company, name: str = "西区") -> OrgUnit:
    return await org.create_org_unit(
        company.scope, name=name, name_en=name, kind=OrgUnitKind.REGION, parent_id=company.root.id
    )


async def test_admin_creates_and_renames_units_and_each_change_is_audited(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    auth = company.token()
    # when an admin creates a store under the region
    body = await gql(
        client,
        CREATE,
        {
            "i": {
                "name": "二号店",
                "nameEn": "Store 2",
                "kind": "STORE",
                "parentId": gid("OrgUnit", company.region.id),
                "code": "S002",
                "externalId": "dept-42",
            }
        },
        auth=auth,
    )
    made = body["data"]["createOrgUnit"]
    assert made["errors"] == []
    assert made["orgUnit"] | {"id": None} == {
        "id": None,
        "name": "二号店",
        "nameEn": "Store 2",
        "kind": "STORE",
        "code": "S002",
        "externalId": "dept-42",
        "depth": 2,
        "archived": False,
        "parent": {"name": "华东区"},
    }
    unit_id = made["orgUnit"]["id"]
    # then renames it, clearing its code
    body = await gql(
        client,
        UPDATE,
        {"i": {"id": unit_id, "name": "二号旗舰店", "code": None, "kind": "TEAM"}},
        auth=auth,
    )
    assert body["data"]["updateOrgUnit"] == {
        "orgUnit": {
            "name": "二号旗舰店",
            "nameEn": "Store 2",
            "kind": "TEAM",
            "code": None,
            "externalId": "dept-42",
        },
        "errors": [],
    }
    # and both changes are in the audit trail with what they changed
    events = await AuditEvent.filter(entity_type="org_unit").order_by("id")
    assert [e.action for e in events][-2:] == ["org_unit.created", "org_unit.updated"]
    assert events[-1].before == {"name": "二号店", "kind": "store", "code": "S002"}
    assert events[-1].after == {"name": "二号旗舰店", "kind": "team", "code": None}
    assert events[-1].actor_id == company.admin.id


async def test_taken_codes_and_directory_ids_are_refused_together(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    await org.update_org_unit(
        company.scope, company.store.id, {"code": "S001", "external_id": "d1"}
    )
    before = await AuditEvent.all().count()
    body = await gql(
        client,
        CREATE,
        {
            "i": {
                "name": "重复",
                "kind": "STORE",
                "parentId": gid("OrgUnit", company.region.id),
                "code": "S001",
                "externalId": "d1",
            }
        },
        auth=company.token(),
    )
    errors = body["data"]["createOrgUnit"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [
        ("code", "CONFLICT"),
        ("externalId", "CONFLICT"),
    ]
    body = await gql(
        client,
        UPDATE,
        {"i": {"id": gid("OrgUnit", company.region.id), "code": "S001"}},
        auth=company.token(),
    )
    assert [e["code"] for e in body["data"]["updateOrgUnit"]["errors"]] == ["CONFLICT"]
    # a unit keeps its own code when it is sent again
    body = await gql(
        client,
        UPDATE,
        {"i": {"id": gid("OrgUnit", company.store.id), "code": "S001", "name": "一号店"}},
        auth=company.token(),
    )
    assert body["data"]["updateOrgUnit"]["errors"] == []
    assert await AuditEvent.all().count() == before


async def test_moving_a_unit_rewrites_its_subtree_and_alert_paths(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    west = await _new_region(company)
    team = await org.create_org_unit(
        company.scope, name="收银组", kind=OrgUnitKind.TEAM, parent_id=company.store.id
    )
    kpi = await kpis.create_kpi(
        company.scope,
        metric_code="foot_traffic",
        title="客流量",
        target=1200,
        threshold=1000,
        owner_unit_id=team.id,
    )
    alert = await company.scope.create(
        Alert, kpi_id=kpi.id, owner_unit_id=team.id, owner_path=team.path, misses=3
    )
    other_alert = await company.scope.create(
        Alert,
        kpi_id=kpi.id,
        owner_unit_id=company.region.id,
        owner_path=company.region.path,
        misses=3,
    )
    # when the store moves from the east region to the west
    body = await gql(
        client,
        MOVE,
        {"id": gid("OrgUnit", company.store.id), "parent": gid("OrgUnit", west.id)},
        auth=company.token(),
    )
    assert body["data"]["moveOrgUnit"] == {
        "orgUnit": {
            "depth": 2,
            "parent": {"name": "西区"},
            "ancestors": [{"name": "acme 公司"}, {"name": "西区"}],
        },
        "errors": [],
    }
    # then the store, the team below it and the team's alert carry the new path
    root = company.root.id
    store = await OrgUnit.get(id=company.store.id)
    moved_team = await OrgUnit.get(id=team.id)
    assert (store.path, store.depth) == (f"/{root}/{west.id}/{store.id}/", 2)
    assert (moved_team.path, moved_team.depth) == (f"/{root}/{west.id}/{store.id}/{team.id}/", 3)
    assert (await Alert.get(id=alert.id)).owner_path == moved_team.path
    # the region it left keeps its own
    assert (await Alert.get(id=other_alert.id)).owner_path == company.region.path
    assert (await OrgUnit.get(id=company.region.id)).path == company.region.path
    event = await AuditEvent.get(action="org_unit.moved")
    assert event.before == {
        "parent_id": company.region.id,
        "path": company.region.path + f"{store.id}/",
    }
    assert event.after == {"parent_id": west.id, "path": store.path}


async def _move_statements(client: httpx.AsyncClient, company: Company, units: int) -> int:
    west = await _new_region(company)
    parent = company.store
    for n in range(units):
        parent = await org.create_org_unit(
            company.scope, name=f"组{n}", kind=OrgUnitKind.TEAM, parent_id=parent.id
        )
    variables = {"id": gid("OrgUnit", company.store.id), "parent": gid("OrgUnit", west.id)}
    with count_statements() as statements:
        body = await gql(
            client, MOVE.replace("ancestors { name }", ""), variables, auth=company.token()
        )
    assert body["data"]["moveOrgUnit"]["errors"] == []
    moved = await OrgUnit.filter(path__startswith=f"/{company.root.id}/{west.id}/").count()
    assert moved == units + 2
    return len(statements)


async def test_a_move_costs_the_same_statements_for_any_subtree(
    client: httpx.AsyncClient,
) -> None:
    small = await _move_statements(client, await make_company("small"), 1)
    large = await _move_statements(client, await make_company("large"), 25)
    assert small == large


async def test_moves_that_would_make_a_loop_are_refused(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    auth = company.token()
    region, store = gid("OrgUnit", company.region.id), gid("OrgUnit", company.store.id)
    for unit, parent in ((region, store), (region, region)):
        body = await gql(client, MOVE, {"id": unit, "parent": parent}, auth=auth)
        assert body["data"]["moveOrgUnit"]["errors"] == [
            {
                "field": "parentId",
                "code": "ORG_LOOP",
                "message": "a unit cannot move under itself or one of its own units",
            }
        ]
    body = await gql(
        client, MOVE, {"id": gid("OrgUnit", company.root.id), "parent": region}, auth=auth
    )
    assert body["data"]["moveOrgUnit"]["errors"][0]["code"] == "INVALID"
    assert await AuditEvent.filter(action="org_unit.moved").count() == 0
    assert (await OrgUnit.get(id=company.store.id)).path == company.store.path


async def test_archive_is_refused_while_the_unit_holds_active_people_units_or_goals(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    await build_chain(company, depth=1)  # the store owns a key result and a KPI
    auth = company.token()
    body = await gql(client, ARCHIVE, {"id": gid("OrgUnit", company.store.id)}, auth=auth)
    assert body["data"]["archiveOrgUnit"] == {
        "orgUnit": None,
        "errors": [
            {
                "field": "id",
                "code": "IN_USE",
                "message": "org unit still has 2 active people, 2 active goals it owns; "
                "move or archive them first",
            }
        ],
    }
    body = await gql(client, ARCHIVE, {"id": gid("OrgUnit", company.region.id)}, auth=auth)
    message = body["data"]["archiveOrgUnit"]["errors"][0]["message"]
    assert "1 active person" in message
    assert "1 active unit below it" in message
    # an empty unit archives, leaves the default lists and takes no new units or people
    west = await _new_region(company)
    body = await gql(client, ARCHIVE, {"id": gid("OrgUnit", west.id)}, auth=auth)
    assert body["data"]["archiveOrgUnit"]["orgUnit"]["archived"] is True
    listed = await gql(
        client,
        """query($all: Boolean!) { orgUnits(includeArchived: $all) { totalCount } }""",
        {"all": False},
        auth=auth,
    )
    assert listed["data"]["orgUnits"]["totalCount"] == 3
    body = await gql(
        client,
        CREATE,
        {"i": {"name": "新店", "kind": "STORE", "parentId": gid("OrgUnit", west.id)}},
        auth=auth,
    )
    assert body["data"]["createOrgUnit"]["errors"][0]["code"] == "ARCHIVED"
    # and comes back when restored
    body = await gql(client, RESTORE, {"id": gid("OrgUnit", west.id)}, auth=auth)
    assert body["data"]["restoreOrgUnit"] == {
        "orgUnit": {"archived": False, "archivedAt": None},
        "errors": [],
    }
    actions = [e.action for e in await AuditEvent.filter(entity_id=west.id, entity_type="org_unit")]
    assert actions == ["org_unit.created", "org_unit.archived", "org_unit.restored"]


async def test_only_admins_change_units_and_other_tenants_ids_are_not_found(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    other = await make_company("globex")
    variables = {
        "i": {"name": "新店", "kind": "STORE", "parentId": gid("OrgUnit", company.region.id)}
    }
    for who in ("manager", "employee"):
        body = await gql(client, CREATE, variables, auth=company.token(who))
        assert body["data"]["createOrgUnit"]["errors"][0]["code"] == "FORBIDDEN"
    body = await gql(
        client,
        MOVE,
        {"id": gid("OrgUnit", company.store.id), "parent": gid("OrgUnit", other.region.id)},
        auth=company.token(),
    )
    assert body["data"]["moveOrgUnit"]["errors"] == [
        {"field": "parentId", "code": "NOT_FOUND", "message": "org unit not found"}
    ]
    for mutation, name in ((ARCHIVE, "archiveOrgUnit"), (RESTORE, "restoreOrgUnit")):
        body = await gql(
            client, mutation, {"id": gid("OrgUnit", other.store.id)}, auth=company.token()
        )
        assert body["data"][name]["errors"][0]["code"] == "NOT_FOUND"
    assert await OrgUnit.filter(tenant_id=other.tenant.id, archived_at__isnull=False).count() == 0


async def test_after_a_move_rankings_and_visibility_follow_the_new_parent(
    client: httpx.AsyncClient,
) -> None:
    # given the store's people own KPIs with values, and a second region with its manager
    company = await make_company("acme")
    west = await _new_region(company)
    west_manager = await org.create_person(
        company.scope,
        name="西区经理",
        name_en="West Manager",
        role=Role.MANAGER,
        org_unit_id=west.id,
    )
    own = await kpis.create_kpi(
        company.scope,
        metric_code="personal_sales",
        title="个人销售额",
        target=100,
        threshold=80,
        owner_person_id=company.employee.id,
    )
    store_kpi = await kpis.create_kpi(
        company.scope,
        metric_code="store_sales",
        title="门店销售额",
        target=1000,
        threshold=800,
        owner_unit_id=company.store.id,
    )
    await record_measurements(
        company.scope,
        [
            MeasurementInput(own.id, date(2026, 11, 2), 90),
            MeasurementInput(store_kpi.id, date(2026, 11, 2), 900),
        ],
    )
    cycle = gid("Cycle", company.cycle.id)
    east, west_id = gid("OrgUnit", company.region.id), gid("OrgUnit", west.id)
    store = gid("OrgUnit", company.store.id)
    auth = company.token()

    async def ranked(unit: str) -> list[str]:
        body = await gql(client, RANKING, {"unit": unit, "cycle": cycle}, auth=auth)
        return [r["person"]["nameEn"] for r in body["data"]["ranking"]]

    store_card = (await gql(client, UNIT_CARD, {"unit": store, "cycle": cycle}, auth=auth))["data"]
    assert "Clerk A" in await ranked(east)
    assert "Clerk A" not in await ranked(west_id)
    # when the store moves to the west region
    await gql(client, MOVE, {"id": store, "parent": west_id}, auth=auth)
    # then the west region's ranking holds the store's people with their scores, the
    # east's no longer does
    assert await ranked(west_id) == ["Clerk A", "Clerk B", "West Manager"]
    assert await ranked(east) == ["Region Manager"]
    # the store's own scorecard is what it was: stored scores hang off goals, not paths
    after = (await gql(client, UNIT_CARD, {"unit": store, "cycle": cycle}, auth=auth))["data"]
    assert after == store_card
    assert after["scorecard"]["kpis"] == [{"kpi": {"title": "门店销售额"}}]
    # the west manager now sees the clerk's own KPI values, the east manager no longer
    west_token = token(company.tenant, Role.MANAGER, west_manager)
    seen_west = (await gql(client, KPI, {"id": gid("Kpi", own.id)}, auth=west_token))["data"]
    seen_east = await gql(client, KPI, {"id": gid("Kpi", own.id)}, auth=company.token("manager"))
    assert seen_west["kpi"] == {"valuesVisible": True, "currentValue": 90.0}
    assert seen_east["data"]["kpi"] == {"valuesVisible": False, "currentValue": None}


async def test_org_units_list_with_children_and_people_counts(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    for n in range(3):
        await org.create_org_unit(
            company.scope, name=f"店{n}", kind=OrgUnitKind.STORE, parent_id=company.region.id
        )
    query = """query($parent: ID, $after: String) {
      orgUnits(parentId: $parent, first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { node { name peopleCount children { name } } } } }"""
    first = await gql(
        client, query, {"parent": gid("OrgUnit", company.region.id)}, auth=company.token()
    )
    page = first["data"]["orgUnits"]
    assert page["totalCount"] == 4
    assert [e["node"] for e in page["edges"]] == [
        {"name": "一号店", "peopleCount": 2, "children": []},
        {"name": "店0", "peopleCount": 0, "children": []},
    ]
    second = await gql(
        client,
        query,
        {"parent": gid("OrgUnit", company.region.id), "after": page["pageInfo"]["endCursor"]},
        auth=company.token(),
    )
    assert [e["node"]["name"] for e in second["data"]["orgUnits"]["edges"]] == ["店1", "店2"]
    region = await gql(
        client,
        """query($id: ID!) { orgUnit(id: $id) { children { name } } }""",
        {"id": gid("OrgUnit", company.region.id)},
        auth=company.token("employee"),
    )
    assert [c["name"] for c in region["data"]["orgUnit"]["children"]] == [
        "一号店",
        "店0",
        "店1",
        "店2",
    ]
