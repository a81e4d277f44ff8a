"""A loaded goal graph attached to the nodes it produced, so a tree resolves from memory.

``goalTree`` loads the whole graph under its roots in a constant number of queries;
every node it returns carries a ``TreeView`` and answers ``children`` and
``progress`` from it without touching the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.graph import GoalGraph
from ..core.progress import GraphProgress


@dataclass(frozen=True, slots=True)
class TreeView:
    """The graph, its progress, and how many more levels of children to show."""

    graph: GoalGraph
    progress: GraphProgress
    remaining: int | None = None

    def below(self) -> TreeView | None:
        """The view for children, or None when this node is at the last level."""
        if self.remaining is not None and self.remaining <= 1:
            return None
        remaining = None if self.remaining is None else self.remaining - 1
        return TreeView(self.graph, self.progress, remaining)
