"""The freshmart demo tenant: a supermarket chain from the source article, run on
the retail pack (enabled for its growth stage; every KPI comes from a retail template).

HQ's objective 年度营收增长20% (annual revenue +20%) cascades into one objective per
region; each region objective has one key result per store, fed by that store's KPIs
(daily sales, foot traffic, sales per floor area 坪效, inventory turnover); a second HQ
objective 优化客户体验 (optimise customer experience) is fed by every store's customer
wait time (≤ 3 min, lower is better). About 90 days of measurements with weekly
seasonality and noise; two stores lag clearly. Everything goes through the core
services, so the demo obeys the same rules and leaves the same audit trail as real use.

Seeding is idempotent (an existing tenant is left alone) and deterministic for a given
``today`` (a fixed random seed).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from ...adapters.bindings import BindingInput, create_binding, update_binding
from ...core import rls
from ...core.enums import CycleKind, Direction, Frequency, OrgUnitKind, Role
from ...core.identity import Identity
from ...core.insights.scan import scan
from ...core.models import (
    DataBinding,
    KeyResult,
    Kpi,
    Measurement,
    Objective,
    OrgUnit,
    Person,
    Tenant,
)
from ...core.periods import period_start
from ...core.secrets import SecretBox
from ...core.services import key_results, kpis, objectives, org
from ...core.services.measurements import MAX_BATCH, MeasurementInput, record_measurements
from ...core.settings import get_settings, secret_box_key
from ...core.tenancy import Actor, TenantScope
from ..apply import create_kpi_from_template
from ..enablement import enable_pack
from ..manager import PackManager
from ..view import TenantPacks, bind_policies, tenant_packs

SLUG = "freshmart"
DEMO_POS_URL = "http://127.0.0.1:8100/api/sales"
POS_ADAPTER = "retail.pos"
DAYS = 90
SEED = 20261128
ADMIN_EMAIL = "admin@freshmart.example"

#: region (zh, en, pinyin-ish key) → stores (zh, en, email key, sales target CNY/quarter)
REGIONS: list[tuple[str, str, str, list[tuple[str, str, str, float]]]] = [
    (
        "华东区",
        "East China",
        "east",
        [
            ("上海徐汇店", "Shanghai Xuhui Store", "sh-xuhui", 6_000_000),
            ("杭州西湖店", "Hangzhou West Lake Store", "hz-xihu", 5_000_000),
            ("南京新街口店", "Nanjing Xinjiekou Store", "nj-xinjiekou", 5_000_000),
        ],
    ),
    (
        "华南区",
        "South China",
        "south",
        [
            ("广州天河店", "Guangzhou Tianhe Store", "gz-tianhe", 5_500_000),
            ("深圳南山店", "Shenzhen Nanshan Store", "sz-nanshan", 5_500_000),
        ],
    ),
    (
        "华北区",
        "North China",
        "north",
        [
            ("北京朝阳店", "Beijing Chaoyang Store", "bj-chaoyang", 6_000_000),
            ("天津和平店", "Tianjin Heping Store", "tj-heping", 4_500_000),
            ("石家庄长安店", "Shijiazhuang Chang'an Store", "sjz-changan", 4_200_000),
        ],
    ),
]
#: Stores that keep missing their KPIs (for the feedback loop to find).
LAGGING = {"nj-xinjiekou", "sjz-changan"}

SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "马", "朱"]
SURNAMES_EN = [
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Zhao",
    "Zhou",
    "Wu",
    "Xu",
    "Sun",
    "Ma",
    "Zhu",
]
GIVEN = [
    ("伟", "Wei"),
    ("芳", "Fang"),
    ("娜", "Na"),
    ("敏", "Min"),
    ("静", "Jing"),
    ("磊", "Lei"),
    ("洋", "Yang"),
    ("艳", "Yan"),
    ("勇", "Yong"),
    ("军", "Jun"),
    ("杰", "Jie"),
    ("涛", "Tao"),
    ("明", "Ming"),
    ("超", "Chao"),
    ("霞", "Xia"),
]


@dataclass
class DemoSummary:
    """What the demo tenant holds, for the CLI to report."""

    tenant_slug: str
    tenant_id: int
    admin_person_id: int
    created: bool
    counts: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        return ", ".join(f"{n} {name}" for name, n in self.counts.items())


@dataclass
class _StoreKpis:
    sales: Kpi
    traffic: Kpi
    per_sqm: Kpi
    wait: Kpi
    turnover: Kpi


class _Names:
    """Deterministic bilingual person names."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def next(self) -> tuple[str, str]:
        i = self.rng.randrange(len(SURNAMES))
        given, given_en = self.rng.choice(GIVEN)
        return SURNAMES[i] + given, f"{given_en} {SURNAMES_EN[i]}"


