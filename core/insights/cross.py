"""Cross-analysis (交叉比对): KPIs and the OKR metrics beside them, period by period.

Under each objective, every KPI feeding one of its key results is set against every
KPI feeding another of them: the first as execution (its attainment per period), the
second as the outcome it should move (its values, oriented so higher is better) — in
the textile case, a workshop's piece-rate attainment against the complaint rate of the
quality key result. KPIs feeding the same key result are its parts, not each other's
outcome, and are not paired. The detector in ``disconnect.py`` decides, on their latest
``SERIES`` common periods, whether they drift apart (断层点). Everything loads in a
constant number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from itertools import permutations

from ..enums import Direction, GoalStatus
from ..models import Cycle, KeyResult, Kpi, KpiLink, Objective
from ..owners import owner_refs
from ..tenancy import TenantScope
from .disconnect import Finding, detect_disconnect
from .misses import attainment, latest_values

#: The latest common periods a pair is judged on.
SERIES = 12


@dataclass(frozen=True, slots=True)
class Disconnect:
    objective: Objective
    execution: Kpi
    outcome: Kpi
    finding: Finding


def _oriented(kpi: Kpi, value: float) -> float:
    return -value if kpi.direction is Direction.LOWER_IS_BETTER else value


def judge(
    execution: Kpi, outcome: Kpi, a: dict[date, float], b: dict[date, float]
) -> Finding | None:
    """The finding for one pair on their latest common periods, if any."""
    common = sorted(a.keys() & b.keys())[-SERIES:]
    return detect_disconnect(
        [attainment(execution, a[p]) for p in common],
        [_oriented(outcome, b[p]) for p in common],
        attainment(execution, execution.threshold),
        kpi_label={"zh": execution.title, "en": execution.title_en or execution.title},
        outcome_label={"zh": outcome.title, "en": outcome.title_en or outcome.title},
    )


async def find_disconnects(
    scope: TenantScope, cycle: Cycle, unit_path: str | None = None
) -> list[Disconnect]:
    """Disconnects under the cycle's active objectives (owned in ``unit_path`` and below,
    when given), strongest first."""
    objectives = await scope.query(Objective).filter(cycle_id=cycle.id, status=GoalStatus.ACTIVE)
    if unit_path is not None:
        refs = await owner_refs(scope, ((o.owner_unit_id, o.owner_person_id) for o in objectives))
        objectives = [
            o
            for o in objectives
            if refs[(o.owner_unit_id, o.owner_person_id)].unit_path.startswith(unit_path)
        ]
    by_id = {o.id: o for o in objectives}
    key_results = await scope.query(KeyResult).filter(
        objective_id__in=list(by_id), status=GoalStatus.ACTIVE
    )
    objective_of = {k.id: k.objective_id for k in key_results}
    links = await scope.query(KpiLink).filter(
        key_result_id__in=list(objective_of), kpi__status=GoalStatus.ACTIVE
    )
    kpis = await scope.many(Kpi, {link.kpi_id for link in links})
    under: dict[int, set[tuple[int, int]]] = defaultdict(set)  # objective → (KR, KPI)
    for link in links:
        under[objective_of[link.key_result_id]].add((link.key_result_id, link.kpi_id))
    values = {
        kpi_id: dict(series)
        for kpi_id, series in (await latest_values(scope, kpis.values(), SERIES * 2)).items()
    }
    found = []
    for objective_id, fed in sorted(under.items()):
        objective = by_id[objective_id]
        for (kr_a, a), (kr_b, b) in permutations(sorted(fed), 2):
            if kr_a == kr_b or a == b:
                continue  # KPIs of one key result are its parts, not its outcome
            finding = judge(kpis[a], kpis[b], values.get(a, {}), values.get(b, {}))
            if finding is not None:
                found.append(Disconnect(objective, kpis[a], kpis[b], finding))
    return sorted(found, key=lambda d: -d.finding.strength)
