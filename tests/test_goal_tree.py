"""goalTree: nested, complete, and loaded in a constant number of SQL statements."""

from __future__ import annotations

from datetime import date

import httpx

from goalgraph.core.services.measurements import MeasurementInput, record_measurements

from .factories import build_chain, gql, make_company
from .sqlcount import count_statements

TREE = """
fragment Fields on GoalNode { id kind title titleEn progress score
  owner { __typename ... on OrgUnit { name } ... on Person { name } }
  ... on Kpi { currentValue recentMeasurements(days: 7) { value } } }
query Tree($depth: Int) {
  goalTree(depth: $depth) { ...Fields children { ...Fields children { ...Fields
    children { ...Fields children { ...Fields children { ...Fields
      children { ...Fields }
  } } } } } }
}
"""


def _walk(nodes: list[dict], depth: int = 1) -> int:
    """The deepest level reached below ``nodes``."""
    deepest = depth if nodes else depth - 1
    for node in nodes:
        deepest = max(deepest, _walk(node.get("children") or [], depth + 1))
    return deepest


def _kinds(nodes: list[dict]) -> list[str]:
    out = []
    for node in nodes:
        out.append(node["kind"])
        out.extend(_kinds(node.get("children") or []))
    return out


async def test_nested_tree_of_depth_five_comes_back_complete(client: httpx.AsyncClient) -> None:
    # given a chain objective → objective → objective → key result → KPI with values
    company = await make_company("acme")
    made = await build_chain(company, depth=3)
    kpi = made["kpis"][0]
    await record_measurements(
        company.scope, [MeasurementInput(kpi.id, date(2026, 11, d), 3.5) for d in (26, 27, 28)]
    )
    # when the admin asks for the whole tree
    body = await gql(client, TREE, auth=company.token())
    # then every level is there, down to the KPI and its measurements
    assert "errors" not in body, body
    roots = body["data"]["goalTree"]
    assert len(roots) == 1
    assert _walk(roots) == 5
    assert _kinds(roots) == ["OBJECTIVE", "OBJECTIVE", "OBJECTIVE", "KEY_RESULT", "KPI"]
    leaf = roots[0]["children"][0]["children"][0]["children"][0]["children"][0]
    assert leaf["title"] == "顾客等待时间"
    assert leaf["titleEn"] == "Customer wait time"
    assert leaf["currentValue"] == 3.5
    assert [m["value"] for m in leaf["recentMeasurements"]] == [3.5, 3.5, 3.5]
    # lower is better: 3 min target at 3.5 min is 3/3.5 achieved
    assert abs(leaf["progress"] - 3 / 3.5) < 1e-9
    assert roots[0]["owner"] == {"__typename": "OrgUnit", "name": "acme 公司"}
    assert abs(roots[0]["progress"] - 3 / 3.5) < 1e-9


async def test_depth_argument_cuts_the_tree(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    await build_chain(company, depth=3)
    body = await gql(client, TREE, {"depth": 2}, auth=company.token())
    assert _walk(body["data"]["goalTree"]) == 2


async def _statements_for_tree(client: httpx.AsyncClient, auth: str) -> int:
    with count_statements() as statements:
        body = await gql(client, TREE, auth=auth)
    assert "errors" not in body, body
    return len(statements)


async def test_statement_count_does_not_grow_with_tree_size(client: httpx.AsyncClient) -> None:
    # given a small tree (3 objectives) and, in another tenant, a large one (~120 nodes)
    small = await make_company("small")
    few = await build_chain(small, depth=3, width=1)
    large = await make_company("large")
    many = await build_chain(large, depth=3, width=3)
    for company, made in ((small, few), (large, many)):
        await record_measurements(
            company.scope,
            [
                MeasurementInput(k.id, date(2026, 11, d), 3.0)
                for k in made["kpis"]
                for d in (27, 28)
            ],
        )
    assert len(few["objectives"]) == 3
    assert len(many["objectives"]) == 39
    # when each asks for its whole tree
    small_count = await _statements_for_tree(client, small.token())
    large_count = await _statements_for_tree(client, large.token())
    # then both cost the same, small number of statements
    assert small_count == large_count
    assert large_count <= 12