def _quarter(today: date) -> tuple[date, date, int]:
    q = (today.month - 1) // 3
    start = date(today.year, q * 3 + 1, 1)
    end = date(today.year + (q == 3), (q * 3 + 3) % 12 + 1, 1) - timedelta(days=1)
    return start, end, q + 1


async def _counts(tenant_id: int) -> dict[str, int]:
    return {
        "org units": await OrgUnit.filter(tenant_id=tenant_id).count(),
        "people": await Person.filter(tenant_id=tenant_id).count(),
        "objectives": await Objective.filter(tenant_id=tenant_id).count(),
        "key results": await KeyResult.filter(tenant_id=tenant_id).count(),
        "KPIs": await Kpi.filter(tenant_id=tenant_id).count(),
        "measurements": await Measurement.filter(tenant_id=tenant_id).count(),
    }


def pos_url(host: str = "127.0.0.1", port: int = 8100) -> str:
    """Where ``goalgraph demo-pos --host … --port …`` serves the stores' sales."""
    return f"http://{host}:{port}/api/sales"


async def seed_demo(
    today: date | None = None, packs: PackManager | None = None, pos: str = DEMO_POS_URL
) -> DemoSummary:
    """Create the freshmart tenant unless it exists, its POS binding pulling from ``pos``;
    Tortoise must be initialised. On a tenant that exists, only the binding is pointed at
    ``pos`` (``make demo POS_PORT=…`` moves the demo POS)."""
    existing = await Tenant.get_or_none(slug=SLUG)
    if existing is not None:
        rls.bind(existing.id)
        admin = await Person.get(tenant_id=existing.id, email=ADMIN_EMAIL)
        await _repoint_pos(existing, admin, packs or PackManager.discover(), pos)
        return DemoSummary(SLUG, existing.id, admin.id, False, await _counts(existing.id))
    today = today or date.today()
    rng = random.Random(SEED)
    names = _Names(rng)

    tenant, company = await org.create_tenant(
        slug=SLUG,
        name="鲜达超市",
        name_en="FreshMart Supermarkets",
        industry="retail",
        lifecycle_stage="growth",
    )
    admin = await Person.create(
        tenant_id=tenant.id,
        name="王丽",
        name_en="Wang Li (HR Director)",
        email=ADMIN_EMAIL,
        role=Role.ADMIN,
        org_unit_id=company.id,
    )
    manager = packs or PackManager.discover()
    scope = bind_policies(
        TenantScope(
            tenant,
            Identity(tenant.id, tenant.slug, Role.ADMIN, admin.id),
            Actor(admin, company.path),
        ),
        manager,
    )
    await enable_pack(scope, manager, "retail", ["growth", "new_product_launch"])
    retail = await tenant_packs(scope, manager)
    await org.create_person(
        scope,
        name="陈静",
        name_en="Chen Jing (consultant)",
        email="consultant@freshmart.example",
        role=Role.CONSULTANT,
        org_unit_id=company.id,
    )
    await org.create_person(
        scope,
        name="赵敏",
        name_en="Zhao Min (board observer)",
        email="viewer@freshmart.example",
        role=Role.VIEWER,
        org_unit_id=company.id,
    )

    year = await org.create_cycle(
        scope,
        name=f"{today.year}年度",
        name_en=f"FY{today.year}",
        kind=CycleKind.YEAR,
        starts_on=date(today.year, 1, 1),
        ends_on=date(today.year, 12, 31),
    )
    q_start, q_end, q = _quarter(today)
    await org.create_cycle(
        scope,
        name=f"{today.year}年第{'一二三四'[q - 1]}季度",
        name_en=f"{today.year} Q{q}",
        kind=CycleKind.QUARTER,
        starts_on=q_start,
        ends_on=q_end,
    )

    revenue = await objectives.create_objective(
        scope,
        title="年度营收增长20%",
        title_en="Grow annual revenue by 20%",
        cycle_id=year.id,
        owner_unit_id=company.id,
        description="总部年度目标：各区域按门店情况分解。HQ goal, cascaded to regions and stores.",
    )
    experience = await objectives.create_objective(
        scope,
        title="优化客户体验",
        title_en="Optimise customer experience",
        cycle_id=year.id,
        owner_unit_id=company.id,
    )
    nps = await key_results.create_key_result(
        scope,
        objective_id=experience.id,
        title="顾客净推荐值从30提升到50",
        title_en="Raise NPS from 30 to 50",
        unit="NPS",
        start_value=30,
        target_value=50,
    )
    wait_kr = await key_results.create_key_result(
        scope,
        objective_id=experience.id,
        title="所有门店顾客等待时间不超过3分钟",
        title_en="Customer wait time ≤ 3 min in every store",
        unit="min",
        direction=Direction.LOWER_IS_BETTER,
        start_value=5,
        target_value=3,
        weight=2,
    )

    store_kpis: dict[str, _StoreKpis] = {}
    personal: list[tuple[Kpi, str]] = []
    for region_name, region_en, region_key, stores in REGIONS:
        region = await org.create_org_unit(
            scope,
            name=region_name,
            name_en=region_en,
            kind=OrgUnitKind.REGION,
            parent_id=company.id,
        )
        zh, en = names.next()
        await org.create_person(
            scope,
            name=zh,
            name_en=f"{en} (regional manager)",
            role=Role.MANAGER,
            email=f"{region_key}.manager@freshmart.example",
            org_unit_id=region.id,
        )
        region_objective = await objectives.create_objective(
            scope,
            title=f"{region_name}营收增长20%",
            title_en=f"{region_en} revenue +20%",
            cycle_id=year.id,
            owner_unit_id=region.id,
            parent_id=revenue.id,
        )
        for store_name, store_en, key, sales_target in stores:
            store = await org.create_org_unit(
                scope,
                name=store_name,
                name_en=store_en,
                kind=OrgUnitKind.STORE,
                parent_id=region.id,
                code=key,
            )
            zh, en = names.next()
            await org.create_person(
                scope,
                name=zh,
                name_en=f"{en} (store manager)",
                role=Role.MANAGER,
                email=f"{key}.manager@freshmart.example",
                org_unit_id=store.id,
            )
            kpi_set = await _store_kpis(scope, retail, store.id, sales_target)
            store_kpis[key] = kpi_set
            millions = f"{sales_target / 1_000_000:g}"
            sales_kr = await key_results.create_key_result(
                scope,
                objective_id=region_objective.id,
                title=f"{store_name}季度销售额达{sales_target / 10_000:g}万",
                title_en=f"{store_en}: quarterly sales reach ¥{millions}M",
                unit="CNY",
                target_value=sales_target,
                owner_unit_id=store.id,
            )
            for kpi, weight in (
                (kpi_set.sales, 3.0),
                (kpi_set.traffic, 1.0),
                (kpi_set.per_sqm, 1.0),
                (kpi_set.turnover, 1.0),
            ):
                await kpis.link_kpi(scope, key_result_id=sales_kr.id, kpi_id=kpi.id, weight=weight)
            await kpis.link_kpi(scope, key_result_id=wait_kr.id, kpi_id=kpi_set.wait.id)
            for n in (1, 2):
                zh, en = names.next()
                clerk = await org.create_person(
                    scope,
                    name=zh,
                    name_en=f"{en} (sales associate)",
                    role=Role.EMPLOYEE,
                    email=f"{key}.staff{n}@freshmart.example",
                    org_unit_id=store.id,
                )
                own = await create_kpi_from_template(
                    scope,
                    retail,
                    pack="retail",
                    code="associate_daily_sales",
                    owner_person_id=clerk.id,
                )
                personal.append((own, key))

    # South China speeds up service: the Shenzhen wait-time KPI feeds two key results.
    south = await OrgUnit.get(tenant_id=tenant.id, name="华南区")
    faster = await objectives.create_objective(
        scope,
        title="华南区门店服务提速",
        title_en="South China: faster store service",
        cycle_id=year.id,
        owner_unit_id=south.id,
        parent_id=experience.id,
    )
    shenzhen = await OrgUnit.get(tenant_id=tenant.id, name="深圳南山店")
    sz_kr = await key_results.create_key_result(
        scope,
        objective_id=faster.id,
        title="深圳南山店高峰期等待时间不超过3分钟",
        title_en="Shenzhen Nanshan: peak-hour wait ≤ 3 min",
        unit="min",
        direction=Direction.LOWER_IS_BETTER,
        start_value=5,
        target_value=3,
        owner_unit_id=shenzhen.id,
    )
    await kpis.link_kpi(scope, key_result_id=sz_kr.id, kpi_id=store_kpis["sz-nanshan"].wait.id)

    await _record_history(scope, rng, today, store_kpis, personal)
    for value, confidence, note in (
        (34, 0.6, "首月调研"),
        (38, 0.7, "会员日反馈改善"),
        (41, 0.7, "收银台扩容后回升"),
    ):
        await key_results.check_in(
            scope, key_result_id=nps.id, value=value, confidence=confidence, note=note
        )
    view = await tenant_packs(scope, manager)
    await _bind_pos(scope, view, today, pos)
    await scan(scope, view.courses)  # the feedback loop's first look at the history
    return DemoSummary(SLUG, tenant.id, admin.id, True, await _counts(tenant.id))


