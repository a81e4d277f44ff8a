"""A loaded goal graph attached to the nodes it produced, so a tree resolves from memory.

``goalTree`` loads the whole graph under its roots in a constant number of queries;
every node it returns carries a ``TreeView`` and answers ``children``, ``progress``
and ``score`` from it without touching the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.graph import GoalGraph
from ..core.scoring.engine import CycleScores


@dataclass(frozen=True, slots=True)
class TreeView:
    """The graph, its progress, and how many more levels of children to show."""

    graph: GoalGraph
    progress: CycleScores
    remaining: int | None = None
    scores: dict[int, CycleScores] | None = None

    def below(self) -> TreeView | None:
        """The view for children, or None when this node is at the last level."""
        if self.remaining is not None and self.remaining <= 1:
            return None
        remaining = None if self.remaining is None else self.remaining - 1
        return TreeView(self.graph, self.progress, remaining, self.scores)

    def cycle_scores(self, cycle_id: int) -> CycleScores | None:
        return self.scores.get(cycle_id) if self.scores is not None else None
