"""Retail chains (连锁零售): stores, foot traffic, 坪效, new-product launches.

From the source article: a supermarket chain's HQ objective 年度营收增长20% cascades to
stores with regional KPIs; a beverage chain's 优化客户体验 becomes each store's
"customer wait time ≤ 3 min"; a tea brand's new-product launch period (新品推广期) ran
"cover 10 cities in 3 months" with per-store daily new-product sales.
"""

from __future__ import annotations

from typing import ClassVar

from ...adapters.contract import AdapterConfig
from ...adapters.http_json import HttpJsonAdapter, preset
from ...core.enums import Aggregation, Direction, Frequency
from ...core.policy import ScoringPolicy
from ..content import ContentPack
from ..types import (
    KeyResultTemplate,
    KpiTemplate,
    Label,
    LifecycleStageSpec,
    OkrTemplate,
    PackInfo,
)
from ..version import PACK_VERSION

LOWER = Direction.LOWER_IS_BETTER


class PosAdapter(HttpJsonAdapter):
    """Point-of-sale and store sensors: sales, tickets, door counters, queue times."""

    name: ClassVar[str] = "retail.pos"
    title: ClassVar[dict[str, str]] = {"zh": "门店收银与客流系统", "en": "Store POS and traffic"}
    metrics: ClassVar[dict[str, str]] = {
        "pos.sales": "CNY",
        "pos.new_product_units": "pieces",
        "pos.sales_per_sqm": "CNY/m²",
        "door.visitors": "persons",
        "queue.wait_minutes": "min",
        "pos.basket_size": "CNY/person",
    }
    #: A store-day row: {"store_code", "date", "sales", "visitors", "wait_minutes", ...}
    Config: ClassVar[type[AdapterConfig]] = preset(
        "PosConfig",
        subject_field="store_code",
        period_field="date",
        values={
            "sales": "pos.sales",
            "new_product_units": "pos.new_product_units",
            "sales_per_sqm": "pos.sales_per_sqm",
            "visitors": "door.visitors",
            "wait_minutes": "queue.wait_minutes",
            "basket_size": "pos.basket_size",
        },
    )


class InventoryAdapter(HttpJsonAdapter):
    """The warehouse / ERP system: turnover and stock-outs."""

    name: ClassVar[str] = "retail.inventory"
    title: ClassVar[dict[str, str]] = {"zh": "库存与补货系统", "en": "Inventory and replenishment"}
    metrics: ClassVar[dict[str, str]] = {
        "erp.inventory_turnover": "times",
        "erp.stockout_rate": "%",
    }
    Config: ClassVar[type[AdapterConfig]] = preset(
        "InventoryConfig",
        subject_field="store_code",
        period_field="date",
        values={"turnover": "erp.inventory_turnover", "stockout_rate": "erp.stockout_rate"},
    )


class NewProductBonus(ScoringPolicy):
    """Launch-period scoring: linear to target, then a bonus of half the overshoot, cap 1.5."""

    name: ClassVar[str] = "retail.new_product_bonus"
    label: ClassVar[dict[str, str]] = {"zh": "新品超额奖励", "en": "New-product overshoot bonus"}

    def score(self, value: float, target: float, threshold: float, direction: Direction) -> float:
        rate = max(0.0, self.achievement(value, target, direction))
        return min(1.5, rate if rate <= 1 else 1 + (rate - 1) / 2)


def _l(zh: str, en: str) -> Label:
    return Label(zh=zh, en=en)


KPIS = [
    KpiTemplate(
        code="store_daily_foot_traffic",
        name=_l("单店日均客流量", "Daily foot traffic per store"),
        unit="persons",
        default_target=1200,
        default_threshold=1000,
        level="store",
        metric="door.visitors",
        suggested_weight=1,
    ),
    KpiTemplate(
        code="store_daily_sales",
        name=_l("门店日销售额", "Store daily sales"),
        unit="CNY",
        default_target=55000,
        default_threshold=47000,
        aggregation=Aggregation.SUM,
        level="store",
        metric="pos.sales",
        suggested_weight=3,
    ),
    KpiTemplate(
        code="monthly_sales_growth",
        name=_l("月度销售额增长率", "Monthly sales growth"),
        description=_l("同比上月", "Against the previous month"),
        unit="%",
        frequency=Frequency.MONTHLY,
        aggregation=Aggregation.LAST,
        default_target=10,
        default_threshold=5,
        level="store",
        suggested_weight=2,
    ),
    KpiTemplate(
        code="inventory_turnover",
        name=_l("库存周转率", "Inventory turnover"),
        unit="times",
        frequency=Frequency.MONTHLY,
        aggregation=Aggregation.LAST,
        default_target=1.0,
        default_threshold=0.8,
        level="store",
        metric="erp.inventory_turnover",
    ),
    KpiTemplate(
        code="sales_per_sqm",
        name=_l("坪效", "Sales per floor area"),
        unit="CNY/m²",
        default_target=120,
        default_threshold=100,
        level="store",
        metric="pos.sales_per_sqm",
    ),
    KpiTemplate(
        code="customer_wait_time",
        name=_l("顾客等待时间", "Customer wait time"),
        unit="min",
        description=_l("不超过3分钟", "At most 3 minutes"),
        direction=LOWER,
        default_target=3,
        default_threshold=4,
        level="store",
        metric="queue.wait_minutes",
    ),
    KpiTemplate(
        code="new_product_daily_sales",
        name=_l("单店日均新品销量", "Daily new-product sales per store"),
        unit="pieces",
        aggregation=Aggregation.SUM,
        default_target=80,
        default_threshold=60,
        level="store",
        metric="pos.new_product_units",
        stages=("new_product_launch",),
        scoring_policy="retail.new_product_bonus",
    ),
    KpiTemplate(
        code="stockout_rate",
        name=_l("缺货率", "Stock-out rate"),
        unit="%",
        direction=LOWER,
        default_target=2,
        default_threshold=4,
        level="store",
        metric="erp.stockout_rate",
        scoring_policy="banded",
    ),
    KpiTemplate(
        code="average_basket",
        name=_l("客单价", "Average basket value"),
        unit="CNY/person",
        default_target=68,
        default_threshold=58,
        level="store",
        metric="pos.basket_size",
    ),
    KpiTemplate(
        code="associate_daily_sales",
        name=_l("个人日均销售额", "Associate daily sales"),
        unit="CNY",
        aggregation=Aggregation.SUM,
        default_target=8000,
        default_threshold=6500,
        level="person",
    ),
]

