"""Cycles (考核周期): the quarter, month or year a set of objectives belongs to."""

from __future__ import annotations

from tortoise import fields

from ..enums import CycleKind
from .base import TenantOwned


class Cycle(TenantOwned):
    """A named time box with inclusive start and end dates."""

    name = fields.CharField(max_length=100)
    name_en = fields.CharField(max_length=100, default="")
    kind = fields.CharEnumField(CycleKind, max_length=16)
    starts_on = fields.DateField()
    ends_on = fields.DateField()
    #: When the stored scores of this cycle were first built (null: not yet). They are
    #: built from scratch once, on first read, and kept current after that.
    scores_built_at = fields.DatetimeField(null=True)
    #: When the cycle was closed (null: open). The stored scores of a closed cycle are
    #: frozen as they stood, and writes into its goals are refused.
    closed_at = fields.DatetimeField(null=True)
    closed_by_id = fields.IntField(null=True)

    class Meta:
        table = "cycle"
        unique_together = (("tenant_id", "name"),)
        indexes = (("tenant_id", "starts_on"),)

    @property
    def closed(self) -> bool:
        return self.closed_at is not None
