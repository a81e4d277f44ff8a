"""People through the API: joiners, changes, leavers and their goals, who reports to
whom (the org tree, explicit and dotted-line managers), and the history that stays."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import httpx

from goalgraph.core.enums import GoalStatus, OrgUnitKind, Role
from goalgraph.core.models import Alert, AuditEvent, Kpi, Measurement, Objective, Person
from goalgraph.core.services import key_results, kpis, objectives, org, people
from goalgraph.core.services.measurements import MeasurementInput, record_measurements

from .factories import Company, gid, gql, make_company, token
from .sqlcount import count_statements

CREATE = """mutation($i: CreatePersonInput!) { createPerson(input: $i) {
  person { id name email code jobTitle role active externalId managerSource
    manager { nameEn } orgUnit { name } }
  errors { field code message } } }"""
UPDATE = """mutation($i: UpdatePersonInput!) { updatePerson(input: $i) {
  person { role code jobTitle managerSource manager { nameEn } orgUnit { name } }
  errors { field code message } } }"""
DEACTIVATE = """mutation($id: ID!, $toPerson: ID, $toUnit: ID) {
  deactivatePerson(id: $id, reassignToPersonId: $toPerson, reassignToUnitId: $toUnit) {
    person { active deactivatedAt } openGoals { kind id title } reassigned
    errors { field code message } } }"""
REASSIGN = """mutation($i: ReassignGoalsInput!) { reassignGoals(input: $i) {
  reassigned errors { field code message } } }"""
REACTIVATE = """mutation($id: ID!) { reactivatePerson(id: $id) {
  person { active deactivatedAt } errors { field code message } } }"""
DOTTED = """mutation($p: ID!, $m: [ID!]!) { setDottedLineManagers(personId: $p, managerIds: $m) {
  person { dottedLineManagers { nameEn } } errors { field code message } } }"""
VIEWER = """{ viewer { person { nameEn } } }"""
KPI = """query($id: ID!) { kpi(id: $id) { valuesVisible currentValue } }"""
CARD = """query($person: ID, $cycle: ID, $at: DateTime) {
  scorecard(personId: $person, cycleId: $cycle, asOf: $at) {
    okrGrade kpiScore combinedScore kpis { score kpi { title } } } }"""
RANKING = """query($unit: ID!, $cycle: ID, $at: DateTime) {
  ranking(orgUnitId: $unit, cycleId: $cycle, asOf: $at) { rank person { nameEn } } }"""


def _person_input(company: Company, **extra: object) -> dict[str, object]:
    return {
        "name": "王芳",
        "orgUnitId": gid("OrgUnit", company.store.id),
        "email": " Wang.Fang@Acme.Example ",
        "code": "E1001",
        "jobTitle": "店员",
        "externalId": "ding-7",
        **extra,
    }


async def _personal_kpi(company: Company, person: Person, value: float, title: str) -> Kpi:
    kpi = await kpis.create_kpi(
        company.scope,
        metric_code="personal_sales",
        title=title,
        target=100,
        threshold=80,
        owner_person_id=person.id,
    )
    await record_measurements(company.scope, [MeasurementInput(kpi.id, date(2026, 11, 2), value)])
    return kpi


async def test_admin_adds_a_person_and_taken_identifiers_are_refused(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    auth = company.token()
    body = await gql(client, CREATE, {"i": _person_input(company)}, auth=auth)
    made = body["data"]["createPerson"]
    assert made["errors"] == []
    assert made["person"] | {"id": None} == {
        "id": None,
        "name": "王芳",
        "email": "wang.fang@acme.example",
        "code": "E1001",
        "jobTitle": "店员",
        "role": "EMPLOYEE",
        "active": True,
        "externalId": "ding-7",
        "managerSource": "ORG_TREE",
        "manager": {"nameEn": "Region Manager"},
        "orgUnit": {"name": "一号店"},
    }
    event = await AuditEvent.filter(action="person.created").order_by("-id").first()
    assert event is not None
    assert event.after["email"] == "wang.fang@acme.example"
    assert event.after["org_unit_id"] == company.store.id
    # the same employee number, email (in any case) and directory id are refused at once
    body = await gql(
        client,
        CREATE,
        {"i": _person_input(company, email="WANG.FANG@acme.example", name="王芳二")},
        auth=auth,
    )
    errors = body["data"]["createPerson"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [
        ("code", "CONFLICT"),
        ("email", "CONFLICT"),
        ("externalId", "CONFLICT"),
    ]
    body = await gql(
        client,
        CREATE,
        {"i": {"name": " ", "orgUnitId": gid("OrgUnit", company.store.id), "email": "not-mail"}},
        auth=auth,
    )
    assert [(e["field"], e["code"]) for e in body["data"]["createPerson"]["errors"]] == [
        ("name", "REQUIRED"),
        ("email", "INVALID"),
    ]
    assert await Person.filter(tenant_id=company.tenant.id).count() == 5


async def test_update_moves_a_person_and_names_an_explicit_manager(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    auth = company.token()
    store2 = await org.create_org_unit(
        company.scope, name="二号店", kind=OrgUnitKind.STORE, parent_id=company.region.id
    )
    lead = await org.create_person(
        company.scope, name="督导", name_en="Supervisor", org_unit_id=company.root.id
    )
    employee = gid("Person", company.employee.id)
    body = await gql(
        client,
        UPDATE,
        {
            "i": {
                "id": employee,
                "orgUnitId": gid("OrgUnit", store2.id),
                "managerId": gid("Person", lead.id),
                "role": "MANAGER",
                "jobTitle": "店长",
                "code": "E7",
            }
        },
        auth=auth,
    )
    assert body["data"]["updatePerson"] == {
        "person": {
            "role": "MANAGER",
            "code": "E7",
            "jobTitle": "店长",
            "managerSource": "EXPLICIT",
            "manager": {"nameEn": "Supervisor"},
            "orgUnit": {"name": "二号店"},
        },
        "errors": [],
    }
    event = await AuditEvent.filter(action="person.updated", entity_id=company.employee.id).get()
    assert event.before == {
        "code": None,
        "job_title": "",
        "role": "employee",
        "org_unit_id": company.store.id,
        "manager_id": None,
    }
    assert event.after == {
        "code": "E7",
        "job_title": "店长",
        "role": "manager",
        "org_unit_id": store2.id,
        "manager_id": lead.id,
    }
    # back to the org tree's manager: the region's
    body = await gql(client, UPDATE, {"i": {"id": employee, "managerId": None}}, auth=auth)
    assert body["data"]["updatePerson"]["person"]["managerSource"] == "ORG_TREE"
    assert body["data"]["updatePerson"]["person"]["manager"] == {"nameEn": "Region Manager"}


async def test_manager_loops_self_management_and_leavers_as_managers_are_refused(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    auth = company.token()
    employee, manager = gid("Person", company.employee.id), gid("Person", company.manager.id)
    await gql(client, UPDATE, {"i": {"id": employee, "managerId": manager}}, auth=auth)
    before = await AuditEvent.all().count()
    body = await gql(client, UPDATE, {"i": {"id": manager, "managerId": employee}}, auth=auth)
    assert body["data"]["updatePerson"]["errors"] == [
        {
            "field": "managerId",
            "code": "MANAGER_LOOP",
            "message": "this would make a loop of managers: 区经理 → 店员甲 → 区经理",
        }
    ]
    body = await gql(client, UPDATE, {"i": {"id": employee, "managerId": employee}}, auth=auth)
    assert body["data"]["updatePerson"]["errors"][0]["code"] == "MANAGER_LOOP"
    await gql(client, DEACTIVATE, {"id": gid("Person", company.other_employee.id)}, auth=auth)
    after_leaving = await AuditEvent.all().count()
    body = await gql(
        client,
        UPDATE,
        {"i": {"id": employee, "managerId": gid("Person", company.other_employee.id)}},
        auth=auth,
    )
    assert body["data"]["updatePerson"]["errors"][0]["code"] == "INACTIVE"
    assert await AuditEvent.all().count() == after_leaving > before


async def test_only_admins_change_people_and_other_tenants_ids_are_not_found(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    other = await make_company("globex")
    for who in ("manager", "employee"):
        body = await gql(client, CREATE, {"i": _person_input(company)}, auth=company.token(who))
        assert body["data"]["createPerson"]["errors"][0]["code"] == "FORBIDDEN"
        body = await gql(
            client,
            DEACTIVATE,
            {"id": gid("Person", company.other_employee.id)},
            auth=company.token(who),
        )
        assert body["data"]["deactivatePerson"]["errors"][0]["code"] == "FORBIDDEN"
    auth = company.token()
    foreign = gid("Person", other.employee.id)
    body = await gql(client, UPDATE, {"i": {"id": foreign, "name": "x"}}, auth=auth)
    assert body["data"]["updatePerson"]["errors"][0]["code"] == "NOT_FOUND"
    body = await gql(client, DEACTIVATE, {"id": foreign}, auth=auth)
    assert body["data"]["deactivatePerson"]["errors"][0]["code"] == "NOT_FOUND"
    body = await gql(
        client,
        UPDATE,
        {
            "i": {
                "id": gid("Person", company.employee.id),
                "managerId": gid("Person", other.manager.id),
            }
        },
        auth=auth,
    )
    assert body["data"]["updatePerson"]["errors"] == [
        {"field": "managerId", "code": "NOT_FOUND", "message": "manager not found"}
    ]
    body = await gql(
        client, DOTTED, {"p": gid("Person", company.employee.id), "m": [foreign]}, auth=auth
    )
    assert body["data"]["setDottedLineManagers"]["errors"][0]["code"] == "NOT_FOUND"
    assert await Person.filter(tenant_id=other.tenant.id, active=False).count() == 0


async def _owned_goals(company: Company) -> tuple[Objective, Kpi]:
    objective = await objectives.create_objective(
        company.scope,
        title="个人成长",
        cycle_id=company.cycle.id,
        owner_person_id=company.employee.id,
    )
    await key_results.create_key_result(
        company.scope,
        objective_id=objective.id,
        title="完成三门课程",
        target_value=3,
        owner_person_id=company.employee.id,
    )
    kpi = await _personal_kpi(company, company.employee, 90, "个人销售额")
    return objective, kpi


async def test_a_leaver_hands_over_open_goals_and_keeps_their_history(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    objective, kpi = await _owned_goals(company)
    auth, employee_auth = company.token(), company.token("employee")
    cycle = gid("Cycle", company.cycle.id)
    who = {"person": gid("Person", company.employee.id), "cycle": cycle}
    card_before = (await gql(client, CARD, who, auth=auth))["data"]["scorecard"]
    assert card_before["kpis"] == [{"score": 0.9, "kpi": {"title": "个人销售额"}}]
    assert (await gql(client, VIEWER, auth=employee_auth))["_status"] == 200
    await asyncio.sleep(0.01)
    at = datetime.now(UTC).isoformat()
    await asyncio.sleep(0.01)
    # when the admin deactivates the clerk, handing their goals to their colleague
    body = await gql(
        client,
        DEACTIVATE,
        {
            "id": gid("Person", company.employee.id),
            "toPerson": gid("Person", company.other_employee.id),
        },
        auth=auth,
    )
    done = body["data"]["deactivatePerson"]
    assert done["errors"] == []
    assert done["person"]["active"] is False
    assert done["person"]["deactivatedAt"] is not None
    assert [(g["kind"], g["title"]) for g in done["openGoals"]] == [
        ("OBJECTIVE", "个人成长"),
        ("KEY_RESULT", "完成三门课程"),
        ("KPI", "个人销售额"),
    ]
    assert done["openGoals"][0]["id"] == gid("Objective", objective.id)
    assert done["reassigned"] == 3
    # then the goals are the colleague's, each hand-over audited
    assert (await Kpi.get(id=kpi.id)).owner_person_id == company.other_employee.id
    assert (await Objective.get(id=objective.id)).owner_person_id == company.other_employee.id
    handed = await AuditEvent.filter(action__endswith=".reassigned").order_by("id")
    assert [e.action for e in handed] == [
        "objective.reassigned",
        "key_result.reassigned",
        "kpi.reassigned",
    ]
    assert handed[-1].before == {"owner_unit_id": None, "owner_person_id": company.employee.id}
    # the leaver's token is refused
    refused = await gql(client, VIEWER, auth=employee_auth)
    assert refused["_status"] == 401
    assert refused["errors"][0]["message"] == "this person has been deactivated"
    # their measurements stay, and their scorecard as of before they left is what it was
    assert await Measurement.filter(kpi_id=kpi.id).count() == 1
    past = (await gql(client, CARD, {**who, "at": at}, auth=auth))["data"]["scorecard"]
    assert past == card_before
    now = (await gql(client, CARD, who, auth=auth))["data"]["scorecard"]
    assert now["kpis"] == []
    # a leaver leaves rankings; reactivated, they are back and their token works again
    ranked = await gql(
        client, RANKING, {"unit": gid("OrgUnit", company.store.id), "cycle": cycle}, auth=auth
    )
    assert [r["person"]["nameEn"] for r in ranked["data"]["ranking"]] == ["Clerk B"]
    body = await gql(client, REACTIVATE, {"id": gid("Person", company.employee.id)}, auth=auth)
    assert body["data"]["reactivatePerson"] == {
        "person": {"active": True, "deactivatedAt": None},
        "errors": [],
    }
    assert (await gql(client, VIEWER, auth=employee_auth))["data"]["viewer"]["person"] == {
        "nameEn": "Clerk A"
    }
    actions = [
        e.action
        for e in await AuditEvent.filter(entity_type="person", entity_id=company.employee.id)
    ]
    assert actions[-2:] == ["person.deactivated", "person.reactivated"]


async def test_goals_can_be_handed_over_later_some_at_a_time(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    objective, kpi = await _owned_goals(company)
    auth = company.token()
    person = gid("Person", company.employee.id)
    body = await gql(client, DEACTIVATE, {"id": person}, auth=auth)
    assert body["data"]["deactivatePerson"]["reassigned"] == 0
    assert len(body["data"]["deactivatePerson"]["openGoals"]) == 3
    # refusals: two targets, a deactivated target, a goal that is not theirs
    store, other = gid("OrgUnit", company.store.id), gid("Person", company.other_employee.id)
    body = await gql(
        client,
        REASSIGN,
        {"i": {"personId": person, "toPersonId": other, "toUnitId": store}},
        auth=auth,
    )
    assert body["data"]["reassignGoals"]["errors"][0]["code"] == "INVALID"
    body = await gql(client, REASSIGN, {"i": {"personId": person, "toPersonId": person}}, auth=auth)
    assert body["data"]["reassignGoals"]["errors"][0]["code"] == "INVALID"
    foreign_goal = await kpis.create_kpi(
        company.scope,
        metric_code="x",
        title="别人的",
        target=1,
        threshold=1,
        owner_unit_id=company.store.id,
    )
    body = await gql(
        client,
        REASSIGN,
        {"i": {"personId": person, "toUnitId": store, "goalIds": [gid("Kpi", foreign_goal.id)]}},
        auth=auth,
    )
    assert body["data"]["reassignGoals"]["errors"][0]["field"] == "goalIds"
    # the KPI goes to the store, then the rest to the colleague
    body = await gql(
        client,
        REASSIGN,
        {"i": {"personId": person, "toUnitId": store, "goalIds": [gid("Kpi", kpi.id)]}},
        auth=auth,
    )
    assert body["data"]["reassignGoals"] == {"reassigned": 1, "errors": []}
    moved = await Kpi.get(id=kpi.id)
    assert (moved.owner_unit_id, moved.owner_person_id) == (company.store.id, None)
    body = await gql(client, REASSIGN, {"i": {"personId": person, "toPersonId": other}}, auth=auth)
    assert body["data"]["reassignGoals"] == {"reassigned": 2, "errors": []}
    assert (await Objective.get(id=objective.id)).owner_person_id == company.other_employee.id
    body = await gql(client, DEACTIVATE, {"id": person}, auth=auth)
    assert body["data"]["deactivatePerson"]["errors"][0]["code"] == "INACTIVE"
    assert (
        await Objective.filter(
            status=GoalStatus.ACTIVE, owner_person_id=company.employee.id
        ).count()
        == 0
    )


async def test_dotted_and_explicit_managers_see_a_reports_values_a_peer_does_not(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    kpi = await _personal_kpi(company, company.employee, 90, "个人销售额")
    alert = await company.scope.create(
        Alert,
        kpi_id=kpi.id,
        owner_person_id=company.employee.id,
        owner_path=company.store.path,
        misses=3,
    )
    # a category lead at head office (no manager role) and a second store's clerk
    lead = await org.create_person(
        company.scope, name="品类主管", name_en="Category Lead", org_unit_id=company.root.id
    )
    coach = await org.create_person(
        company.scope, name="教练", name_en="Coach", org_unit_id=company.root.id
    )
    auth = company.token()
    body = await gql(
        client,
        DOTTED,
        {"p": gid("Person", company.employee.id), "m": [gid("Person", lead.id)]},
        auth=auth,
    )
    assert body["data"]["setDottedLineManagers"] == {
        "person": {"dottedLineManagers": [{"nameEn": "Category Lead"}]},
        "errors": [],
    }
    await gql(
        client,
        UPDATE,
        {"i": {"id": gid("Person", company.employee.id), "managerId": gid("Person", coach.id)}},
        auth=auth,
    )
    variables = {"id": gid("Kpi", kpi.id)}
    card = {"person": gid("Person", company.employee.id), "cycle": gid("Cycle", company.cycle.id)}
    alerts = """{ alerts { misses } }"""
    for person in (lead, coach):
        auth_as = token(company.tenant, Role.EMPLOYEE, person)
        seen = await gql(client, KPI, variables, auth=auth_as)
        assert seen["data"]["kpi"] == {"valuesVisible": True, "currentValue": 90.0}
        scorecard = await gql(client, CARD, card, auth=auth_as)
        assert scorecard["data"]["scorecard"]["kpiScore"] == 0.9
        assert (await gql(client, alerts, auth=auth_as))["data"]["alerts"] == [
            {"misses": alert.misses}
        ]
    peer = company.token("other_employee")
    assert (await gql(client, KPI, variables, auth=peer))["data"]["kpi"] == {
        "valuesVisible": False,
        "currentValue": None,
    }
    assert (await gql(client, CARD, card, auth=peer))["errors"][0]["extensions"][
        "code"
    ] == "FORBIDDEN"
    assert (await gql(client, alerts, auth=peer))["data"]["alerts"] == []
    # when the dotted line ends, the lead no longer sees them
    await gql(client, DOTTED, {"p": gid("Person", company.employee.id), "m": []}, auth=auth)
    seen = await gql(client, KPI, variables, auth=token(company.tenant, Role.EMPLOYEE, lead))
    assert seen["data"]["kpi"]["valuesVisible"] is False
    events = await AuditEvent.filter(action="person.dotted_lines_changed").order_by("id")
    assert [(e.before, e.after) for e in events] == [
        ({"dotted_line_manager_ids": []}, {"dotted_line_manager_ids": [lead.id]}),
        ({"dotted_line_manager_ids": [lead.id]}, {"dotted_line_manager_ids": []}),
    ]


async def test_a_moved_person_keeps_their_scorecard_as_of_before_the_move(
    client: httpx.AsyncClient,
) -> None:
    # given two stores with KPIs of their own, and the first store's manager
    company = await make_company("acme")
    store2 = await org.create_org_unit(
        company.scope,
        name="二号店",
        name_en="Store 2",
        kind=OrgUnitKind.STORE,
        parent_id=company.region.id,
    )
    store_manager = await org.create_person(
        company.scope,
        name="店长",
        name_en="Store Manager",
        role=Role.MANAGER,
        org_unit_id=company.store.id,
    )
    for unit, value, title in ((company.store, 950, "一号店销售额"), (store2, 500, "二号店销售额")):
        kpi = await kpis.create_kpi(
            company.scope,
            metric_code="store_sales",
            title=title,
            target=1000,
            threshold=800,
            owner_unit_id=unit.id,
        )
        await record_measurements(
            company.scope, [MeasurementInput(kpi.id, date(2026, 11, 2), value)]
        )
    await _personal_kpi(company, store_manager, 70, "店长个人销售额")
    auth = company.token()
    cycle = gid("Cycle", company.cycle.id)
    theirs = {"person": gid("Person", store_manager.id), "cycle": cycle}
    managers = {"person": gid("Person", company.manager.id), "cycle": cycle}
    before = (await gql(client, CARD, theirs, auth=auth))["data"]["scorecard"]
    managers_before = (await gql(client, CARD, managers, auth=auth))["data"]["scorecard"]
    ranking_store1 = {"unit": gid("OrgUnit", company.store.id), "cycle": cycle}
    ranked_before = (await gql(client, RANKING, ranking_store1, auth=auth))["data"]["ranking"]
    assert [k["kpi"]["title"] for k in before["kpis"]] == ["一号店销售额", "店长个人销售额"]
    await asyncio.sleep(0.01)
    at = datetime.now(UTC).isoformat()
    await asyncio.sleep(0.01)
    # when the store manager moves to the second store
    body = await gql(
        client,
        UPDATE,
        {"i": {"id": gid("Person", store_manager.id), "orgUnitId": gid("OrgUnit", store2.id)}},
        auth=auth,
    )
    assert body["data"]["updatePerson"]["errors"] == []
    # then today they answer for the second store
    now = (await gql(client, CARD, theirs, auth=auth))["data"]["scorecard"]
    assert [k["kpi"]["title"] for k in now["kpis"]] == ["二号店销售额", "店长个人销售额"]
    assert now != before
    ranked_now = (await gql(client, RANKING, ranking_store1, auth=auth))["data"]["ranking"]
    assert "Store Manager" not in [r["person"]["nameEn"] for r in ranked_now]
    # but as of before the move everything reads as it did then
    past = (await gql(client, CARD, {**theirs, "at": at}, auth=auth))["data"]["scorecard"]
    assert past == before
    managers_past = (await gql(client, CARD, {**managers, "at": at}, auth=auth))["data"][
        "scorecard"
    ]
    assert managers_past == managers_before
    ranked_past = (await gql(client, RANKING, {**ranking_store1, "at": at}, auth=auth))["data"]
    assert ranked_past["ranking"] == ranked_before


async def test_after_a_unit_moves_rankings_as_of_before_still_place_it_where_it_was(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    west = await org.create_org_unit(
        company.scope, name="西区", kind=OrgUnitKind.REGION, parent_id=company.root.id
    )
    await _personal_kpi(company, company.employee, 90, "个人销售额")
    auth = company.token()
    cycle = gid("Cycle", company.cycle.id)
    east = {"unit": gid("OrgUnit", company.region.id), "cycle": cycle}
    before = (await gql(client, RANKING, east, auth=auth))["data"]["ranking"]
    await asyncio.sleep(0.01)
    at = datetime.now(UTC).isoformat()
    await asyncio.sleep(0.01)
    await org.move_org_unit(company.scope, company.store.id, parent_id=west.id)
    now = (await gql(client, RANKING, east, auth=auth))["data"]["ranking"]
    assert [r["person"]["nameEn"] for r in now] == ["Region Manager"]
    past = (await gql(client, RANKING, {**east, "at": at}, auth=auth))["data"]["ranking"]
    assert past == before
    assert [r["person"]["nameEn"] for r in past] == ["Clerk A", "Region Manager", "Clerk B"]


PEOPLE = """query($first: Int) { people(first: $first) { totalCount edges { node {
  name jobTitle active managerSource manager { name } dottedLineManagers { name }
  reports { name } orgUnit { name } } } } }"""


async def _people_list_statements(client: httpx.AsyncClient, company: Company, n: int) -> int:
    """Statements for a list of ``n`` clerks across stores, half with explicit managers
    and dotted lines, besides the company's own four people."""
    lead = await org.create_person(
        company.scope, name="主管", role=Role.MANAGER, org_unit_id=company.root.id
    )
    stores = [company.store]
    for s in range(3):
        store = await org.create_org_unit(
            company.scope, name=f"店{s}", kind=OrgUnitKind.STORE, parent_id=company.region.id
        )
        await org.create_person(
            company.scope, name=f"店长{s}", role=Role.MANAGER, org_unit_id=store.id
        )
        stores.append(store)
    for i in range(n):
        person = await org.create_person(
            company.scope,
            name=f"店员{i}",
            org_unit_id=stores[i % len(stores)].id,
            manager_id=lead.id if i % 2 else None,
        )
        if i % 2:
            await people.set_dotted_lines(company.scope, person.id, [company.manager.id])
    with count_statements() as statements:
        body = await gql(client, PEOPLE, {"first": 100}, auth=company.token())
    assert "errors" not in body, body
    assert body["data"]["people"]["totalCount"] == n + 8
    return len(statements)


