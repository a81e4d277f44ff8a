"""The goal graph's nodes: objectives, key results and KPIs behind one interface.

``GoalNode`` lets a frontend walk a nested tree (``children``) without knowing the
kinds in advance, and ask for kind-specific fields with fragments.

Fields a ``goalTree`` node can answer from its ``TreeView`` are plain (not ``async``)
resolvers: inside a tree they return the value at once, elsewhere an awaitable that
loads it (``MaybeAwaitable``). A coroutine per field is what made large trees slow.
Their GraphQL type is given with ``graphql_type``, as the return annotation also
names the awaitable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Annotated, Self, TypeVar

import strawberry
from strawberry import relay

from ...core import models
from ...core.policy import ScoreExplanation as CoreExplanation
from ...core.progress import grade_health, kpi_health, kpi_progress
from ...core.scoring.engine import CycleScores
from ...core.scoring.resolve import explain_value
from ..context import Info
from ..tree import MaybeAwaitable, TreeView, map_maybe
from .enums import Aggregation, Direction, Frequency, GoalHealth, GoalKind, GoalStatus
from .org import Cycle, OrgUnit, Person, load_nodes
from .scoring import ScoreExplanation

Owner = Annotated[OrgUnit | Person, strawberry.union("Owner", description="Who owns a goal.")]
T = TypeVar("T")
Explained = tuple[CoreExplanation | None, str | None]


def owner_of(
    info: Info, row: models.Objective | models.KeyResult | models.Kpi, tree: TreeView | None
) -> MaybeAwaitable[Owner]:
    """A goal's owner: from the tree when it holds it, else through the loaders."""
    key = (row.owner_unit_id, row.owner_person_id)
    owner = tree.owner(key) if tree is not None else None
    return owner if owner is not None else resolve_owner(info, *key)


async def resolve_owner(info: Info, unit_id: int | None, person_id: int | None) -> Owner:
    loaders = info.context.loaders
    if unit_id is not None:
        unit = await loaders.org_unit.load(unit_id)
        assert unit is not None
        return OrgUnit.from_row(unit)
    assert person_id is not None
    person = await loaders.person.load(person_id)
    assert person is not None
    return Person.from_row(person)


@strawberry.interface(description="A node of the goal graph: objective, key result or KPI.")
class GoalNode(relay.Node):
    kind: GoalKind
    title: str
    title_en: str
    status: GoalStatus

    @strawberry.field(description="The org unit or person who owns the goal.")
    async def owner(self, info: Info) -> Owner:
        raise NotImplementedError

    @strawberry.field(description="Share of the way to done, 0..1; null without data.")
    async def progress(self, info: Info) -> float | None:
        raise NotImplementedError

    @strawberry.field(description="Score, 0..1.")
    async def score(self, info: Info) -> float | None:
        raise NotImplementedError

    @strawberry.field(
        description="On track, at risk or missed (a KPI by its newest value against "
        "target and threshold, objectives and key results by grade); null without data."
    )
    async def health(self, info: Info) -> GoalHealth | None:
        raise NotImplementedError

    @strawberry.field(description="The nodes below: aligned objectives, key results, KPIs.")
    async def children(self, info: Info) -> list[GoalNode]:
        raise NotImplementedError


