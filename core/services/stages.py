"""Lifecycle stages (发展阶段) and their OKR/KPI weighting: reading and switching.

The valid stages are the built-in ones plus those defined by packs the tenant enabled;
the caller passes them in (core knows nothing of packs), with each stage's preset OKR
share. Switching the stage or a weighting is an audited admin action.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from .. import audit, events
from ..enums import Role
from ..errors import DomainError, ErrorCode, Problem, forbidden
from ..i18n import msg
from ..models import StageWeighting, Tenant
from ..stages import kpi_share_of
from ..tenancy import TenantScope

TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Weighting:
    """The OKR and KPI shares in force for one stage, and whether the tenant chose them."""

    stage: str
    okr_share: float
    kpi_share: float
    custom: bool


async def weightings(scope: TenantScope, presets: Mapping[str, float]) -> list[Weighting]:
    """Every known stage's weighting: the tenant's own, else the preset (one query)."""
    own = {w.stage: w for w in await scope.query(StageWeighting).all()}
    result = []
    for stage, okr in presets.items():
        row = own.get(stage)
        if row is not None:
            result.append(Weighting(stage, row.okr_share, kpi_share_of(row.okr_share), True))
        else:
            result.append(Weighting(stage, okr, kpi_share_of(okr), False))
    return result


def check_shares(okr_share: float | None, kpi_share: float | None) -> None:
    """Both shares given, each in [0, 1], adding up to 1; every problem reported."""
    problems = [
        Problem(ErrorCode.REQUIRED, msg("error.required", field=name), name)
        for name, share in (("okrShare", okr_share), ("kpiShare", kpi_share))
        if share is None
    ]
    problems += [
        Problem(ErrorCode.OUT_OF_RANGE, msg("error.fraction_range", field=name), name)
        for name, share in (("okrShare", okr_share), ("kpiShare", kpi_share))
        if share is not None and not (math.isfinite(share) and 0.0 <= share <= 1.0)
    ]
    if not problems and abs((okr_share or 0) + (kpi_share or 0) - 1.0) > TOLERANCE:
        problems.append(Problem(ErrorCode.INVALID, msg("stage.shares_sum"), "kpiShare"))
    if problems:
        raise DomainError(*problems)


def _weighting_changed(scope: TenantScope) -> events.Event:
    """Every scorecard of the tenant weighs OKR and KPI differently now (no stored
    score changes: shares are applied when a scorecard is read)."""
    return events.Event(scope.tenant_id, events.PROGRESS, {"weighting": True})


def _require_admin(scope: TenantScope) -> None:
    if scope.role is not Role.ADMIN:
        raise forbidden(msg("stage.admin_only"))


def _require_known(stage: str, presets: Mapping[str, float]) -> None:
    if stage not in presets:
        raise DomainError.single(
            ErrorCode.INVALID,
            msg("stage.unknown", stage=stage, known=sorted(presets)),
            "stage",
        )


async def set_lifecycle_stage(
    scope: TenantScope, stage: str, presets: Mapping[str, float]
) -> Tenant:
    """Move the tenant to ``stage``; scores follow the stage's weighting from now on."""
    _require_admin(scope)
    _require_known(stage, presets)
    tenant = scope.tenant
    if tenant.lifecycle_stage == stage:
        return tenant
    async with in_transaction():
        # the stage as committed, locked: two admins switching at once each audit the
        # stage the other left, not the one their request started with
        current = await Tenant.filter(id=tenant.id).select_for_update().get()
        before = current.lifecycle_stage
        if before == stage:
            tenant.lifecycle_stage = stage
            return tenant
        await Tenant.filter(id=tenant.id).update(lifecycle_stage=stage)
        tenant.lifecycle_stage = stage
        await audit.record(
            scope, "tenant.stage_changed", "tenant", tenant.id, {"stage": before}, {"stage": stage}
        )
        await events.publish_on_commit(_weighting_changed(scope))
    return tenant


async def set_stage_weighting(
    scope: TenantScope,
    stage: str,
    okr_share: float,
    kpi_share: float,
    presets: Mapping[str, float],
) -> Weighting:
    """Set the tenant's OKR/KPI shares for ``stage`` (each in [0, 1], summing to 1)."""
    _require_admin(scope)
    _require_known(stage, presets)
    check_shares(okr_share, kpi_share)
    async with in_transaction():
        row = await scope.query(StageWeighting).filter(stage=stage).select_for_update().first()
        old = row.okr_share if row is not None else presets[stage]
        before = {"okr_share": old, "kpi_share": kpi_share_of(old)}
        if row is None:
            row = await scope.create(StageWeighting, stage=stage, okr_share=okr_share)
        else:
            row.okr_share = okr_share
            await row.save(update_fields=["okr_share", "updated_at"])
        await audit.record(
            scope,
            "stage.weighting_changed",
            "stage_weighting",
            row.id,
            {"stage": stage, **before},
            {"stage": stage, "okr_share": okr_share, "kpi_share": kpi_share},
        )
        await events.publish_on_commit(_weighting_changed(scope))
    return Weighting(stage, okr_share, kpi_share_of(okr_share), True)