async def _bind_pos(scope: TenantScope, retail: TenantPacks, today: date, pos: str) -> None:
    """The stores' KPIs bound to the demo POS (``goalgraph demo-pos``) through the retail
    pack's adapter: every 15 minutes, from the seeding day on (it is read again, as a
    source's latest day usually is, and its figures replace the seeded ones)."""
    await create_binding(
        scope,
        retail.adapters(),
        SecretBox(secret_box_key(get_settings())),
        BindingInput(
            name="门店收银系统 (demo POS)",
            adapter=POS_ADAPTER,
            config={"url": pos, "start": today.isoformat(), "overlap_days": 1},
            metrics=retail.metric_map("retail.pos"),
            every_minutes=15,
        ),
    )


async def _repoint_pos(tenant: Tenant, admin: Person, manager: PackManager, pos: str) -> None:
    """Point the demo POS binding at ``pos`` through the binding service (audited), when
    it points elsewhere."""
    binding = await DataBinding.get_or_none(tenant_id=tenant.id, adapter=POS_ADAPTER)
    if binding is None or binding.config.get("url") == pos:
        return
    unit = await OrgUnit.get(id=admin.org_unit_id)
    scope = bind_policies(
        TenantScope(
            tenant, Identity(tenant.id, tenant.slug, Role.ADMIN, admin.id), Actor(admin, unit.path)
        ),
        manager,
    )
    retail = await tenant_packs(scope, manager)
    await update_binding(
        scope,
        retail.adapters(),
        SecretBox(secret_box_key(get_settings())),
        binding.id,
        BindingInput(config={**binding.config, "url": pos}),
    )


