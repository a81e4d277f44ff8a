"""Creating goals from pack templates.

A KPI template becomes a KPI for one owner. An OKR template cascades: one objective
with its key results, and for every key result bound to a KPI template, one KPI per
chosen org unit feeding it (HQ "优化客户体验" → each store's "customer wait time ≤ 3
min"). Everything of one application is written in one transaction, and a unit that
already has an active KPI from the same template is linked rather than given a second.
"""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.transactions import in_transaction

from ..core.enums import GoalStatus
from ..core.errors import DomainError, ErrorCode, not_found
from ..core.i18n import msg
from ..core.models import Kpi, Objective, OrgUnit, Person
from ..core.services import key_results, kpis, objectives
from ..core.tenancy import TenantScope
from .types import KpiTemplate
from .view import TenantPacks


def origin_of(pack: str, code: str) -> str:
    return f"{pack}:{code}"


async def _check_level(
    scope: TenantScope, template: KpiTemplate, unit_id: int | None, person_id: int | None
) -> None:
    if person_id is not None:
        if await scope.find(Person, person_id) is None:
            raise not_found("person", "ownerPersonId")
        if template.level != "person":
            raise DomainError.single(
                ErrorCode.INVALID,
                msg("pack.template_not_person", code=template.code, level=template.level),
                "ownerPersonId",
            )
        return
    unit = await scope.find(OrgUnit, unit_id) if unit_id is not None else None
    if unit is None:
        raise not_found("org_unit", "ownerUnitId")
    if template.level != unit.kind.value:
        raise DomainError.single(
            ErrorCode.INVALID,
            msg(
                "pack.template_level",
                code=template.code,
                level=template.level,
                kind=unit.kind.value,
            ),
            "ownerUnitId",
        )


async def create_kpi_from_template(
    scope: TenantScope,
    packs: TenantPacks,
    *,
    pack: str,
    code: str,
    owner_unit_id: int | None = None,
    owner_person_id: int | None = None,
    target: float | None = None,
    threshold: float | None = None,
    weight: float | None = None,
) -> Kpi:
    """A KPI from a template enabled for the tenant's current stage."""
    template = packs.kpi_template(pack, code)
    if template is None:
        raise DomainError.single(
            ErrorCode.NOT_FOUND,
            msg("pack.kpi_template_unavailable", pack=pack, code=code),
            "code",
        )
    await _check_level(scope, template, owner_unit_id, owner_person_id)
    return await kpis.create_kpi(
        scope,
        metric_code=template.code,
        title=template.name.zh,
        title_en=template.name.en,
        unit=template.unit,
        direction=template.direction,
        target=template.default_target if target is None else target,
        threshold=template.default_threshold if threshold is None else threshold,
        weight=template.suggested_weight if weight is None else weight,
        frequency=template.frequency,
        aggregation=template.aggregation,
        owner_unit_id=owner_unit_id,
        owner_person_id=owner_person_id,
        origin=origin_of(pack, code),
        scoring_policy=template.scoring_policy,
    )


async def apply_okr_template(
    scope: TenantScope,
    packs: TenantPacks,
    *,
    pack: str,
    code: str,
    cycle_id: int,
    owner_unit_id: int,
    unit_ids: Sequence[int] = (),
    parent_id: int | None = None,
) -> Objective:
    """Cascade an OKR template for ``owner_unit_id`` into KPIs of ``unit_ids``."""
    template = packs.okr_template(pack, code)
    if template is None:
        raise DomainError.single(
            ErrorCode.NOT_FOUND,
            msg("pack.okr_template_unavailable", pack=pack, code=code),
            "code",
        )
    units = await scope.many(OrgUnit, [*unit_ids, owner_unit_id])
    if any(u not in units for u in unit_ids):
        raise not_found("org_unit", "unitIds")
    if owner_unit_id not in units:
        raise not_found("org_unit", "ownerUnitId")
    owner_kind = units[owner_unit_id].kind.value
    async with in_transaction():
        objective = await objectives.create_objective(
            scope,
            title=template.objective.zh,
            title_en=template.objective.en,
            description=template.description.zh if template.description else "",
            cycle_id=cycle_id,
            owner_unit_id=owner_unit_id,
            parent_id=parent_id,
            origin=origin_of(pack, code),
        )
        for kr_template in template.key_results:
            key_result = await key_results.create_key_result(
                scope,
                objective_id=objective.id,
                title=kr_template.title.zh,
                title_en=kr_template.title.en,
                unit=kr_template.unit,
                direction=kr_template.direction,
                start_value=kr_template.start_value,
                target_value=kr_template.target_value,
                weight=kr_template.weight,
                origin=origin_of(pack, code),
            )
            if kr_template.kpi is None:
                continue
            for unit_id in _units_for(
                template_level(packs, pack, kr_template.kpi),
                units,
                unit_ids,
                owner_unit_id,
                owner_kind,
                kr_template.title.en,
            ):
                kpi = await _kpi_for(scope, packs, pack, kr_template.kpi, unit_id)
                await kpis.link_kpi(scope, key_result_id=key_result.id, kpi_id=kpi.id)
    return objective


def template_level(packs: TenantPacks, pack: str, code: str) -> str:
    template = packs.kpi_template(pack, code)
    assert template is not None  # the manager checked every key result's KPI template
    return template.level


def _units_for(
    level: str,
    units: dict[int, OrgUnit],
    unit_ids: Sequence[int],
    owner_unit_id: int,
    owner_kind: str,
    key_result: str,
) -> list[int]:
    """Units that get this key result's KPI: the chosen units of the template's level,
    or else the objective's owner when it is of that level."""
    chosen = [u for u in dict.fromkeys(unit_ids) if units[u].kind.value == level]
    if chosen:
        return chosen
    if owner_kind == level:
        return [owner_unit_id]
    raise DomainError.single(
        ErrorCode.INVALID,
        msg("pack.kr_needs_units", key_result=key_result, level=level),
        "unitIds",
    )


async def _kpi_for(
    scope: TenantScope, packs: TenantPacks, pack: str, code: str, unit_id: int
) -> Kpi:
    """The unit's active KPI from this template, created if it has none."""
    existing = (
        await scope.query(Kpi)
        .filter(owner_unit_id=unit_id, origin=origin_of(pack, code), status=GoalStatus.ACTIVE)
        .first()
    )
    if existing is not None:
        return existing
    return await create_kpi_from_template(scope, packs, pack=pack, code=code, owner_unit_id=unit_id)
