"""Scoring a cycle for a request: rows, scores and the stage's shares together."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from ..errors import DomainError, ErrorCode, not_found
from ..models import Cycle
from ..services.stages import weightings
from ..tenancy import TenantScope
from .engine import CycleRows, CycleScores, score_cycle
from .load import default_cycle, load_cycle
from .resolve import PolicyLookup
from .scorecard import Shares


@dataclass
class ScoredCycle:
    cycle: Cycle
    rows: CycleRows
    scores: CycleScores
    shares: Shares


async def current_shares(scope: TenantScope, presets: Mapping[str, float]) -> Shares:
    """The OKR/KPI shares of the tenant's current stage (its own, else the preset)."""
    stage = scope.tenant.lifecycle_stage
    for weighting in await weightings(scope, presets):
        if weighting.stage == stage:
            return Shares(stage, weighting.okr_share, weighting.kpi_share)
    return Shares(stage, 0.5, 0.5)  # a stage no longer defined: count both sides equally


async def score(
    scope: TenantScope,
    cycle_id: int | None,
    presets: Mapping[str, float],
    lookup: PolicyLookup | None,
    today: date,
) -> ScoredCycle:
    """Everything needed for scorecards and rankings of one cycle."""
    if cycle_id is not None:
        cycle = await scope.find(Cycle, cycle_id)
        if cycle is None:
            raise not_found("cycle", "cycleId")
    else:
        found = await default_cycle(scope, today)
        if found is None:
            raise DomainError.single(ErrorCode.NOT_FOUND, "the tenant has no cycles yet", "cycleId")
        cycle = found
    rows = await load_cycle(scope, cycle)
    return ScoredCycle(cycle, rows, score_cycle(rows, lookup), await current_shares(scope, presets))