async def test_a_list_of_fifty_people_with_managers_costs_what_five_cost(
    client: httpx.AsyncClient,
) -> None:
    few = await _people_list_statements(client, await make_company("few"), 5)
    many = await _people_list_statements(client, await make_company("many"), 50)
    assert few == many, (few, many)


async def test_managers_and_reports_follow_the_org_tree_unless_named(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    store_manager = await org.create_person(
        company.scope,
        name="店长",
        name_en="Store Manager",
        role=Role.MANAGER,
        org_unit_id=company.store.id,
    )
    lead = await org.create_person(
        company.scope, name="督导", name_en="Supervisor", org_unit_id=company.root.id
    )
    await people.update_person(company.scope, company.other_employee.id, {"manager_id": lead.id})
    query = """query($id: ID!) { node(id: $id) { ... on Person { nameEn managerSource
      manager { nameEn } reports { nameEn } } } }"""

    async def person(row: Person) -> dict[str, object]:
        body = await gql(client, query, {"id": gid("Person", row.id)}, auth=company.token())
        return body["data"]["node"]

    assert await person(company.employee) == {
        "nameEn": "Clerk A",
        "managerSource": "ORG_TREE",
        "manager": {"nameEn": "Store Manager"},
        "reports": [],
    }
    assert (await person(store_manager))["manager"] == {"nameEn": "Region Manager"}
    assert (await person(store_manager))["reports"] == [{"nameEn": "Clerk A"}]
    assert (await person(company.manager))["reports"] == [{"nameEn": "Store Manager"}]
    assert (await person(lead))["reports"] == [{"nameEn": "Clerk B"}]
    assert (await person(company.other_employee))["managerSource"] == "EXPLICIT"


async def test_people_search_and_leavers_filter(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    await people.update_person(
        company.scope, company.employee.id, {"email": "clerk.a@acme.example", "code": "E-17"}
    )
    await people.deactivate_person(company.scope, company.other_employee.id)
    query = """query($s: String, $all: Boolean!) { people(search: $s, includeInactive: $all) {
      edges { node { nameEn } } } }"""

    async def names(search: str | None, everyone: bool = False) -> list[str]:
        body = await gql(
            client, query, {"s": search, "all": everyone}, auth=company.token("employee")
        )
        return [e["node"]["nameEn"] for e in body["data"]["people"]["edges"]]

    assert await names(None) == ["Admin", "Region Manager", "Clerk A"]
    assert await names(None, everyone=True) == ["Admin", "Region Manager", "Clerk A", "Clerk B"]
    assert await names("e-17") == ["Clerk A"]
    assert await names("ACME.example") == ["Clerk A"]
    assert await names("店员", everyone=True) == ["Clerk A", "Clerk B"]
    assert await names("clerk") == ["Clerk A"]
