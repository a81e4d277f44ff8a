"""Dynamic adjustment (动态调整): new key-result targets for a unit whose KPIs keep missing.

When most of an org unit's KPIs keep missing — at least half of those with values, and
at least two, missed their threshold in most (``MOSTLY`` of ``WINDOW``) of their latest
periods — each active key result the unit owns that KPIs feed gets a proposal with its
numbers (a weekend's good day does not hide a store that misses all week):

- recent attainment: the link-weighted mean achievement (value ÷ target, inverted when
  lower is better) of the feeding KPIs over their latest ``WINDOW`` periods;
- suggested target: start + (target − start) × min(1, attainment × 1.05) — the pace the
  unit actually keeps plus a 5% stretch, never above the current target.

A manager of the unit (or an admin) accepts — the target changes through the audited
key-result update, and the stored scores follow — or dismisses it. A key result with a
proposal waiting gets no second one.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from tortoise.transactions import in_transaction

from ..access import require_edit
from ..enums import GoalStatus, ProposalStatus
from ..i18n import msg
from ..models import Adjustment, KeyResult, Kpi, KpiLink, OrgUnit
from ..owners import resolve_owner
from ..policy import ScoringPolicy
from ..services.key_results import update_key_result
from ..tenancy import TenantScope
from .misses import attainment, latest_values
from .proposals import decide, require_waiting

WINDOW = 7
MOSTLY = 4
STRETCH = 1.05


def suggest(start: float, target: float, attainment: float) -> float:
    """The target the unit's pace supports, rounded to three significant digits."""
    value = start + (target - start) * min(1.0, attainment * STRETCH)
    if value == 0:
        return 0.0
    return round(value, 2 - math.floor(math.log10(abs(value))))


async def propose_adjustments(
    scope: TenantScope, unit_ids: Iterable[int] | None = None
) -> list[Adjustment]:
    """Proposals for every unit (or those of ``unit_ids``: the ones just written to)
    whose KPIs mostly keep missing; returns the new ones."""
    query = scope.query(Kpi).filter(status=GoalStatus.ACTIVE, owner_unit_id__not_isnull=True)
    if unit_ids is not None:
        query = query.filter(owner_unit_id__in=list(unit_ids))
    kpis = await query
    values = await latest_values(scope, kpis, WINDOW)
    measured: dict[int, int] = defaultdict(int)
    missing: dict[int, int] = defaultdict(int)
    for kpi in kpis:
        recent = values.get(kpi.id, [])
        if not recent:
            continue
        unit = kpi.owner_unit_id or 0
        measured[unit] += 1
        misses = sum(not ScoringPolicy.meets(v, kpi.threshold, kpi.direction) for _, v in recent)
        if misses >= min(MOSTLY, len(recent)):
            missing[unit] += 1
    lagging = [u for u, n in missing.items() if n >= 2 and n * 2 >= measured[u]]
    return await _propose(scope, lagging) if lagging else []


async def _propose(scope: TenantScope, unit_ids: Iterable[int]) -> list[Adjustment]:
    key_results = await scope.query(KeyResult).filter(
        owner_unit_id__in=list(unit_ids),
        status=GoalStatus.ACTIVE,
        objective__status=GoalStatus.ACTIVE,
    )
    waiting = set(
        await scope.query(Adjustment)
        .filter(status=ProposalStatus.PROPOSED, key_result_id__in=[k.id for k in key_results])
        .values_list("key_result_id", flat=True)
    )
    key_results = [k for k in key_results if k.id not in waiting]
    links = await scope.query(KpiLink).filter(
        key_result_id__in=[k.id for k in key_results], kpi__status=GoalStatus.ACTIVE
    )
    kpis = await scope.many(Kpi, {link.kpi_id for link in links})
    values = await latest_values(scope, kpis.values(), WINDOW)
    fed: dict[int, list[KpiLink]] = defaultdict(list)
    for link in links:
        fed[link.key_result_id].append(link)
    made = []
    for key_result in sorted(key_results, key=lambda k: k.id):
        parts = [
            (_attainment(kpis[link.kpi_id], values.get(link.kpi_id, [])), link.weight)
            for link in fed.get(key_result.id, [])
        ]
        known = [(a, w) for a, w in parts if a is not None and w > 0]
        if not known:
            continue
        attainment = sum(a * w for a, w in known) / sum(w for _, w in known)
        if attainment >= 1.0:
            continue
        made.append(await _proposal(scope, key_result, attainment, kpis, fed[key_result.id]))
    return made


def _attainment(kpi: Kpi, values: Sequence[tuple[date, float]]) -> float | None:
    if not values:
        return None
    return sum(attainment(kpi, v) for _, v in values) / len(values)


async def _proposal(
    scope: TenantScope,
    key_result: KeyResult,
    attainment: float,
    kpis: dict[int, Kpi],
    links: list[KpiLink],
) -> Adjustment:
    target = key_result.target_value
    suggested = suggest(key_result.start_value, target, attainment)
    names = "、".join(kpis[link.kpi_id].title for link in links)
    names_en = ", ".join(kpis[link.kpi_id].title_en or kpis[link.kpi_id].title for link in links)
    return await scope.create(
        Adjustment,
        org_unit_id=key_result.owner_unit_id,
        key_result_id=key_result.id,
        current_target=target,
        suggested_target=suggested,
        attainment=round(attainment, 4),
        reason=(
            f"近{WINDOW}期{names}平均达成率{attainment:.0%}，多数KPI连续未达标；"
            f"按实际节奏加5%挑战，建议目标由{_n(target)}调整为{_n(suggested)}"
        ),
        reason_en=(
            f"{names_en} averaged {attainment:.0%} of target over the last {WINDOW} periods "
            f"and most of the unit's KPIs keep missing; at that pace plus a 5% stretch, "
            f"the target {_n(target)} becomes {_n(suggested)}"
        ),
        evidence={
            "window": WINDOW,
            "kpis": [
                {"kpi_id": link.kpi_id, "weight": link.weight, "target": kpis[link.kpi_id].target}
                for link in links
            ],
        },
    )


def _n(value: float) -> str:
    """A target as people write it: 5,000,000 or 3.5."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


async def _decidable(scope: TenantScope, adjustment_id: int) -> Adjustment:
    adjustment = await scope.get(Adjustment, adjustment_id, "id")
    unit = await scope.get(OrgUnit, adjustment.org_unit_id)
    require_edit(scope, await resolve_owner(scope, unit.id, None), msg("access.what.targets"), "id")
    require_waiting(adjustment, msg("noun.adjustment"))
    return adjustment


async def accept_adjustment(scope: TenantScope, adjustment_id: int) -> Adjustment:
    """The key result takes the suggested target (audited; its scores follow)."""
    adjustment = await _decidable(scope, adjustment_id)
    async with in_transaction():
        await update_key_result(
            scope, adjustment.key_result_id, {"target_value": adjustment.suggested_target}
        )
        await _decide(scope, adjustment, ProposalStatus.ACCEPTED)
    return adjustment


async def dismiss_adjustment(scope: TenantScope, adjustment_id: int) -> Adjustment:
    adjustment = await _decidable(scope, adjustment_id)
    async with in_transaction():
        await _decide(scope, adjustment, ProposalStatus.DISMISSED)
    return adjustment


async def _decide(scope: TenantScope, row: Adjustment, status: ProposalStatus) -> None:
    await decide(scope, row, "adjustment", status, {"suggested_target": row.suggested_target})
