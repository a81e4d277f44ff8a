"""Scorecards: hand-checked grades, stage weighting, privacy, rankings, the demo."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from goalgraph.core.enums import Direction, Role
from goalgraph.core.models import Person, Tenant
from goalgraph.core.services import key_results, kpis, objectives
from goalgraph.core.services.measurements import MeasurementInput, record_measurements
from goalgraph.plugins.retail.demo import seed_demo

from .factories import Company, gid, gql, make_company, token

CARD = """query($person: ID, $unit: ID) { scorecard(personId: $person, orgUnitId: $unit) {
  stage okrShare kpiShare okrGrade kpiScore combinedScore
  objectives { grade objective { title } } kpis { score kpi { title } explain { formula } } } }"""
STAGE = """mutation($s: String!) { setLifecycleStage(stage: $s) { errors { code } } }"""


async def _region_goals(company: Company) -> None:
    """A region objective whose key result is fed by two KPIs, weights 0.7 and 0.3."""
    scope = company.scope
    objective = await objectives.create_objective(
        scope, title="华东区营收增长", cycle_id=company.cycle.id, owner_unit_id=company.region.id
    )
    key_result = await key_results.create_key_result(
        scope, objective_id=objective.id, title="销售额", target_value=100
    )
    sales = await kpis.create_kpi(
        scope,
        metric_code="sales",
        title="日销售额",
        target=100,
        threshold=80,
        owner_unit_id=company.region.id,
    )
    wait = await kpis.create_kpi(
        scope,
        metric_code="wait",
        title="等待时间",
        target=3,
        threshold=4,
        direction=Direction.LOWER_IS_BETTER,
        owner_unit_id=company.region.id,
    )
    await kpis.link_kpi(scope, key_result_id=key_result.id, kpi_id=sales.id, weight=0.7)
    await kpis.link_kpi(scope, key_result_id=key_result.id, kpi_id=wait.id, weight=0.3)
    await record_measurements(
        scope,
        [
            MeasurementInput(sales.id, date(2026, 11, 27), 80),
            MeasurementInput(sales.id, date(2026, 11, 28), 100),  # average 90 → 0.9
            MeasurementInput(wait.id, date(2026, 11, 28), 4),  # 3 / 4 → 0.75
            MeasurementInput(sales.id, date(2026, 9, 30), 1000),  # outside the Q4 cycle
        ],
    )


async def test_a_key_result_fed_by_two_kpis_grades_by_hand(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    await _region_goals(company)
    body = await gql(
        client, CARD, {"unit": gid("OrgUnit", company.region.id)}, auth=company.token()
    )
    card = body["data"]["scorecard"]
    assert card["objectives"][0]["grade"] == pytest.approx(0.7 * 0.9 + 0.3 * 0.75)  # 0.855
    explained = await gql(
        client,
        "{ keyResults { edges { node { score explain objective { explain } } } } }",
        auth=company.token(),
    )
    node = explained["data"]["keyResults"]["edges"][0]["node"]
    assert node["explain"] == "(0.7 × 0.9 + 0.3 × 0.75) / 1 = 0.855"
    assert node["objective"]["explain"] == "(1 × 0.855) / 1 = 0.855"
    assert [k["score"] for k in card["kpis"]] == [pytest.approx(0.9), pytest.approx(0.75)]
    assert card["kpis"][0]["explain"]["formula"] == "min(90 / 100 = 0.9, cap 1.2) = 0.9"
    assert card["okrGrade"] == pytest.approx(0.855)
    assert card["kpiScore"] == pytest.approx(0.825)
    assert (card["stage"], card["okrShare"], card["kpiShare"]) == ("growth", 0.5, 0.5)
    assert card["combinedScore"] == pytest.approx(0.5 * 0.855 + 0.5 * 0.825)


async def test_switching_to_mature_reweights_the_manager(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    await _region_goals(company)
    manager = {"person": gid("Person", company.manager.id)}
    before = (await gql(client, CARD, manager, auth=company.token("manager")))["data"]
    await gql(client, STAGE, {"s": "mature"}, auth=company.token())
    after = (await gql(client, CARD, manager, auth=company.token("manager")))["data"]
    card = after["scorecard"]
    assert before["scorecard"]["combinedScore"] == pytest.approx(0.84)
    assert (card["stage"], card["okrShare"], card["kpiShare"]) == ("mature", 0.3, 0.7)
    assert card["combinedScore"] == pytest.approx(0.3 * card["okrGrade"] + 0.7 * card["kpiScore"])
    assert card["combinedScore"] == pytest.approx(0.3 * 0.855 + 0.7 * 0.825)


async def test_a_persons_scores_are_private(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    await _region_goals(company)
    manager = {"person": gid("Person", company.manager.id)}
    body = await gql(client, CARD, manager, auth=company.token("employee"))
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    own = await gql(
        client, CARD, {"person": gid("Person", company.employee.id)}, auth=company.token("employee")
    )
    assert own["data"]["scorecard"]["combinedScore"] is None  # owns nothing yet


async def test_ranking_for_managers_and_admins(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    await _region_goals(company)
    query = """query($unit: ID!) { ranking(orgUnitId: $unit) {
      rank person { nameEn } scorecard { combinedScore } } }"""
    region = {"unit": gid("OrgUnit", company.region.id)}
    body = await gql(client, query, region, auth=company.token("manager"))
    ranking = body["data"]["ranking"]
    assert [(r["rank"], r["person"]["nameEn"]) for r in ranking] == [
        (1, "Region Manager"),
        (None, "Clerk A"),
        (None, "Clerk B"),
    ]
    refused = await gql(client, query, region, auth=company.token("employee"))
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_freshmart_store_manager_from_growth_to_mature(client: httpx.AsyncClient) -> None:
    summary = await seed_demo(date(2026, 11, 28))
    tenant = await Tenant.get(id=summary.tenant_id)
    admin = token(tenant, Role.ADMIN, await Person.get(id=summary.admin_person_id))
    manager = await Person.get(tenant_id=tenant.id, email="sh-xuhui.manager@freshmart.example")
    variables = {"person": gid("Person", manager.id)}
    growth = (await gql(client, CARD, variables, auth=admin))["data"]["scorecard"]
    assert growth["stage"] == "growth"
    assert growth["kpiScore"] is not None
    assert len(growth["kpis"]) == 5  # the store's KPIs, from retail templates
    await gql(client, STAGE, {"s": "mature"}, auth=admin)
    mature = (await gql(client, CARD, variables, auth=admin))["data"]["scorecard"]
    assert growth["okrGrade"] is not None  # the store's key result under its region's OKR
    assert mature["combinedScore"] == pytest.approx(
        0.3 * mature["okrGrade"] + 0.7 * mature["kpiScore"]
    )
    assert growth["combinedScore"] == pytest.approx(
        0.5 * growth["okrGrade"] + 0.5 * growth["kpiScore"]
    )
    assert mature["combinedScore"] != pytest.approx(growth["combinedScore"])
    assert mature["kpiScore"] == pytest.approx(growth["kpiScore"])


SIMULATE = """query($unit: ID!, $stage: String, $o: Float, $k: Float) {
  simulateWeighting(orgUnitId: $unit, stage: $stage, okrShare: $o, kpiShare: $k) {
    stageBefore okrShareBefore stageAfter okrShareAfter kpiShareAfter
    people { person { nameEn } before after rankBefore rankAfter }
    units { orgUnit { nameEn } before after } } }"""


async def test_simulating_a_weighting_saves_nothing(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    await _region_goals(company)
    region = gid("OrgUnit", company.region.id)
    body = await gql(client, SIMULATE, {"unit": region, "stage": "mature"}, auth=company.token())
    sim = body["data"]["simulateWeighting"]
    assert (sim["stageBefore"], sim["okrShareBefore"]) == ("growth", 0.5)
    assert (sim["stageAfter"], sim["okrShareAfter"], sim["kpiShareAfter"]) == ("mature", 0.3, 0.7)
    manager = sim["people"][0]
    assert manager["person"]["nameEn"] == "Region Manager"
    assert manager["before"] == pytest.approx(0.5 * 0.855 + 0.5 * 0.825)
    assert manager["after"] == pytest.approx(0.3 * 0.855 + 0.7 * 0.825)
    assert (manager["rankBefore"], manager["rankAfter"]) == (1, 1)
    units = {u["orgUnit"]["nameEn"]: u for u in sim["units"]}
    assert units["East"]["after"] == pytest.approx(0.3 * 0.855 + 0.7 * 0.825)
    assert units["Store 1"]["after"] is None
    # explicit shares, validated like setStageWeighting
    custom = await gql(client, SIMULATE, {"unit": region, "o": 1.0, "k": 0.0}, auth=company.token())
    assert custom["data"]["simulateWeighting"]["people"][0]["after"] == pytest.approx(0.855)
    bad = await gql(client, SIMULATE, {"unit": region, "o": 0.9, "k": 0.3}, auth=company.token())
    assert bad["errors"][0]["extensions"]["code"] == "INVALID"
    # nothing changed
    tenant = await gql(client, "{ tenant { stage weightings { custom } } }", auth=company.token())
    assert tenant["data"]["tenant"]["stage"] == "growth"
    assert not any(w["custom"] for w in tenant["data"]["tenant"]["weightings"])
    refused = await gql(
        client, SIMULATE, {"unit": region, "stage": "mature"}, auth=company.token("manager")
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_tree_scores_equal_whole_cycle_scores_on_the_demo(
    client: httpx.AsyncClient,
) -> None:
    """A tree scored on its own gives every node exactly the grade the whole cycle gives."""
    summary = await seed_demo(date(2026, 11, 28))
    tenant = await Tenant.get(id=summary.tenant_id)
    admin = token(tenant, Role.ADMIN, await Person.get(id=summary.admin_person_id))
    tree = await gql(
        client,
        """fragment N on GoalNode { id kind score }
      { goalTree { ...N children { ...N children { ...N children { ...N } } } } }""",
        auth=admin,
    )
    in_tree: dict[str, float | None] = {}

    def walk(nodes: list[dict]) -> None:
        for node in nodes:
            if node["kind"] != "KPI":
                in_tree[node["id"]] = node["score"]
            walk(node.get("children") or [])

    walk(tree["data"]["goalTree"])
    lists = await gql(
        client,
        """{ objectives(first: 100) { edges { node { id score } } }
      keyResults(first: 100) { edges { node { id score } } } }""",
        auth=admin,
    )
    whole = {
        e["node"]["id"]: e["node"]["score"]
        for field in ("objectives", "keyResults")
        for e in lists["data"][field]["edges"]
    }
    assert len(in_tree) == len(whole) == 17
    assert in_tree == whole
    assert all(score is not None for score in whole.values())


def test_ties_share_a_rank_and_no_score_has_none() -> None:
    from goalgraph.core.scoring.scorecard import ranks

    assert ranks([0.8, None, 0.9, 0.8, 0.7]) == [2, None, 1, 2, 4]
    assert ranks([]) == []
