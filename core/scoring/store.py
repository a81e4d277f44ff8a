"""Stored scores, kept current along the path of every change.

Every write that can move a score (a measurement, a KPI's or key result's settings, a
link, an objective's weight or place, an archive) says what it changed in ``Changes``
and calls ``refresh`` inside its own transaction. ``refresh`` follows the change up
the graph (the KPI's key results in each cycle whose span holds a changed period,
their objectives, every ancestor) and recomputes exactly those nodes with the
engine's ``rescore``, reading every other part's score from the store: a constant
number of queries per cycle touched, whatever the tenant's size. Reads then take
scores as stored; they never aggregate measurements nor roll grades up.

Two writers under one key result must not each compute from the other's stale score:
``refresh`` locks the tenant's scored cycles first (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite runs one write transaction at a time anyway).

A cycle's scores are built from scratch the first time they are read and kept
current after that. ``rebuild`` builds them again, e.g. when the tenant's enabled packs
(and with them the scoring policies its KPIs may name) change.

A closed cycle's scores are frozen: no path update and no rebuild touches them (closing
brings them up to date one last time; reopening builds them again).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from ..bulk import chunked, insert_rows
from ..enums import GoalKind, GoalStatus
from ..models import Cycle, KeyResult, Kpi, KpiLink, Objective, Score
from ..policy import PolicyLookup
from ..tenancy import TenantScope
from .engine import CycleRows, CycleScores, Dirty, rescore, score_cycle
from .load import load_cycle
from .resolve import explain_value
from .values import span_values

#: The fields of each goal whose change moves a score.
SCORED_FIELDS: dict[str, frozenset[str]] = {
    "kpi": frozenset(
        {"target", "threshold", "direction", "scoring_policy", "aggregation", "status"}
    ),
    "key_result": frozenset({"weight", "start_value", "target_value", "current_value", "status"}),
    "objective": frozenset({"alignment_weight", "parent_id", "status"}),
}


@dataclass
class Changes:
    """What a write changed, as far as scores go."""

    #: KPI id → the periods written (only cycles holding one of them are touched).
    measured: dict[int, set[date]] = field(default_factory=dict)
    #: KPIs whose settings changed (every cycle they have a score in).
    kpis: set[int] = field(default_factory=set)
    key_results: set[int] = field(default_factory=set)
    objectives: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, entity_type: str, ids: Iterable[int]) -> Changes:
        """Changes to goals of one kind (``"kpi"``, ``"key_result"``, ``"objective"``)."""
        changes = cls()
        {
            "kpi": changes.kpis,
            "key_result": changes.key_results,
            "objective": changes.objectives,
        }[entity_type].update(ids)
        return changes

    def __bool__(self) -> bool:
        return bool(self.measured or self.kpis or self.key_results or self.objectives)


def moves_scores(entity_type: str, changed: Collection[str]) -> bool:
    """Whether changing these fields of such a goal can move any score."""
    return bool(SCORED_FIELDS.get(entity_type, frozenset()) & set(changed))


async def refresh(scope: TenantScope, changes: Changes) -> None:
    """Bring the stored scores up to date after ``changes``; call it inside the
    transaction of the change, after writing it."""
    if not changes:
        return
    cycles = (
        await scope.query(Cycle)
        .filter(scores_built_at__isnull=False, closed_at__isnull=True)
        .order_by("id")
        .select_for_update()
    )
    if not cycles:
        return  # nothing stored yet: the first read builds from the data as it is then
    dirty = await _dirty_by_cycle(scope, cycles, changes)
    lookup = await scope.scoring_policies()
    for cycle in cycles:
        if dirty[cycle.id]:
            await _refresh_cycle(scope, cycle, dirty[cycle.id], lookup)


async def _dirty_by_cycle(
    scope: TenantScope, cycles: list[Cycle], changes: Changes
) -> dict[int, Dirty]:
    """Where each change starts in each stored cycle."""
    dirty = {c.id: Dirty() for c in cycles}
    for kpi_id, periods in changes.measured.items():
        for cycle in cycles:
            if any(cycle.starts_on <= p <= cycle.ends_on for p in periods):
                dirty[cycle.id].kpis.add(kpi_id)
    if changes.kpis:
        # A KPI's settings matter only where it has a score: where it has values.
        stored = (
            await scope.query(Score)
            .filter(kind=GoalKind.KPI, node_id__in=changes.kpis)
            .values_list("cycle_id", "node_id")
        )
        for cycle_id, kpi_id in stored:
            if cycle_id in dirty:
                dirty[cycle_id].kpis.add(kpi_id)
    goals = (
        (KeyResult, changes.key_results, "objective__cycle_id", "key_results"),
        (Objective, changes.objectives, "cycle_id", "objectives"),
    )
    for model, ids, cycle_field, kind in goals:
        if not ids:
            continue
        found = await scope.query(model).filter(id__in=ids).values_list("id", cycle_field)
        for goal_id, cycle_id in found:
            if cycle_id in dirty:
                getattr(dirty[cycle_id], kind).add(goal_id)
    return dirty


async def _refresh_cycle(
    scope: TenantScope, cycle: Cycle, dirty: Dirty, lookup: PolicyLookup | None
) -> None:
    await _spread_up(scope, cycle, dirty)
    rows = await _path_rows(scope, cycle, dirty)
    scores = await _stored(scope, cycle, rows, lookup, skip=dirty)
    rescore(rows, scores, dirty, lookup)
    for kind, ids in (
        (GoalKind.KPI, dirty.kpis),
        (GoalKind.KEY_RESULT, dirty.key_results),
        (GoalKind.OBJECTIVE, dirty.objectives),
    ):
        if ids:
            await scope.query(Score).filter(cycle_id=cycle.id, kind=kind, node_id__in=ids).delete()
    await insert_rows(scope, Score, SCORE_COLUMNS, _score_rows(cycle, rows, scores, dirty))


async def _spread_up(scope: TenantScope, cycle: Cycle, dirty: Dirty) -> None:
    """Add the path up: key results fed by dirty KPIs, their objectives, all ancestors."""
    if dirty.kpis:
        fed = (
            await scope.query(KpiLink)
            .filter(kpi_id__in=dirty.kpis, key_result__objective__cycle_id=cycle.id)
            .values_list("key_result_id", flat=True)
        )
        dirty.key_results.update(_ids(fed))
    if dirty.key_results:
        owners = (
            await scope.query(KeyResult)
            .filter(id__in=dirty.key_results)
            .values_list("objective_id", flat=True)
        )
        dirty.objectives.update(_ids(owners))
    if dirty.objectives:
        paths = (
            await scope.query(Objective)
            .filter(id__in=dirty.objectives, cycle_id=cycle.id)
            .values_list("path", flat=True)
        )
        dirty.objectives.update(int(i) for path in paths for i in str(path).split("/") if i)


def _ids(values: Iterable[Any]) -> set[int]:
    """Ids from a flat ``values_list`` (typed by Tortoise as tuples)."""
    return {int(v) for v in values}


async def _path_rows(scope: TenantScope, cycle: Cycle, dirty: Dirty) -> CycleRows:
    """The dirty nodes that still count, with their direct parts (active ones only)."""
    active = GoalStatus.ACTIVE
    objectives: list[Objective] = []
    if dirty.objectives:
        objectives = (
            await scope.query(Objective)
            .filter(cycle_id=cycle.id, status=active)
            .filter(Q(id__in=dirty.objectives) | Q(parent_id__in=dirty.objectives))
        )
    wanted = Q(id__in=dirty.key_results) if dirty.key_results else Q()
    if dirty.objectives:
        by_objective = Q(objective_id__in=dirty.objectives)
        wanted = wanted | by_objective if dirty.key_results else by_objective
    key_results: list[KeyResult] = []
    if dirty.key_results or dirty.objectives:
        key_results = (
            await scope.query(KeyResult)
            .filter(status=active, objective__status=active, objective__cycle_id=cycle.id)
            .filter(wanted)
        )
    links: list[KpiLink] = []
    if dirty.key_results:
        links = await scope.query(KpiLink).filter(
            key_result_id__in=dirty.key_results, kpi__status=active
        )
    kpi_ids = dirty.kpis | {link.kpi_id for link in links}
    kpis = (
        {k.id: k for k in await scope.query(Kpi).filter(id__in=kpi_ids, status=active)}
        if kpi_ids
        else {}
    )
    values = await span_values(
        scope, (kpis[i] for i in dirty.kpis if i in kpis), cycle.starts_on, cycle.ends_on
    )
    return CycleRows(list(objectives), list(key_results), list(links), kpis, values)


#: The columns ``_score_rows`` gives, in order.
SCORE_COLUMNS = ("cycle_id", "kind", "node_id", "value", "score")


def _score_rows(
    cycle: Cycle, rows: CycleRows, scores: CycleScores, dirty: Dirty
) -> Iterable[tuple[int, GoalKind, int, float | None, float | None]]:
    """The stored scores of the dirty nodes, as rows of ``SCORE_COLUMNS``."""

    def row(
        kind: GoalKind, node_id: int, score: float | None, value: float | None = None
    ) -> tuple[int, GoalKind, int, float | None, float | None]:
        return (cycle.id, kind, node_id, value, score)

    for kpi_id in sorted(dirty.kpis & scores.kpis.keys()):
        yield row(GoalKind.KPI, kpi_id, scores.kpis[kpi_id].score, rows.values[kpi_id])
    for key_result_id in sorted(dirty.key_results & scores.key_results.keys()):
        yield row(GoalKind.KEY_RESULT, key_result_id, scores.key_results[key_result_id])
    for objective_id in sorted(dirty.objectives & scores.objectives.keys()):
        yield row(GoalKind.OBJECTIVE, objective_id, scores.objectives[objective_id])


async def _stored(
    scope: TenantScope,
    cycle: Cycle,
    rows: CycleRows,
    lookup: PolicyLookup | None,
    skip: Dirty | None = None,
    partial: bool = False,
) -> CycleScores:
    """The stored scores of the nodes in ``rows`` (but those in ``skip``), with each KPI
    score explained again from its stored value. The whole cycle's scores are read in
    one query, unless only a part is wanted (``skip``, or ``partial`` rows): then by
    node id, in lists short enough for any database."""
    skip = skip or Dirty()
    scores = CycleScores(rows=rows)
    wanted = {
        GoalKind.KPI: set(rows.kpis) - skip.kpis,
        GoalKind.KEY_RESULT: set(rows.key_result_by_id) - skip.key_results,
        GoalKind.OBJECTIVE: set(rows.objective_by_id) - skip.objectives,
    }
    if not any(wanted.values()):
        return scores
    query = scope.query(Score).filter(cycle_id=cycle.id)
    columns = ("kind", "node_id", "value", "score")
    if skip or partial:  # by (kind, node id): the key's index finds each row
        stored = [
            row
            for kind, nodes in wanted.items()
            for ids in chunked(sorted(nodes))
            for row in await query.filter(kind=kind, node_id__in=ids).values_list(*columns)
        ]
    else:
        stored = await query.values_list(*columns)
    for kind, node_id, value, score in stored:
        kind = GoalKind(kind)
        if node_id not in wanted[kind]:
            continue
        if kind is GoalKind.KPI:
            explained, note = explain_value(rows.kpis[node_id], value, lookup)
            if explained is not None:
                scores.kpis[node_id] = explained
            if note:
                scores.notes[node_id] = note
        elif kind is GoalKind.KEY_RESULT:
            scores.key_results[node_id] = float(score)
        else:
            scores.objectives[node_id] = score
    return scores


async def rebuild(scope: TenantScope, cycle: Cycle, lookup: PolicyLookup | None) -> None:
    """Compute every score of the cycle from scratch and store them (in a transaction);
    a closed cycle's frozen scores are left as they are."""
    if cycle.closed:
        return
    await _build(scope, cycle, lookup)


