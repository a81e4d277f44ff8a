"""Create, change and archive KPIs, and link them to the key results they feed."""

from __future__ import annotations

from typing import Any

from tortoise.transactions import in_transaction

from .. import audit
from ..access import require_edit
from ..enums import Aggregation, Direction, Frequency, GoalStatus
from ..errors import DomainError, ErrorCode, not_found
from ..i18n import msg
from ..models import KeyResult, Kpi, KpiLink
from ..owners import resolve_owner
from ..scoring.store import Changes, refresh
from ..tenancy import TenantScope
from ..validation import Checks
from .edits import apply_changes, archive, with_new_owner
from .frozen import require_open_objective

#: Changes to these are audited: they decide scores and who answers for them (and the
#: trail lets any past score be reproduced).
AUDITED = (
    "target",
    "threshold",
    "weight",
    "direction",
    "scoring_policy",
    "aggregation",
    "owner_unit_id",
    "owner_person_id",
)


def _check(values: dict[str, Any], creating: bool) -> None:
    checks = Checks()
    if "title" in values or creating:
        checks.text("title", values.get("title"), 300)
    if "metric_code" in values or creating:
        checks.text("metricCode", values.get("metric_code"), 64)
    if "title_en" in values:
        checks.text("titleEn", values["title_en"], 300, required=False)
    if "unit" in values:
        checks.text("unit", values["unit"], 32, required=False)
    if "scoring_policy" in values:
        checks.text("scoringPolicy", values["scoring_policy"], 64)
    if "weight" in values:
        checks.weight("weight", values["weight"])
    checks.number("target", values.get("target"))
    checks.number("threshold", values.get("threshold"))
    checks.done()


async def create_kpi(
    scope: TenantScope,
    *,
    metric_code: str,
    title: str,
    target: float,
    threshold: float,
    title_en: str = "",
    unit: str = "",
    direction: Direction = Direction.HIGHER_IS_BETTER,
    weight: float = 1.0,
    frequency: Frequency = Frequency.DAILY,
    aggregation: Aggregation = Aggregation.AVERAGE,
    owner_unit_id: int | None = None,
    owner_person_id: int | None = None,
    origin: str = "",
    scoring_policy: str = "linear",
) -> Kpi:
    """A KPI for an org unit or a person."""
    values = {
        "metric_code": metric_code,
        "title": title,
        "title_en": title_en,
        "unit": unit,
        "weight": weight,
        "target": target,
        "threshold": threshold,
        "scoring_policy": scoring_policy,
    }
    _check(values, creating=True)
    checks = Checks()
    checks.threshold(direction, target, threshold)
    checks.done()
    owner = await resolve_owner(scope, owner_unit_id, owner_person_id)
    require_edit(scope, owner, msg("access.what.kpis"))
    async with in_transaction():
        kpi = await scope.create(
            Kpi,
            metric_code=metric_code.strip(),
            title=title.strip(),
            title_en=title_en.strip(),
            unit=unit,
            direction=direction,
            target=target,
            threshold=threshold,
            weight=weight,
            frequency=frequency,
            aggregation=aggregation,
            owner_unit_id=owner.unit_id,
            owner_person_id=owner.person_id,
            origin=origin,
            scoring_policy=scoring_policy.strip(),
        )
        await audit.record(
            scope, "kpi.created", "kpi", kpi.id, after={k: getattr(kpi, k) for k in AUDITED}
        )
    return kpi


async def _editable(scope: TenantScope, kpi_id: int, field: str = "id") -> Kpi:
    kpi = await scope.get(Kpi, kpi_id, field)
    if kpi.status is GoalStatus.ARCHIVED:
        raise DomainError.single(ErrorCode.ARCHIVED, msg("kpi.archived"), field)
    owner = await resolve_owner(scope, kpi.owner_unit_id, kpi.owner_person_id)
    require_edit(scope, owner, msg("access.what.kpis"), field)
    return kpi


