"""Internet companies (互联网): quarterly product innovation and fast iteration.

OKRs lead (季度产品创新); KPIs watch delivery and product health: releases, lead
time, change failure rate, recovery time, active users, retention.
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


class DeliveryAdapter(HttpJsonAdapter):
    """CI/CD and incident tooling: releases, lead time, failures, recovery."""

    name: ClassVar[str] = "internet.delivery"
    title: ClassVar[dict[str, str]] = {"zh": "研发交付流水线", "en": "Delivery pipeline"}
    metrics: ClassVar[dict[str, str]] = {
        "ci.releases": "releases",
        "ci.lead_time_hours": "hours",
        "ci.change_failure_rate": "%",
        "ops.mttr_hours": "hours",
        "ops.incidents": "incidents",
    }
    Config: ClassVar[type[AdapterConfig]] = preset(
        "DeliveryConfig",
        subject_field="team_code",
        period_field="date",
        values={
            "releases": "ci.releases",
            "lead_time_hours": "ci.lead_time_hours",
            "change_failure_rate": "ci.change_failure_rate",
            "mttr_hours": "ops.mttr_hours",
            "incidents": "ops.incidents",
        },
    )


class ProductAnalyticsAdapter(HttpJsonAdapter):
    """Product analytics: active users, retention, conversion, crash-free sessions."""

    name: ClassVar[str] = "internet.analytics"
    title: ClassVar[dict[str, str]] = {"zh": "产品数据分析", "en": "Product analytics"}
    metrics: ClassVar[dict[str, str]] = {
        "analytics.dau": "users",
        "analytics.d7_retention": "%",
        "analytics.conversion": "%",
        "analytics.crash_free": "%",
    }
    #: A product-day row: {"product", "date", "dau", "d7_retention", ...}
    Config: ClassVar[type[AdapterConfig]] = preset(
        "AnalyticsConfig",
        subject_field="product",
        period_field="date",
        values={
            "dau": "analytics.dau",
            "d7_retention": "analytics.d7_retention",
            "conversion": "analytics.conversion",
            "crash_free": "analytics.crash_free",
        },
    )


class Stretch(ScoringPolicy):
    """OKR-style stretch grading: 70% of an ambitious target already counts as 1.0."""

    name: ClassVar[str] = "internet.stretch"
    label: ClassVar[dict[str, str]] = {"zh": "挑战目标评分", "en": "Stretch-goal grading"}
    bounds: ClassVar[tuple[float, float]] = (0.0, 1.0)

    def score(self, value: float, target: float, threshold: float, direction: Direction) -> float:
        return max(0.0, min(1.0, self.achievement(value, target, direction) / 0.7))


def _l(zh: str, en: str) -> Label:
    return Label(zh=zh, en=en)


KPIS = [
    KpiTemplate(
        code="weekly_releases",
        name=_l("每周发布次数", "Releases per week"),
        unit="releases",
        frequency=Frequency.WEEKLY,
        aggregation=Aggregation.SUM,
        default_target=5,
        default_threshold=3,
        level="team",
        metric="ci.releases",
    ),
    KpiTemplate(
        code="lead_time_for_changes",
        name=_l("需求交付周期", "Lead time for changes"),
        unit="hours",
        direction=LOWER,
        default_target=24,
        default_threshold=48,
        level="team",
        metric="ci.lead_time_hours",
    ),
    KpiTemplate(
        code="change_failure_rate",
        name=_l("变更失败率", "Change failure rate"),
        unit="%",
        direction=LOWER,
        frequency=Frequency.WEEKLY,
        default_target=5,
        default_threshold=15,
        level="team",
        metric="ci.change_failure_rate",
    ),
    KpiTemplate(
        code="time_to_restore",
        name=_l("故障恢复时长", "Time to restore service"),
        unit="hours",
        direction=LOWER,
        default_target=1,
        default_threshold=4,
        level="team",
        metric="ops.mttr_hours",
    ),
    KpiTemplate(
        code="daily_active_users",
        name=_l("日活跃用户数", "Daily active users"),
        unit="users",
        default_target=100000,
        default_threshold=80000,
        level="company",
        metric="analytics.dau",
        suggested_weight=2,
    ),
    KpiTemplate(
        code="d7_retention",
        name=_l("7日留存率", "Day-7 retention"),
        unit="%",
        frequency=Frequency.WEEKLY,
        default_target=40,
        default_threshold=30,
        level="department",
        metric="analytics.d7_retention",
        scoring_policy="internet.stretch",
    ),
    KpiTemplate(
        code="conversion_rate",
        name=_l("付费转化率", "Paid conversion rate"),
        unit="%",
        default_target=3,
        default_threshold=2,
        level="department",
        metric="analytics.conversion",
    ),
    KpiTemplate(
        code="crash_free_sessions",
        name=_l("无崩溃会话率", "Crash-free sessions"),
        unit="%",
        default_target=99.8,
        default_threshold=99.5,
        level="team",
        metric="analytics.crash_free",
    ),
    KpiTemplate(
        code="production_incidents",
        name=_l("线上事故数", "Production incidents"),
        unit="incidents",
        direction=LOWER,
        frequency=Frequency.MONTHLY,
        aggregation=Aggregation.SUM,
        default_target=1,
        default_threshold=3,
        level="department",
        metric="ops.incidents",
    ),
]

OKRS = [
    OkrTemplate(
        code="quarterly_product_innovation",
        objective=_l("季度产品创新", "Quarterly product innovation"),
        key_results=(
            KeyResultTemplate(
                title=_l("上线3个新功能并验证价值", "Ship and validate 3 new features"),
                unit="features",
                target_value=3,
                weight=2,
            ),
            KeyResultTemplate(
                title=_l("7日留存从30%提升到40%", "Day-7 retention from 30% to 40%"),
                unit="%",
                start_value=30,
                target_value=40,
                kpi="d7_retention",
            ),
            KeyResultTemplate(
                title=_l("完成10个产品实验", "Run 10 product experiments"),
                unit="experiments",
                target_value=10,
            ),
        ),
    ),
    OkrTemplate(
        code="fast_iteration",
        objective=_l("快速迭代，持续交付", "Iterate fast, deliver continuously"),
        level="department",
        key_results=(
            KeyResultTemplate(
                title=_l("每周发布5次", "Release 5 times a week"),
                unit="releases",
                start_value=1,
                target_value=5,
                kpi="weekly_releases",
            ),
            KeyResultTemplate(
                title=_l("交付周期缩短到1天", "Lead time down to one day"),
                unit="hours",
                direction=LOWER,
                start_value=120,
                target_value=24,
                kpi="lead_time_for_changes",
            ),
        ),
    ),
    OkrTemplate(
        code="reliable_product",
        objective=_l("稳定可靠的产品体验", "A product users can rely on"),
        key_results=(
            KeyResultTemplate(
                title=_l("无崩溃会话率99.8%", "99.8% crash-free sessions"),
                unit="%",
                start_value=99.0,
                target_value=99.8,
                kpi="crash_free_sessions",
            ),
            KeyResultTemplate(
                title=_l("故障恢复时长不超过1小时", "Restore service within an hour"),
                unit="hours",
                direction=LOWER,
                start_value=6,
                target_value=1,
                kpi="time_to_restore",
            ),
        ),
    ),
]

STAGES = [
    LifecycleStageSpec(
        name="fast_iteration_startup",
        label=_l("快速迭代初创期", "Fast-iteration start-up"),
        okr_share=0.8,
        description=_l(
            "以OKR驱动探索，KPI只守底线", "OKRs drive exploration; KPIs only guard the floor"
        ),
    ),
]

COURSES = {
    "change_failure_rate": [
        ("testing_in_ci", "持续集成中的自动化测试", "Automated testing in CI", 6)
    ],
    "time_to_restore": [("incident_response", "线上故障应急响应", "Incident response", 4)],
    "lead_time_for_changes": [("small_batches", "小批量交付实践", "Working in small batches", 3)],
    "d7_retention": [
        ("product_discovery", "产品发现与用户访谈", "Product discovery and interviews", 6)
    ],
}


pack = ContentPack(
    PackInfo(
        name="internet",
        version=PACK_VERSION,
        title=_l("互联网行业包", "Internet companies"),
        industries=("internet", "software"),
        goalgraph=">=0.1,<1",
    ),
    kpi_templates=KPIS,
    okr_templates=OKRS,
    stages=STAGES,
    adapters=[DeliveryAdapter, ProductAnalyticsAdapter],
    policies=[Stretch()],
    courses=COURSES,
)