OKRS = [
    OkrTemplate(
        code="optimise_customer_experience",
        objective=_l("优化客户体验", "Optimise customer experience"),
        key_results=(
            KeyResultTemplate(
                title=_l(
                    "所有门店顾客等待时间不超过3分钟", "Customer wait time ≤ 3 min in every store"
                ),
                unit="min",
                direction=LOWER,
                start_value=5,
                target_value=3,
                weight=2,
                kpi="customer_wait_time",
            ),
            KeyResultTemplate(
                title=_l("缺货率降至2%", "Stock-outs down to 2%"),
                unit="%",
                direction=LOWER,
                start_value=6,
                target_value=2,
                kpi="stockout_rate",
            ),
            KeyResultTemplate(
                title=_l("顾客净推荐值从30提升到50", "Raise NPS from 30 to 50"),
                unit="NPS",
                start_value=30,
                target_value=50,
            ),
        ),
    ),
    OkrTemplate(
        code="grow_revenue",
        objective=_l("年度营收增长20%", "Grow annual revenue by 20%"),
        key_results=(
            KeyResultTemplate(
                title=_l("门店日销售额达标", "Stores reach their daily sales target"),
                unit="CNY",
                target_value=55000,
                weight=3,
                kpi="store_daily_sales",
            ),
            KeyResultTemplate(
                title=_l("坪效提升至120元/㎡", "Sales per floor area up to ¥120/m²"),
                unit="CNY/m²",
                start_value=95,
                target_value=120,
                kpi="sales_per_sqm",
            ),
            KeyResultTemplate(
                title=_l("单店日均客流量1200人", "1,200 visitors per store and day"),
                unit="persons",
                start_value=900,
                target_value=1200,
                kpi="store_daily_foot_traffic",
            ),
        ),
    ),
    OkrTemplate(
        code="store_expansion",
        objective=_l("门店拓展", "Store expansion"),
        level="company",
        key_results=(
            KeyResultTemplate(
                title=_l("新开10家门店", "Open 10 new stores"),
                unit="stores",
                target_value=10,
                weight=2,
            ),
            KeyResultTemplate(
                title=_l("新店首月坪效达100元/㎡", "New stores reach ¥100/m² in month one"),
                unit="CNY/m²",
                target_value=100,
                kpi="sales_per_sqm",
            ),
            KeyResultTemplate(
                title=_l("库存周转率保持1次/月", "Keep inventory turning once a month"),
                unit="times",
                start_value=0.7,
                target_value=1.0,
                kpi="inventory_turnover",
            ),
        ),
    ),
    OkrTemplate(
        code="cover_cities",
        objective=_l("3个月内覆盖10个城市", "Cover 10 cities in 3 months"),
        stages=("new_product_launch",),
        key_results=(
            KeyResultTemplate(
                title=_l("新品进入10个城市", "New product on sale in 10 cities"),
                unit="cities",
                target_value=10,
                weight=2,
            ),
            KeyResultTemplate(
                title=_l("单店日均新品销量80杯", "80 new-product units per store and day"),
                unit="pieces",
                target_value=80,
                kpi="new_product_daily_sales",
            ),
        ),
    ),
]

STAGES = [
    LifecycleStageSpec(
        name="new_product_launch",
        label=_l("新品推广期", "New-product launch"),
        okr_share=0.6,
        description=_l(
            "以OKR拉动新品覆盖，KPI盯住单店销量", "OKRs drive coverage; KPIs watch per-store sales"
        ),
    ),
]

COURSES = {
    "customer_wait_time": [("queue_management", "收银排队管理", "Checkout queue management", 4)],
    "store_daily_sales": [("consultative_selling", "顾问式销售技巧", "Consultative selling", 6)],
    "associate_daily_sales": [
        ("consultative_selling", "顾问式销售技巧", "Consultative selling", 6),
        ("product_knowledge", "商品知识提升", "Product knowledge", 3),
    ],
    "new_product_daily_sales": [
        ("launch_playbook", "新品推广话术", "New-product launch playbook", 2)
    ],
    "stockout_rate": [("replenishment_basics", "补货与订货基础", "Replenishment basics", 3)],
}


pack = ContentPack(
    PackInfo(
        name="retail",
        version=PACK_VERSION,
        title=_l("连锁零售行业包", "Retail chains"),
        industries=("retail",),
        goalgraph=">=0.1,<1",
    ),
    kpi_templates=KPIS,
    okr_templates=OKRS,
    stages=STAGES,
    adapters=[PosAdapter, InventoryAdapter],
    policies=[NewProductBonus()],
    courses=COURSES,
)