async def _build(scope: TenantScope, cycle: Cycle, lookup: PolicyLookup | None) -> None:
    async with in_transaction():
        rows = await load_cycle(scope, cycle)
        scores = score_cycle(rows, lookup)
        await scope.query(Score).filter(cycle_id=cycle.id).delete()
        await insert_rows(
            scope, Score, SCORE_COLUMNS, _score_rows(cycle, rows, scores, Dirty.everything(rows))
        )
        cycle.scores_built_at = datetime.now(UTC)
        await cycle.save(update_fields=["scores_built_at", "updated_at"])


async def rebuild_all(scope: TenantScope, lookup: PolicyLookup | None) -> None:
    """Rebuild every stored open cycle of the tenant (its scoring policies changed)."""
    stored = scope.query(Cycle).filter(scores_built_at__isnull=False, closed_at__isnull=True)
    for cycle in await stored.order_by("id"):
        await rebuild(scope, cycle, lookup)


async def ensure_built(scope: TenantScope, cycle: Cycle) -> None:
    """Build the cycle's stored scores if they never were (once, under a row lock; a
    closed cycle never built is built once too, then stays frozen)."""
    if cycle.scores_built_at is not None:
        return
    async with in_transaction():
        locked = await scope.query(Cycle).filter(id=cycle.id).select_for_update().first()
        if locked is None or locked.scores_built_at is not None:
            cycle.scores_built_at = locked.scores_built_at if locked else None
            return
        await _build(scope, locked, await scope.scoring_policies())
        cycle.scores_built_at = locked.scores_built_at


async def stored_scores(
    scope: TenantScope,
    cycle: Cycle,
    rows: CycleRows,
    lookup: PolicyLookup | None,
    partial: bool = False,
) -> CycleScores:
    """The cycle's scores for the nodes in ``rows``, as stored (built first if need be);
    ``partial`` when ``rows`` hold a small part of the cycle."""
    await ensure_built(scope, cycle)
    return await _stored(scope, cycle, rows, lookup, partial=partial)
