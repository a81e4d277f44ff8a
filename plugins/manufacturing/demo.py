"""The textile demo tenant (slug ``textile``): the source article's disconnect (断层点).

锦纶纺织 pays its line workers by the piece (计件工资) and reviews weekly. For twelve
weeks both workshops beat their piece-rate attainment target, while the customer
complaint rate (客户投诉率), the key result of the company's quality objective, stays
flat around 2%: the KPI rewards output, not the quality the objective asks for. The
cross-analysis (``disconnects``, ``crossReport``) finds exactly that.
"""

from __future__ import annotations

from datetime import date, timedelta

from ...core.enums import CycleKind, Direction, Frequency, OrgUnitKind, Role
from ...core.identity import Identity
from ...core.models import Person, Tenant
from ...core.services import key_results, kpis, objectives, org
from ...core.services.measurements import MeasurementInput, record_measurements
from ...core.tenancy import Actor, TenantScope
from ..enablement import enable_pack
from ..manager import PackManager
from ..view import bind_policies

SLUG = "textile"
#: Twelve weeks as the review saw them: both workshops beat 100% every week, the
#: complaint rate hovers around 2% with no trend either way.
PIECE_RATE = {
    "W1": [104.2, 109.4, 105.3, 111.0, 106.8, 108.1, 104.9, 110.6, 107.3, 105.8, 111.7, 106.2],
    "W2": [108.1, 105.0, 110.3, 106.4, 109.1, 104.6, 111.2, 107.7, 105.9, 110.1, 106.6, 108.8],
}
COMPLAINTS = [2.04, 1.97, 2.08, 1.99, 2.02, 2.06, 1.95, 2.03, 2.07, 1.98, 2.01, 2.05]
WEEKS = len(COMPLAINTS)


async def seed_textile(today: date | None = None, packs: PackManager | None = None) -> bool:
    """Create the textile tenant unless it exists; True when it was created."""
    if await Tenant.exists(slug=SLUG):
        return False
    today = today or date.today()
    manager = packs or PackManager.discover()
    tenant, company = await org.create_tenant(slug=SLUG, name="锦纶纺织", name_en="Jinlun Textile")
    tenant.industry = "manufacturing"
    await tenant.save(update_fields=["industry"])
    admin = await Person.create(
        tenant_id=tenant.id,
        name="赵敏",
        name_en="Zhao Min (HR)",
        email="admin@textile.example",
        role=Role.ADMIN,
        org_unit_id=company.id,
    )
    scope = bind_policies(
        TenantScope(
            tenant,
            Identity(tenant.id, tenant.slug, Role.ADMIN, admin.id),
            Actor(admin, company.path),
        ),
        manager,
    )
    await enable_pack(scope, manager, "manufacturing", ["growth", "mature", "capacity_ramp_up"])
    production = await org.create_org_unit(
        scope,
        name="生产部",
        name_en="Production",
        kind=OrgUnitKind.DEPARTMENT,
        parent_id=company.id,
    )
    quality = await org.create_org_unit(
        scope, name="质量部", name_en="Quality", kind=OrgUnitKind.DEPARTMENT, parent_id=company.id
    )
    lines = [
        await org.create_org_unit(
            scope, name=name, name_en=en, kind=OrgUnitKind.TEAM, parent_id=production.id, code=code
        )
        for name, en, code in (("一车间", "Workshop 1", "W1"), ("二车间", "Workshop 2", "W2"))
    ]
    for unit, name, en in (
        (production, "孙强", "Sun Qiang"),
        (quality, "钱芳", "Qian Fang"),
        (lines[0], "李刚", "Li Gang"),
        (lines[1], "周丽", "Zhou Li"),
    ):
        await org.create_person(
            scope, name=name, name_en=en, role=Role.MANAGER, org_unit_id=unit.id
        )
    first = today - timedelta(weeks=WEEKS - 1)
    year = await org.create_cycle(
        scope,
        name=f"{today.year}年度",
        name_en=f"FY{today.year}",
        kind=CycleKind.YEAR,
        starts_on=min(date(today.year, 1, 1), first - timedelta(days=7)),
        ends_on=date(today.year, 12, 31),
    )
    goal = await objectives.create_objective(
        scope,
        title="提升产品质量，降低客户投诉",
        title_en="Better quality, fewer customer complaints",
        cycle_id=year.id,
        owner_unit_id=company.id,
    )
    complaints_kr = await key_results.create_key_result(
        scope,
        objective_id=goal.id,
        title="客户投诉率从2%降到0.8%",
        title_en="Customer complaint rate from 2% to 0.8%",
        unit="%",
        direction=Direction.LOWER_IS_BETTER,
        start_value=2.0,
        target_value=0.8,
        owner_unit_id=quality.id,
    )
    output_kr = await key_results.create_key_result(
        scope,
        objective_id=goal.id,
        title="各车间计件工资达成率保持100%以上",
        title_en="Piece-rate attainment at 100%+ in every workshop",
        unit="%",
        start_value=90,
        target_value=100,
        owner_unit_id=production.id,
    )
    complaint_kpi = await kpis.create_kpi(
        scope,
        metric_code="customer_complaint_rate",
        title="客户投诉率",
        title_en="Customer complaint rate",
        unit="%",
        direction=Direction.LOWER_IS_BETTER,
        target=0.8,
        threshold=1.5,
        frequency=Frequency.WEEKLY,
        owner_unit_id=quality.id,
        origin="manufacturing:customer_complaint_rate",
    )
    await kpis.link_kpi(scope, key_result_id=complaints_kr.id, kpi_id=complaint_kpi.id)
    entries = []
    for line in lines:
        piece = await kpis.create_kpi(
            scope,
            metric_code="piece_rate_attainment",
            title=f"{line.name}计件工资达成率",
            title_en=f"{line.name_en} piece-rate attainment",
            unit="%",
            target=100,
            threshold=90,
            frequency=Frequency.WEEKLY,
            owner_unit_id=line.id,
            scoring_policy="manufacturing.piece_rate",
            origin="manufacturing:piece_rate_attainment",
        )
        await kpis.link_kpi(scope, key_result_id=output_kr.id, kpi_id=piece.id, weight=0.5)
        entries += [
            MeasurementInput(piece.id, first + timedelta(weeks=w), value)
            for w, value in enumerate(PIECE_RATE[line.code or ""])
        ]
    entries += [
        MeasurementInput(complaint_kpi.id, first + timedelta(weeks=w), value)
        for w, value in enumerate(COMPLAINTS)
    ]
    await record_measurements(
        scope, [MeasurementInput(e.kpi_id, e.period, e.value, "demo") for e in entries]
    )
    return True
