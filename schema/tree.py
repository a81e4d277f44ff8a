"""A loaded goal graph attached to the nodes it produced, so a tree resolves from memory.

``goalTree`` loads the whole graph under its roots in a constant number of queries,
with everything its nodes show: progress, grades, owners, who may see which KPI
values, and the tenant's scoring policies. Every node it returns carries a
``TreeView``, and its fields answer from it synchronously: a tree of 10,000 nodes
has some 100,000 fields, and a coroutine (and an asyncio task) per field would
cost far more than the answers themselves.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeAlias, TypeVar

from ..core.graph import GoalGraph
from ..core.scoring.engine import CycleScores
from ..core.scoring.resolve import PolicyLookup
from .loaders import GraphOwners, OwnerKey
from .types.org import OrgUnit, Person

T = TypeVar("T")
U = TypeVar("U")

#: What a field answers: the value itself inside a tree, an awaitable outside one
#: (graphql-core awaits awaitable results of plain resolvers).
MaybeAwaitable: TypeAlias = T | Awaitable[T]


@dataclass(slots=True)
class LoadedTree:
    """Everything a ``goalTree`` call loaded, shared by all of its nodes."""

    graph: GoalGraph
    progress: CycleScores
    scores: dict[int, CycleScores]
    #: The owner of every goal of the graph, by (owner unit id, owner person id).
    owners: dict[OwnerKey, OrgUnit | Person]
    #: Whether the caller may see the values of the KPIs owned by each owner.
    visible: dict[OwnerKey, bool]
    policies: PolicyLookup | None
    #: ``recentMeasurements(days:)`` windows already requested for every KPI at once.
    measured_days: set[int] = field(default_factory=set)

    @classmethod
    def build(
        cls,
        graph: GoalGraph,
        progress: CycleScores,
        scores: dict[int, CycleScores],
        owners: GraphOwners,
        policies: PolicyLookup | None,
    ) -> LoadedTree:
        """The tree, with one API object per owner however many goals it owns."""
        units = {i: OrgUnit.from_row(row) for i, row in owners.units.items()}
        people = {i: Person.from_row(row) for i, row in owners.people.items()}
        by_key: dict[OwnerKey, OrgUnit | Person] = {}
        for goal in graph.goals():
            unit_id, person_id = goal.owner_unit_id, goal.owner_person_id
            owner: OrgUnit | Person | None = None
            if unit_id is not None:
                owner = units.get(unit_id)
            elif person_id is not None:
                owner = people.get(person_id)
            if owner is not None:
                by_key[(unit_id, person_id)] = owner
        return cls(graph, progress, scores, by_key, owners.visible, policies)


@dataclass(frozen=True, slots=True)
class TreeView:
    """A loaded tree and how many more levels of children to show from here."""

    tree: LoadedTree
    remaining: int | None = None

    @property
    def graph(self) -> GoalGraph:
        return self.tree.graph

    @property
    def progress(self) -> CycleScores:
        return self.tree.progress

    def below(self) -> TreeView | None:
        """The view for children, or None when this node is at the last level."""
        if self.remaining is not None and self.remaining <= 1:
            return None
        remaining = None if self.remaining is None else self.remaining - 1
        return TreeView(self.tree, remaining)

    def cycle_scores(self, cycle_id: int) -> CycleScores | None:
        return self.tree.scores.get(cycle_id)

    def owner(self, key: OwnerKey) -> OrgUnit | Person | None:
        return self.tree.owners.get(key)

    def values_visible(self, key: OwnerKey) -> bool | None:
        """Whether the caller may see values of KPIs owned by ``key``; None if not loaded."""
        return self.tree.visible.get(key)


def map_maybe(value: MaybeAwaitable[T], f: Callable[[T], U]) -> MaybeAwaitable[U]:
    """``f`` of ``value``: at once for a value, once awaited for an awaitable."""
    if inspect.isawaitable(value):
        return _then(value, f)
    return f(value)


async def _then(awaitable: Awaitable[T], f: Callable[[T], U]) -> U:
    return f(await awaitable)