@strawberry.type(description="A qualitative goal (目标) for a cycle, aligned to a parent.")
class Objective(GoalNode):
    id: relay.NodeID[int]
    kind: GoalKind
    title: str
    title_en: str
    description: str
    status: GoalStatus
    alignment_weight: float
    level: int = strawberry.field(description="0 for a top-level objective, 1 below it, ...")
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[models.Objective]
    tree: strawberry.Private[TreeView | None] = None

    @classmethod
    def from_row(cls, row: models.Objective, tree: TreeView | None = None) -> Self:
        return cls(
            id=row.id,
            kind=GoalKind.OBJECTIVE,
            title=row.title,
            title_en=row.title_en,
            description=row.description,
            status=row.status,
            alignment_weight=row.alignment_weight,
            level=row.depth,
            created_at=row.created_at,
            updated_at=row.updated_at,
            row=row,
            tree=tree,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        return await load_nodes(info.context.loaders.objective, node_ids, cls.from_row)

    @strawberry.field(graphql_type=Owner)
    def owner(self, info: Info) -> MaybeAwaitable[Owner]:
        return owner_of(info, self.row, self.tree)

    @strawberry.field
    async def cycle(self, info: Info) -> Cycle:
        row = await info.context.loaders.cycle.load(self.row.cycle_id)
        assert row is not None
        return Cycle.from_row(row)

    @strawberry.field(description="The objective this one aligns to.")
    async def parent(self, info: Info) -> Objective | None:
        if self.row.parent_id is None:
            return None
        row = await info.context.loaders.objective.load(self.row.parent_id)
        return Objective.from_row(row) if row else None

    @strawberry.field(description="The objective of an earlier cycle this one was rolled from.")
    async def rolled_from(self, info: Info) -> Objective | None:
        if self.row.rolled_from_id is None:
            return None
        row = await info.context.loaders.objective.load(self.row.rolled_from_id)
        return Objective.from_row(row) if row else None

    @strawberry.field(
        graphql_type=float | None, description="Share of the way to done, 0..1; null without data."
    )
    def progress(self, info: Info) -> MaybeAwaitable[float | None]:
        if self.tree is not None:
            return self.tree.progress.objectives.get(self.row.id)
        return info.context.loaders.objective_progress.load(self.row.id)

    @strawberry.field(
        graphql_type=float | None,
        description="Grade in its cycle, 0..1: the weighted roll-up of its key results' and "
        "aligned objectives' grades (see docs/scoring.md).",
    )
    def score(self, info: Info) -> MaybeAwaitable[float | None]:
        return self._grade(info)

    @strawberry.field(
        graphql_type=GoalHealth | None,
        description="On track, at risk or missed, for the colour of the goal: by its "
        "grade (0.7 and above on track, below 0.4 missed); null without a grade.",
    )
    def health(self, info: Info) -> MaybeAwaitable[GoalHealth | None]:
        return map_maybe(self._grade(info), grade_health)

    def _grade(self, info: Info) -> MaybeAwaitable[float | None]:
        """The grade that score answers and health colours."""
        return map_maybe(self._scores(info), lambda scores: scores.objectives.get(self.row.id))

    def _scores(self, info: Info) -> MaybeAwaitable[CycleScores]:
        in_tree = self.tree.cycle_scores(self.row.cycle_id) if self.tree is not None else None
        return in_tree or info.context.cycle_scores(self.row.cycle_id)

    @strawberry.field(
        graphql_type=str | None,
        description="How the grade was reached: its parts, weights and result.",
    )
    def explain(self, info: Info) -> MaybeAwaitable[str | None]:
        return map_maybe(self._scores(info), lambda scores: scores.objective_formula(self.row.id))

    @strawberry.field(
        graphql_type="list[KeyResult]", description="Active key results of this objective."
    )
    def key_results(self, info: Info) -> MaybeAwaitable[list[KeyResult]]:
        if self.tree is not None:
            return self._tree_key_results(self.tree.below() or self.tree)
        return self._loaded_key_results(info)

    async def _loaded_key_results(self, info: Info) -> list[KeyResult]:
        rows = await info.context.loaders.key_results_of.load(self.row.id)
        return [KeyResult.from_row(r) for r in rows]

    def _tree_key_results(self, view: TreeView) -> list[KeyResult]:
        graph = view.graph
        return [
            KeyResult.from_row(graph.key_results[k], view)
            for k in graph.key_results_of.get(self.row.id, [])
        ]

    @strawberry.field(
        graphql_type="list[Objective]", description="Active objectives aligned to this one."
    )
    def child_objectives(self, info: Info) -> MaybeAwaitable[list[Objective]]:
        if self.tree is not None:
            return self._tree_child_objectives(self.tree.below() or self.tree)
        return self._loaded_child_objectives(info)

    async def _loaded_child_objectives(self, info: Info) -> list[Objective]:
        rows = await info.context.loaders.child_objectives.load(self.row.id)
        return [Objective.from_row(r) for r in rows]

    def _tree_child_objectives(self, view: TreeView) -> list[Objective]:
        graph = view.graph
        return [
            Objective.from_row(graph.objectives[c], view)
            for c in graph.child_objectives.get(self.row.id, [])
        ]

    @strawberry.field(
        graphql_type="list[GoalNode]",
        description="Aligned objectives, then key results (within goalTree's depth).",
    )
    def children(self, info: Info) -> MaybeAwaitable[list[GoalNode]]:
        if self.tree is not None:
            view = self.tree.below()
            if view is None:
                return []
            return [*self._tree_child_objectives(view), *self._tree_key_results(view)]
        return self._loaded_children(info)

    async def _loaded_children(self, info: Info) -> list[GoalNode]:
        nodes: list[GoalNode] = list(await self._loaded_child_objectives(info))
        nodes.extend(await self._loaded_key_results(info))
        return nodes


@strawberry.type(description="A measurable result (关键成果) of an objective.")
class KeyResult(GoalNode):
    id: relay.NodeID[int]
    kind: GoalKind
    title: str
    title_en: str
    status: GoalStatus
    unit: str
    direction: Direction
    start_value: float
    target_value: float
    current_value: float | None = strawberry.field(
        description="Latest value (nullable only to share a type with Kpi.currentValue)."
    )
    weight: float
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[models.KeyResult]
    tree: strawberry.Private[TreeView | None] = None

    @classmethod
    def from_row(cls, row: models.KeyResult, tree: TreeView | None = None) -> Self:
        return cls(
            id=row.id,
            kind=GoalKind.KEY_RESULT,
            title=row.title,
            title_en=row.title_en,
            status=row.status,
            unit=row.unit,
            direction=row.direction,
            start_value=row.start_value,
            target_value=row.target_value,
            current_value=row.current_value,
            weight=row.weight,
            created_at=row.created_at,
            updated_at=row.updated_at,
            row=row,
            tree=tree,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        return await load_nodes(info.context.loaders.key_result, node_ids, cls.from_row)

    @strawberry.field(graphql_type=Owner)
    def owner(self, info: Info) -> MaybeAwaitable[Owner]:
        return owner_of(info, self.row, self.tree)

    @strawberry.field
    async def objective(self, info: Info) -> Objective:
        row = await info.context.loaders.objective.load(self.row.objective_id)
        assert row is not None
        return Objective.from_row(row)

    @strawberry.field(
        graphql_type=float | None,
        description="From the feeding KPIs when linked, else start→target; 0..1.",
    )
    def progress(self, info: Info) -> MaybeAwaitable[float | None]:
        if self.tree is not None:
            return self.tree.progress.key_results.get(self.row.id)
        return info.context.loaders.key_result_progress.load(self.row.id)

    @strawberry.field(
        graphql_type=float | None,
        description="Grade in its objective's cycle, 0..1: from the scores of the KPIs "
        "feeding it over the cycle, else from its check-ins.",
    )
    def score(self, info: Info) -> MaybeAwaitable[float | None]:
        return self._grade(info)

    @strawberry.field(
        graphql_type=GoalHealth | None,
        description="On track, at risk or missed, for the colour of the goal: by its "
        "grade (0.7 and above on track, below 0.4 missed); null without a grade.",
    )
    def health(self, info: Info) -> MaybeAwaitable[GoalHealth | None]:
        return map_maybe(self._grade(info), grade_health)

    def _grade(self, info: Info) -> MaybeAwaitable[float | None]:
        """The grade that score answers and health colours."""
        return map_maybe(
            self._scores(info),
            lambda scores: scores.key_results.get(self.row.id) if scores else None,
        )

    def _scores(self, info: Info) -> MaybeAwaitable[CycleScores | None]:
        tree = self.tree
        if tree is not None and self.row.objective_id in tree.graph.objectives:
            cycle_id = tree.graph.objectives[self.row.objective_id].cycle_id
            return tree.cycle_scores(cycle_id) or info.context.cycle_scores(cycle_id)
        return self._loaded_scores(info)

    async def _loaded_scores(self, info: Info) -> CycleScores | None:
        objective = await info.context.loaders.objective.load(self.row.objective_id)
        if objective is None:
            return None
        return await info.context.cycle_scores(objective.cycle_id)

    @strawberry.field(
        graphql_type=str | None,
        description="How the grade was reached: the feeding KPIs' scores and "
        "link weights, or the check-in span.",
    )
    def explain(self, info: Info) -> MaybeAwaitable[str | None]:
        return map_maybe(
            self._scores(info),
            lambda scores: scores.key_result_formula(self.row.id) if scores else None,
        )

    @strawberry.field(
        graphql_type="list[KpiLink]",
        description="The KPIs feeding this key result, with their weights.",
    )
    def kpi_links(self, info: Info) -> MaybeAwaitable[list[KpiLink]]:
        if self.tree is not None:
            view = self.tree.below() or self.tree
            return [
                KpiLink(weight=link.weight, row=link, tree=view)
                for link in view.graph.links_of.get(self.row.id, [])
            ]
        return self._loaded_kpi_links(info)

    async def _loaded_kpi_links(self, info: Info) -> list[KpiLink]:
        rows = await info.context.loaders.links_of.load(self.row.id)
        return [KpiLink(weight=link.weight, row=link) for link in rows]

    @strawberry.field(
        graphql_type="list[GoalNode]", description="The feeding KPIs (within goalTree's depth)."
    )
    def children(self, info: Info) -> MaybeAwaitable[list[GoalNode]]:
        if self.tree is not None:
            view = self.tree.below()
            if view is None:
                return []
            graph = view.graph
            return [
                Kpi.from_row(graph.kpis[link.kpi_id], view)
                for link in graph.links_of.get(self.row.id, [])
            ]
        return self._loaded_children(info)

    async def _loaded_children(self, info: Info) -> list[GoalNode]:
        return [await link.loaded_kpi(info) for link in await self._loaded_kpi_links(info)]


@strawberry.type(description="A KPI feeding a key result with a weight.")
class KpiLink:
    weight: float
    row: strawberry.Private[models.KpiLink]
    tree: strawberry.Private[TreeView | None] = None

    @strawberry.field(graphql_type="Kpi")
    def kpi(self, info: Info) -> MaybeAwaitable[Kpi]:
        if self.tree is not None and self.row.kpi_id in self.tree.graph.kpis:
            return Kpi.from_row(self.tree.graph.kpis[self.row.kpi_id], self.tree)
        return self.loaded_kpi(info)

    async def loaded_kpi(self, info: Info) -> Kpi:
        row = await info.context.loaders.kpi.load(self.row.kpi_id)
        assert row is not None
        return Kpi.from_row(row)

    @strawberry.field
    async def key_result(self, info: Info) -> KeyResult:
        row = await info.context.loaders.key_result.load(self.row.key_result_id)
        assert row is not None
        return KeyResult.from_row(row)


@strawberry.type(description="One value of a KPI for one period.")
class Measurement(relay.Node):
    id: relay.NodeID[int]
    period_start: date
    value: float
    source: str
    recorded_at: datetime
    row: strawberry.Private[models.Measurement]

    @classmethod
    def from_row(cls, row: models.Measurement) -> Self:
        return cls(
            id=row.id,
            period_start=row.period_start,
            value=row.value,
            source=row.source,
            recorded_at=row.recorded_at,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        """Measurements by id; null where the caller may not see the KPI's values."""
        loaders = info.context.loaders
        wanted = [int(i) if i.isdigit() else None for i in node_ids]
        rows = await info.context.scope.many(models.Measurement, [i for i in wanted if i])
        kpis = {
            k.id: k
            for k in await loaders.kpi.load_many(list({r.kpi_id for r in rows.values()}))
            if k is not None
        }
        keys = [(k.owner_unit_id, k.owner_person_id) for k in kpis.values()]
        visible = dict(zip(kpis, await loaders.values_visible.load_many(keys), strict=True))
        return [
            cls.from_row(rows[i]) if i in rows and visible.get(rows[i].kpi_id) else None
            for i in wanted
        ]


def _score_of(explained: Explained) -> float | None:
    explanation, _ = explained
    return explanation.score if explanation else None


def _explanation_of(explained: Explained) -> ScoreExplanation | None:
    explanation, note = explained
    return ScoreExplanation.of(explanation, note) if explanation else None


@strawberry.type(description="A key performance indicator (关键绩效指标).")
class Kpi(GoalNode):
    id: relay.NodeID[int]
    kind: GoalKind
    metric_code: str
    title: str
    title_en: str
    status: GoalStatus
    unit: str
    direction: Direction
    target: float
    threshold: float = strawberry.field(description="Pass threshold (达标门槛).")
    weight: float
    frequency: Frequency
    aggregation: Aggregation
    scoring_policy: str = strawberry.field(description="The policy that turns values into scores.")
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[models.Kpi]
    tree: strawberry.Private[TreeView | None] = None

    @classmethod
    def from_row(cls, row: models.Kpi, tree: TreeView | None = None) -> Self:
        return cls(
            id=row.id,
            kind=GoalKind.KPI,
            metric_code=row.metric_code,
            title=row.title,
            title_en=row.title_en,
            status=row.status,
            unit=row.unit,
            direction=row.direction,
            target=row.target,
            threshold=row.threshold,
            weight=row.weight,
            frequency=row.frequency,
            aggregation=row.aggregation,
            scoring_policy=row.scoring_policy,
            created_at=row.created_at,
            updated_at=row.updated_at,
            row=row,
            tree=tree,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        return await load_nodes(info.context.loaders.kpi, node_ids, cls.from_row)

    @strawberry.field(graphql_type=Owner)
    def owner(self, info: Info) -> MaybeAwaitable[Owner]:
        return owner_of(info, self.row, self.tree)

    @strawberry.field(
        graphql_type=bool,
        description="Whether the caller may see this KPI's values and scores: an "
        "individual's are visible to them, the managers above them and admins.",
    )
    def values_visible(self, info: Info) -> MaybeAwaitable[bool]:
        visible = self._tree_visible()
        return visible if visible is not None else self._visible(info)

    def _tree_visible(self) -> bool | None:
        """Visibility as the tree loaded it; None outside a tree."""
        if self.tree is None:
            return None
        return self.tree.values_visible((self.row.owner_unit_id, self.row.owner_person_id))

    async def _visible(self, info: Info) -> bool:
        visible = self._tree_visible()
        if visible is not None:
            return visible
        key = (self.row.owner_unit_id, self.row.owner_person_id)
        return await info.context.loaders.values_visible.load(key)

    def _if_visible(self, info: Info, read: Callable[[], T | None]) -> MaybeAwaitable[T | None]:
        """``read()`` when the caller may see this KPI's values, else None."""
        return map_maybe(self.values_visible(info), lambda visible: read() if visible else None)

    @strawberry.field(
        graphql_type=float | None,
        description="The newest measured value; null if none or not visible.",
    )
    def current_value(self, info: Info) -> MaybeAwaitable[float | None]:
        return self._if_visible(info, lambda: self.row.current_value)

    @strawberry.field(
        graphql_type=date | None, description="Start of the period of the newest value."
    )
    def current_period(self, info: Info) -> MaybeAwaitable[date | None]:
        return self._if_visible(info, lambda: self.row.current_period)

    @strawberry.field(
        graphql_type=float | None,
        description="Achievement against target, 0..1; null if unknown/hidden.",
    )
    def progress(self, info: Info) -> MaybeAwaitable[float | None]:
        return self._if_visible(info, lambda: kpi_progress(self.row))

    def _explained(self, info: Info) -> MaybeAwaitable[Explained]:
        """The newest value scored and explained, when visible; the tree knows the
        tenant's policies, elsewhere they come from the request's pack view."""
        visible = self._tree_visible()
        if self.tree is not None and visible is not None:
            if not visible:
                return None, None
            return explain_value(self.row, self.row.current_value, self.tree.tree.policies)
        return self._loaded_explained(info)

    async def _loaded_explained(self, info: Info) -> Explained:
        if not await self._visible(info):
            return None, None
        packs = await info.context.tenant_packs()
        return explain_value(self.row, self.row.current_value, packs.scoring_policy)

    @strawberry.field(
        graphql_type=float | None,
        description="The newest value scored by the KPI's policy (1.0 = on target).",
    )
    def score(self, info: Info) -> MaybeAwaitable[float | None]:
        return map_maybe(self._explained(info), _score_of)

    @strawberry.field(
        graphql_type=GoalHealth | None,
        description="On track at or past the target, at risk past the threshold only, "
        "else missed; null without a value or if not visible.",
    )
    def health(self, info: Info) -> MaybeAwaitable[GoalHealth | None]:
        return self._if_visible(info, lambda: kpi_health(self.row))

    @strawberry.field(
        graphql_type="ScoreExplanation | None",
        description="How the score was reached; null if no value or not visible.",
    )
    def explain(self, info: Info) -> MaybeAwaitable[ScoreExplanation | None]:
        return map_maybe(self._explained(info), _explanation_of)

    @strawberry.field(description="Measurements of the last `days` days up to the newest one.")
    async def recent_measurements(self, info: Info, days: int = 30) -> list[Measurement]:
        if not await self._visible(info):
            return []
        days = max(1, min(days, 366))
        loader = info.context.loaders.recent_measurements
        if self.tree is not None and days not in self.tree.tree.measured_days:
            # One query for every KPI of the tree, whatever level each sits on; the
            # other KPIs of the tree find their keys already loading.
            self.tree.tree.measured_days.add(days)
            await loader.load_many([(k, days) for k in self.tree.graph.kpis])
        rows = await loader.load((self.row.id, days))
        return [Measurement.from_row(r) for r in rows]

    @strawberry.field(description="The key results this KPI feeds (a KPI may feed several).")
    async def feeds(self, info: Info) -> list[KpiLink]:
        rows = await info.context.loaders.links_to.load(self.row.id)
        return [KpiLink(weight=link.weight, row=link) for link in rows]

    @strawberry.field(description="KPIs are leaves of the goal graph: always empty.")
    def children(self) -> list[GoalNode]:
        return []