async def update_kpi(scope: TenantScope, kpi_id: int, changes: dict[str, Any]) -> Kpi:
    """Change a KPI; target, threshold, weight and direction changes are audited."""
    _check(changes, creating=False)
    kpi = await _editable(scope, kpi_id)
    changes = await with_new_owner(scope, changes, msg("access.what.kpis"))
    checks = Checks()
    checks.threshold(
        changes.get("direction", kpi.direction),
        changes.get("target", kpi.target),
        changes.get("threshold", kpi.threshold),
    )
    checks.done()
    await apply_changes(scope, kpi, changes, AUDITED, "kpi")
    return kpi


async def archive_kpi(scope: TenantScope, kpi_id: int) -> Kpi:
    """Archive a KPI: it stops feeding key results; measurements stay."""
    kpi = await _editable(scope, kpi_id)
    await archive(scope, kpi, "kpi")
    return kpi


async def link_kpi(
    scope: TenantScope, *, key_result_id: int, kpi_id: int, weight: float = 1.0
) -> KpiLink:
    """Let a KPI feed a key result with ``weight``; linking again changes the weight."""
    checks = Checks()
    checks.weight("weight", weight)
    checks.done()
    key_result = await scope.get(KeyResult, key_result_id, "keyResultId")
    await require_open_objective(scope, key_result.objective_id, "keyResultId")
    if key_result.status is GoalStatus.ARCHIVED:
        raise DomainError.single(ErrorCode.ARCHIVED, msg("kr.archived"), "keyResultId")
    kpi = await scope.find(Kpi, kpi_id)
    if kpi is None:
        raise not_found("kpi", "kpiId")
    if kpi.status is GoalStatus.ARCHIVED:
        raise DomainError.single(ErrorCode.ARCHIVED, msg("kpi.archived"), "kpiId")
    owner = await resolve_owner(scope, key_result.owner_unit_id, key_result.owner_person_id)
    require_edit(scope, owner, msg("access.what.kr_kpis"), "keyResultId")
    async with in_transaction():
        link = await scope.query(KpiLink).filter(key_result_id=key_result.id, kpi_id=kpi.id).first()
        if link is None:
            link = await scope.create(
                KpiLink, key_result_id=key_result.id, kpi_id=kpi.id, weight=weight
            )
            await audit.record(
                scope,
                "kpi.linked",
                "kpi_link",
                link.id,
                None,
                {"key_result_id": key_result.id, "kpi_id": kpi.id, "weight": weight},
            )
        elif link.weight != weight:
            before = {"weight": link.weight}
            link.weight = weight
            await link.save(update_fields=["weight", "updated_at"])
            await audit.record(
                scope, "kpi.link_weight", "kpi_link", link.id, before, {"weight": weight}
            )
        await refresh(scope, Changes(key_results={key_result.id}))
    return link


async def unlink_kpi(scope: TenantScope, *, key_result_id: int, kpi_id: int) -> KeyResult:
    """Stop a KPI feeding a key result."""
    key_result = await scope.get(KeyResult, key_result_id, "keyResultId")
    await require_open_objective(scope, key_result.objective_id, "keyResultId")
    owner = await resolve_owner(scope, key_result.owner_unit_id, key_result.owner_person_id)
    require_edit(scope, owner, msg("access.what.kr_kpis"), "keyResultId")
    async with in_transaction():
        link = await scope.query(KpiLink).filter(key_result_id=key_result.id, kpi_id=kpi_id).first()
        if link is None:
            raise not_found("kpi_link", "kpiId")
        await audit.record(
            scope,
            "kpi.unlinked",
            "kpi_link",
            link.id,
            {"key_result_id": key_result.id, "kpi_id": kpi_id, "weight": link.weight},
            None,
        )
        await link.delete()
        await refresh(scope, Changes(key_results={key_result.id}))
    return key_result
