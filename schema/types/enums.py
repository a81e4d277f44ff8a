"""The domain's vocabularies as GraphQL enums.

The core enums themselves are registered with strawberry, so resolvers and services
share one type and no value is ever converted between two enum classes.
"""

from __future__ import annotations

import strawberry

from ...core.enums import (
    Aggregation,
    CycleKind,
    Direction,
    Frequency,
    GoalHealth,
    GoalKind,
    GoalStatus,
    OrgUnitKind,
    Role,
)

strawberry.enum(Role, description="What a person may do in their tenant.")
strawberry.enum(OrgUnitKind, description="Level of the org tree.")
strawberry.enum(CycleKind, description="Length of a cycle.")
strawberry.enum(Direction, description="Whether higher or lower is better.")
strawberry.enum(Frequency, description="How often a KPI is measured.")
strawberry.enum(Aggregation, description="How a KPI's measurements combine over a cycle.")
strawberry.enum(GoalStatus, description="Active, or archived (kept, but out of trees).")
strawberry.enum(GoalKind, description="What a node of the goal graph is.")
strawberry.enum(
    GoalHealth,
    description="How a goal stands: a KPI by its newest value against target and "
    "threshold, an objective or key result by its grade (0.7 on track, below 0.4 missed).",
)


__all__ = [
    "Aggregation",
    "CycleKind",
    "Direction",
    "Frequency",
    "GoalHealth",
    "GoalKind",
    "GoalStatus",
    "OrgUnitKind",
    "Role",
]
