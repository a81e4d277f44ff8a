"""Stored scores: every goal's score in every cycle, kept current along each change's path."""

from __future__ import annotations

from tortoise import fields

from ..enums import GoalKind
from .base import TenantOwned
from .cycle import Cycle


class Score(TenantOwned):
    """The score of one objective, key result or KPI in one cycle.

    Written in the transaction of every change that moves it (``core.scoring.store``),
    so reads never aggregate measurements or roll grades up. For a KPI, ``value`` is
    its value over the cycle, the figure its score was computed from.
    """

    cycle: fields.ForeignKeyRelation[Cycle] = fields.ForeignKeyField(
        "models.Cycle", related_name=False, on_delete=fields.CASCADE
    )
    cycle_id: int
    kind = fields.CharEnumField(GoalKind, max_length=16)
    node_id = fields.IntField()
    value = fields.FloatField(null=True)
    score = fields.FloatField(null=True)

    class Meta:
        table = "score"
        unique_together = (("tenant_id", "cycle_id", "kind", "node_id"),)
