"""Incremental scoring equals scoring from scratch, over random graphs and random edits.

Every write updates stored scores by recomputing only the nodes on the changed path
(``engine.rescore`` on the path's rows, every other part's score taken as it was).
Here random edits hit random graphs; after each, the path update must give exactly
the numbers a full computation gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from goalgraph.core.enums import Direction
from goalgraph.core.models import KeyResult, KpiLink, Objective
from goalgraph.core.scoring.engine import CycleRows, CycleScores, Dirty, rescore, score_cycle

from .test_scoring_properties import Graph, _row, graphs

EDIT_KINDS = [
    "value",
    "target",
    "link_weight",
    "unlink",
    "link",
    "key_result",
    "alignment",
    "archive_key_result",
    "archive_objective",
    "move",
    "new_objective",
]

edits = st.lists(
    st.tuples(st.sampled_from(EDIT_KINDS), st.integers(0, 10**6), st.floats(0.1, 5)),
    min_size=1,
    max_size=8,
)


@dataclass
class Touched:
    """What an edit changed directly, as a write tells the store."""

    kpis: set[int] = field(default_factory=set)
    key_results: set[int] = field(default_factory=set)
    objectives: set[int] = field(default_factory=set)


def _subtree(rows: CycleRows, root: Objective) -> list[Objective]:
    return [o for o in rows.objectives if o.path.startswith(root.path)]


def apply(rows: CycleRows, kind: str, pick: int, x: float) -> tuple[CycleRows, Touched]:
    """One edit, as the services make it; returns the rows after it."""
    objectives, key_results = list(rows.objectives), list(rows.key_results)
    links, kpis, values = list(rows.links), rows.kpis, dict(rows.values)
    touched = Touched()
    kpi = kpis[sorted(kpis)[pick % len(kpis)]]
    if kind == "value":
        if x < 0.5:
            values.pop(kpi.id, None)
        else:
            values[kpi.id] = x * 200
        touched.kpis.add(kpi.id)
    elif kind == "target":
        kpi.target = x * 100
        kpi.threshold = kpi.target * (1.3 if kpi.direction is Direction.LOWER_IS_BETTER else 0.8)
        touched.kpis.add(kpi.id)
    elif kind in ("link_weight", "unlink") and links:
        link = links[pick % len(links)]
        if kind == "unlink":
            links.remove(link)
        else:
            link.weight = x
        touched.key_results.add(link.key_result_id)
    elif kind == "link" and key_results:
        key_result = key_results[pick % len(key_results)]
        if not any(link.key_result_id == key_result.id and link.kpi_id == kpi.id for link in links):
            new_id = max((link.id for link in links), default=0) + 1
            links.append(
                _row(
                    KpiLink,
                    id=new_id,
                    tenant_id=1,
                    key_result_id=key_result.id,
                    kpi_id=kpi.id,
                    weight=x,
                )
            )
        touched.key_results.add(key_result.id)
    elif kind in ("key_result", "archive_key_result") and key_results:
        key_result = key_results[pick % len(key_results)]
        if kind == "archive_key_result":
            key_results.remove(key_result)
            links = [link for link in links if link.key_result_id != key_result.id]
        else:
            key_result.weight, key_result.current_value = x, x * 30
        touched.key_results.add(key_result.id)
    elif kind == "alignment" and objectives:
        objective = objectives[pick % len(objectives)]
        objective.alignment_weight = x
        touched.objectives.add(objective.id)
    elif kind == "archive_objective" and objectives:
        gone = {o.id for o in _subtree(rows, objectives[pick % len(objectives)])}
        gone_krs = {k.id for k in key_results if k.objective_id in gone}
        objectives = [o for o in objectives if o.id not in gone]
        key_results = [k for k in key_results if k.id not in gone_krs]
        links = [link for link in links if link.key_result_id not in gone_krs]
        touched.objectives |= gone
        touched.key_results |= gone_krs
    elif kind == "move" and objectives:
        moved = objectives[pick % len(objectives)]
        subtree = _subtree(rows, moved)
        targets = [None, *(o for o in objectives if o not in subtree)]
        parent = targets[int(x * 1000) % len(targets)]
        if moved.parent_id is not None:
            touched.objectives.add(moved.parent_id)
        old_path, shift = moved.path, (parent.depth + 1 if parent else 0) - moved.depth
        new_path = f"{parent.path if parent else '/'}{moved.id}/"
        for o in subtree:
            o.path, o.depth = new_path + o.path.removeprefix(old_path), o.depth + shift
        moved.parent_id = parent.id if parent else None
        touched.objectives.add(moved.id)
    elif kind == "new_objective":
        parent = objectives[pick % len(objectives)] if objectives and pick % 3 else None
        new_id = max((o.id for o in rows.objectives), default=0) + 1000
        objectives.append(
            _row(
                Objective,
                id=new_id,
                tenant_id=1,
                title="new",
                cycle_id=1,
                owner_unit_id=1,
                owner_person_id=None,
                parent_id=parent.id if parent else None,
                path=f"{parent.path if parent else '/'}{new_id}/",
                depth=parent.depth + 1 if parent else 0,
                alignment_weight=x,
            )
        )
        touched.objectives.add(new_id)
    return CycleRows(objectives, key_results, links, kpis, values), touched


def path_up(before: CycleRows, after: CycleRows, touched: Touched) -> Dirty:
    """What a change touches: the KPIs, the key results they feed, their objectives and
    every ancestor (looked up before and after the change, as archived rows still are)."""
    dirty = Dirty(set(touched.kpis), set(touched.key_results), set(touched.objectives))
    for rows in (before, after):
        dirty.key_results |= {
            link.key_result_id for link in rows.links if link.kpi_id in dirty.kpis
        }
    owner = {k.id: k.objective_id for rows in (before, after) for k in rows.key_results}
    dirty.objectives |= {owner[k] for k in dirty.key_results if k in owner}
    paths = {o.id: o.path for rows in (before, after) for o in rows.objectives}
    for objective_id in list(dirty.objectives):
        path = paths.get(objective_id, "")
        dirty.objectives |= {int(i) for i in path.split("/") if i}
    return dirty


def path_rows(after: CycleRows, dirty: Dirty) -> CycleRows:
    """The rows the store loads for a path: dirty nodes with their direct parts."""
    objectives = [
        o for o in after.objectives if o.id in dirty.objectives or o.parent_id in dirty.objectives
    ]
    key_results: list[KeyResult] = [
        k
        for k in after.key_results
        if k.id in dirty.key_results or k.objective_id in dirty.objectives
    ]
    links = [link for link in after.links if link.key_result_id in dirty.key_results]
    kpi_ids = dirty.kpis | {link.kpi_id for link in links}
    kpis = {i: after.kpis[i] for i in kpi_ids if i in after.kpis}
    values = {i: after.values[i] for i in dirty.kpis if i in after.values}
    return CycleRows(objectives, key_results, links, kpis, values)


def _copy(scores: CycleScores) -> CycleScores:
    return CycleScores(
        dict(scores.kpis), dict(scores.notes), dict(scores.key_results), dict(scores.objectives)
    )


@settings(max_examples=200, deadline=None)
@given(graphs(), edits)
def test_updating_along_the_path_equals_recomputing_everything(
    graph: Graph, changes: list[tuple[str, int, float]]
) -> None:
    rows = graph.rows
    stored = _copy(score_cycle(rows))
    for kind, pick, x in changes:
        after, touched = apply(rows, kind, pick, x)
        dirty = path_up(rows, after, touched)
        rescore(path_rows(after, dirty), stored, dirty)
        scratch = score_cycle(after)
        assert stored.objectives == scratch.objectives, kind
        assert stored.key_results == scratch.key_results, kind
        assert {k: e.score for k, e in stored.kpis.items()} == {
            k: e.score for k, e in scratch.kpis.items()
        }, kind
        rows = after
