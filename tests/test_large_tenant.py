"""A tenant with more KPIs than one statement may name: reads and rebuilds still work.

PostgreSQL takes at most 32,767 parameters per statement; a retail chain's whole-tenant
reads (a cycle's values, a tree's KPIs) must never pass one per KPI in a single list.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx

from goalgraph.core.bulk import IN_LIMIT, insert_rows
from goalgraph.core.enums import Aggregation, Direction, Frequency, GoalStatus
from goalgraph.core.models import Kpi, KpiLink, Measurement
from goalgraph.core.scoring.values import span_values

from .factories import build_chain, gql, make_company

MANY = 33_000  # past the parameter limit, and over three IN lists
RECORDED = datetime(2026, 11, 2, 9, tzinfo=UTC)


async def test_span_values_and_the_tree_with_more_kpis_than_parameters(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("chain")
    made = await build_chain(company)
    key_result = made["key_results"][0]
    scope = company.scope
    columns = (
        "metric_code", "title", "title_en", "unit", "direction", "target", "threshold",
        "weight", "frequency", "aggregation", "scoring_policy", "status", "owner_unit_id",
        "origin",
    )  # fmt: skip
    await insert_rows(
        scope,
        Kpi,
        columns,
        (
            (f"m{i}", f"K{i}", "", "", Direction.HIGHER_IS_BETTER, 10.0, 5.0, 1.0,
             Frequency.DAILY, Aggregation.LAST, "linear", GoalStatus.ACTIVE,
             company.store.id, "")
            for i in range(MANY)
        ),
    )  # fmt: skip
    ids = await scope.query(Kpi).filter(metric_code__startswith="m").values_list("id", flat=True)
    assert len(ids) == MANY > 3 * IN_LIMIT
    await insert_rows(
        scope,
        Measurement,
        ("kpi_id", "period_start", "value", "source", "recorded_at"),
        ((i, date(2026, 11, 2), float(i % 7), "test", RECORDED) for i in ids),
    )
    await insert_rows(
        scope,
        KpiLink,
        ("key_result_id", "kpi_id", "weight"),
        ((key_result.id, i, 1.0) for i in ids),
    )
    kpis = await scope.query(Kpi).filter(id__in=ids[:10]).all()
    every = await scope.query(Kpi).filter(metric_code__startswith="m")
    values = await span_values(scope, every, date(2026, 10, 1), date(2026, 12, 31))
    assert len(values) == MANY
    assert all(values[k.id] == float(k.id % 7) for k in kpis)
    body = await gql(
        client,
        "{ goalTree { children { children { children { ... on KeyResult { kpiLinks { weight } } } "
        "} } } }",
        auth=company.token(),
    )
    assert "errors" not in body, body
    links = [
        link
        for o in body["data"]["goalTree"]
        for c in o["children"]
        for g in c["children"]
        for kr in g["children"]
        for link in kr.get("kpiLinks", [])
    ]
    assert len(links) == MANY + 1
