"""Goal health (on track, at risk, missed): the rule, and the same answer in a tree."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from strawberry import relay

from goalgraph.core.enums import Direction, GoalHealth
from goalgraph.core.models import Kpi
from goalgraph.core.progress import grade_health, kpi_health
from goalgraph.core.services import kpis
from goalgraph.core.services.measurements import MeasurementInput, record_measurements

from .factories import build_chain, gql, make_company


def _kpi(value: float | None, direction: Direction, target: float, threshold: float) -> Kpi:
    return Kpi(current_value=value, direction=direction, target=target, threshold=threshold)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2.5, GoalHealth.ON_TRACK),  # faster than the 3 min target
        (3.0, GoalHealth.ON_TRACK),
        (3.5, GoalHealth.AT_RISK),  # slower than target, within the 4 min threshold
        (4.0, GoalHealth.AT_RISK),
        (4.5, GoalHealth.MISSED),
        (None, None),
    ],
)
def test_lower_is_better_kpi(value: float | None, expected: GoalHealth | None) -> None:
    assert kpi_health(_kpi(value, Direction.LOWER_IS_BETTER, 3, 4)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1320, GoalHealth.ON_TRACK),
        (1200, GoalHealth.ON_TRACK),
        (1100, GoalHealth.AT_RISK),  # below the 1,200 target, past the 1,000 threshold
        (900, GoalHealth.MISSED),
    ],
)
def test_higher_is_better_kpi(value: float, expected: GoalHealth) -> None:
    assert kpi_health(_kpi(value, Direction.HIGHER_IS_BETTER, 1200, 1000)) == expected


def test_grades_read_the_okr_way() -> None:
    assert [grade_health(g) for g in (1.0, 0.7, 0.69, 0.4, 0.39, 0.0, None)] == [
        GoalHealth.ON_TRACK,
        GoalHealth.ON_TRACK,
        GoalHealth.AT_RISK,
        GoalHealth.AT_RISK,
        GoalHealth.MISSED,
        GoalHealth.MISSED,
        None,
    ]


TREE = """
fragment F on GoalNode { kind score health ... on Kpi { currentValue } }
query { goalTree { ...F children { ...F children { ...F children { ...F } } } } }
"""

NODE = "query($id: ID!) { node(id: $id) { ... on Kpi { currentValue health } } }"


def _nodes(nodes: list[dict]) -> list[dict]:
    return [n for node in nodes for n in (node, *_nodes(node.get("children") or []))]


async def test_tree_and_single_nodes_answer_the_same_health(client: httpx.AsyncClient) -> None:
    # given a chain whose wait-time KPI (target 3 min, threshold 4) last read 3.5 min
    company = await make_company("acme")
    made = await build_chain(company, depth=1)
    kpi = made["kpis"][0]
    await record_measurements(company.scope, [MeasurementInput(kpi.id, date(2026, 11, 28), 3.5)])
    # when the admin reads the tree
    body = await gql(client, TREE, auth=company.token())
    assert "errors" not in body, body
    nodes = _nodes(body["data"]["goalTree"])
    # then the KPI is at risk, and every graded node's health follows its grade
    (leaf,) = [n for n in nodes if n["kind"] == "KPI"]
    assert leaf["health"] == "AT_RISK"
    for node in nodes:
        if node["kind"] != "KPI":
            expected = grade_health(node["score"])
            assert node["health"] == (expected.name if expected else None), node
    # and the KPI read alone says the same
    alone = await gql(client, NODE, {"id": _global_id(kpi.id)}, auth=company.token())
    assert alone["data"]["node"] == {"currentValue": 3.5, "health": "AT_RISK"}


async def test_a_hidden_kpi_shows_no_health(client: httpx.AsyncClient) -> None:
    # given a KPI of the other clerk's, far below target
    company = await make_company("acme")
    kpi = await kpis.create_kpi(
        company.scope,
        metric_code="customer_wait_time",
        title="顾客等待时间",
        title_en="Customer wait time",
        unit="min",
        direction=Direction.LOWER_IS_BETTER,
        target=3,
        threshold=4,
        owner_person_id=company.other_employee.id,
    )
    await record_measurements(company.scope, [MeasurementInput(kpi.id, date(2026, 11, 28), 9.0)])
    # when a colleague (not above the owner) reads it, health is hidden with the value
    body = await gql(client, NODE, {"id": _global_id(kpi.id)}, auth=company.token("employee"))
    assert body["data"]["node"] == {"currentValue": None, "health": None}, body
    # while the admin sees both
    body = await gql(client, NODE, {"id": _global_id(kpi.id)}, auth=company.token())
    assert body["data"]["node"] == {"currentValue": 9.0, "health": "MISSED"}, body


def _global_id(kpi_id: int) -> str:
    return str(relay.GlobalID("Kpi", str(kpi_id)))
