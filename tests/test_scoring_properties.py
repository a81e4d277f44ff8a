"""Properties of the scoring engine over random goal graphs (hypothesis)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from goalgraph.core.enums import Direction
from goalgraph.core.models import KeyResult, Kpi, KpiLink, Objective
from goalgraph.core.progress import weighted_mean
from goalgraph.core.scoring.engine import CycleRows, score_cycle


def _row(model: type, **values: object) -> object:
    """An unsaved row; foreign-key ids are set after construction, as Tortoise
    ignores ``<fk>_id=None`` keyword arguments."""
    ids = {k: values.pop(k) for k in list(values) if k.endswith("_id")}
    row = model(**values)
    for key, value in ids.items():
        setattr(row, key, value)
    return row


@dataclass
class Graph:
    rows: CycleRows
    seed: int


@st.composite
def graphs(draw: st.DrawFn) -> Graph:
    """A forest of objectives with key results fed by a pool of KPIs."""
    n_kpis = draw(st.integers(1, 6))
    kpis = {
        i: _row(
            Kpi,
            id=i,
            tenant_id=1,
            metric_code=f"m{i}",
            title=f"K{i}",
            target=draw(st.floats(1, 1000)),
            threshold=0.0,
            weight=draw(st.floats(0.1, 5)),
            direction=draw(st.sampled_from(Direction)),
            scoring_policy=draw(st.sampled_from(["linear", "pass_fail", "banded"])),
            owner_unit_id=1,
            owner_person_id=None,
        )
        for i in range(1, n_kpis + 1)
    }
    for kpi in kpis.values():
        lower = kpi.direction is Direction.LOWER_IS_BETTER
        kpi.threshold = kpi.target * (1.3 if lower else 0.8)
    values = {i: draw(st.floats(0.01, 2000)) for i in kpis if draw(st.booleans()) or i == 1}
    objectives: list[Objective] = []
    for i in range(1, draw(st.integers(1, 12)) + 1):
        parent = draw(st.sampled_from([None, *objectives])) if objectives else None
        path = f"{parent.path if parent else '/'}{i}/"
        objectives.append(
            _row(
                Objective,
                id=i,
                tenant_id=1,
                title=f"O{i}",
                cycle_id=1,
                owner_unit_id=1,
                owner_person_id=None,
                parent_id=parent.id if parent else None,
                path=path,
                depth=parent.depth + 1 if parent else 0,
                alignment_weight=draw(st.floats(0.1, 5)),
            )
        )
    key_results, links = [], []
    for objective in objectives:
        for _ in range(draw(st.integers(0, 3))):
            kid = len(key_results) + 1
            key_results.append(
                _row(
                    KeyResult,
                    id=kid,
                    tenant_id=1,
                    objective_id=objective.id,
                    title=f"KR{kid}",
                    start_value=0.0,
                    target_value=100.0,
                    current_value=draw(st.floats(-50, 150)),
                    weight=draw(st.floats(0.1, 5)),
                    owner_unit_id=1,
                    owner_person_id=None,
                )
            )
            for kpi_id in draw(st.sets(st.sampled_from(list(kpis)), max_size=2)):
                links.append(
                    _row(
                        KpiLink,
                        id=len(links) + 1,
                        tenant_id=1,
                        key_result_id=kid,
                        kpi_id=kpi_id,
                        weight=draw(st.floats(0.1, 5)),
                    )
                )
    return Graph(CycleRows(objectives, key_results, links, kpis, values), draw(st.integers()))


@settings(max_examples=150, deadline=None)
@given(graphs())
def test_grades_stay_in_bounds_and_between_their_parts(graph: Graph) -> None:
    rows, scores = graph.rows, score_cycle(graph.rows)
    assert all(0.0 <= g <= 1.0 for g in scores.key_results.values())
    for objective in rows.objectives:
        parts = [
            scores.key_results[k.id] for k in rows.key_results if k.objective_id == objective.id
        ]
        parts += [
            scores.objectives[o.id]
            for o in rows.objectives
            if o.parent_id == objective.id and scores.objectives[o.id] is not None
        ]
        grade = scores.objectives[objective.id]
        if not parts:
            assert grade is None
        else:
            assert grade is not None
            assert min(parts) - 1e-9 <= grade <= max(parts) + 1e-9


@settings(max_examples=150, deadline=None)
@given(graphs())
def test_the_whole_is_the_weighted_roll_up_of_its_parts(graph: Graph) -> None:
    """Each objective's grade is the weighted mean of its parts' grades, and scoring a
    subtree on its own gives the subtree the same grades as scoring everything."""
    rows, scores = graph.rows, score_cycle(graph.rows)
    for objective in rows.objectives:
        expected = weighted_mean(
            [
                *(
                    (scores.key_results[k.id], k.weight)
                    for k in rows.key_results
                    if k.objective_id == objective.id
                ),
                *(
                    (scores.objectives[o.id], o.alignment_weight)
                    for o in rows.objectives
                    if o.parent_id == objective.id
                ),
            ]
        )
        assert scores.objectives[objective.id] == expected
        subtree = [o for o in rows.objectives if o.path.startswith(objective.path)]
        ids = {o.id for o in subtree}
        krs = [k for k in rows.key_results if k.objective_id in ids]
        kr_ids = {k.id for k in krs}
        part = score_cycle(
            CycleRows(
                subtree,
                krs,
                [link for link in rows.links if link.key_result_id in kr_ids],
                rows.kpis,
                rows.values,
            )
        )
        for o in subtree:
            assert part.objectives[o.id] == scores.objectives[o.id]


@settings(max_examples=100, deadline=None)
@given(graphs(), st.floats(0.1, 10))
def test_order_and_weight_scale_do_not_matter(graph: Graph, factor: float) -> None:
    rows, scores = graph.rows, score_cycle(graph.rows)
    shuffled = [list(x) for x in (rows.objectives, rows.key_results, rows.links)]
    for items in shuffled:
        random.Random(graph.seed).shuffle(items)
    again = score_cycle(CycleRows(shuffled[0], shuffled[1], shuffled[2], rows.kpis, rows.values))
    assert again.objectives == scores.objectives
    assert again.key_results == scores.key_results
    for item in [*rows.objectives]:
        item.alignment_weight *= factor
    for kr in rows.key_results:
        kr.weight *= factor
    for link in rows.links:
        link.weight *= factor
    scaled = score_cycle(rows)
    for key, grade in scores.objectives.items():
        assert (grade is None) == (scaled.objectives[key] is None)
        if grade is not None:
            assert abs(grade - scaled.objectives[key]) < 1e-9
