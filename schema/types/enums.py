"""The domain's vocabularies as GraphQL enums (values match the core enums)."""

from __future__ import annotations

from enum import Enum

import strawberry

from ...core import enums

Role = strawberry.enum(enums.Role, description="What a person may do in their tenant.")
OrgUnitKind = strawberry.enum(enums.OrgUnitKind, description="Level of the org tree.")
CycleKind = strawberry.enum(enums.CycleKind, description="Length of a cycle.")
Direction = strawberry.enum(enums.Direction, description="Whether higher or lower is better.")
Frequency = strawberry.enum(enums.Frequency, description="How often a KPI is measured.")
Aggregation = strawberry.enum(enums.Aggregation, description="How measurements combine.")
GoalStatus = strawberry.enum(enums.GoalStatus, description="Active or archived.")


@strawberry.enum(description="What a node of the goal graph is.")
class GoalKind(Enum):
    OBJECTIVE = "objective"
    KEY_RESULT = "key_result"
    KPI = "kpi"