async def _store_kpis(
    scope: TenantScope, retail: TenantPacks, store_id: int, sales_target: float
) -> _StoreKpis:
    """The store's KPIs, each from its retail template (daily sales sized to the store)."""
    daily_sales = round(sales_target / 91, -2)

    async def make(code: str, target: float | None = None, threshold: float | None = None) -> Kpi:
        return await create_kpi_from_template(
            scope,
            retail,
            pack="retail",
            code=code,
            owner_unit_id=store_id,
            target=target,
            threshold=threshold,
        )

    return _StoreKpis(
        sales=await make(
            "store_daily_sales", target=daily_sales, threshold=round(daily_sales * 0.85, -2)
        ),
        traffic=await make("store_daily_foot_traffic"),
        per_sqm=await make("sales_per_sqm"),
        wait=await make("customer_wait_time"),
        turnover=await make("inventory_turnover"),
    )


async def _record_history(
    scope: TenantScope,
    rng: random.Random,
    today: date,
    store_kpis: dict[str, _StoreKpis],
    personal: list[tuple[Kpi, str]],
) -> None:
    """~90 days of values: weekly rhythm, a slow upward trend, noise, two laggards."""
    entries: list[MeasurementInput] = []
    first = today - timedelta(days=DAYS - 1)
    for key, k in store_kpis.items():
        lag = 0.74 if key in LAGGING else 1.0 + rng.uniform(-0.04, 0.08)
        for i in range(DAYS):
            day = first + timedelta(days=i)
            # busier weekends around a weekly mean of 1; a trend from 95% to 105%
            weekend = 1.18 if day.weekday() >= 5 else 0.93
            trend = 0.95 + 0.10 * i / (DAYS - 1)
            noise = lambda spread=0.06: rng.gauss(1.0, spread)  # noqa: E731
            traffic = 1200 * lag * weekend * trend * noise()
            entries += [
                MeasurementInput(k.traffic.id, day, round(traffic)),
                MeasurementInput(
                    k.sales.id, day, round(k.sales.target * lag * weekend * trend * noise(), 2)
                ),
                MeasurementInput(
                    k.per_sqm.id, day, round(120 * lag * weekend * trend * noise(), 1)
                ),
                MeasurementInput(
                    k.wait.id,
                    day,
                    round((4.6 if key in LAGGING else 2.9) * weekend * noise(0.1), 2),
                ),
            ]
        months = sorted(
            {period_start(first + timedelta(days=i), Frequency.MONTHLY) for i in range(DAYS)}
        )
        for month in months:
            entries.append(
                MeasurementInput(k.turnover.id, month, round(0.95 * lag * rng.gauss(1.0, 0.05), 2))
            )
    # The first associate of each lagging store is new and falls short all of the last
    # week: the feedback loop recommends them a course.
    struggling = {key: own.id for own, key in reversed(personal) if key in LAGGING}
    for own, key in personal:
        lag = 0.78 if key in LAGGING else 1.0
        for i in range(DAYS):
            day = first + timedelta(days=i)
            if struggling.get(key) == own.id and i >= DAYS - 7:
                lag = 0.62
            value = 8000 * lag * (1.18 if day.weekday() >= 5 else 0.93) * rng.gauss(1.0, 0.12)
            entries.append(MeasurementInput(own.id, day, round(value, 2)))
    for start in range(0, len(entries), MAX_BATCH):
        await record_measurements(
            scope,
            [
                MeasurementInput(e.kpi_id, e.period, e.value, "demo")
                for e in entries[start : start + MAX_BATCH]
            ],
        )
