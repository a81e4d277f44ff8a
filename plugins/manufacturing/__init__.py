"""Manufacturing (制造/智能制造): line output, piece-rate pay, complaints, R&D cycle time.

From the source article: a textile company saw piece-rate pay (计件工资) attainment high
while the customer-complaint rate (客户投诉率, tied to an OKR) did not improve, and
changed its weights; process innovation (工艺创新) and a shorter R&D cycle (研发周期)
are its OKRs.
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


class MesAdapter(HttpJsonAdapter):
    """The manufacturing execution system: output, defects, attainment, downtime."""

    name: ClassVar[str] = "manufacturing.mes"
    title: ClassVar[dict[str, str]] = {
        "zh": "生产执行系统(MES)",
        "en": "Manufacturing execution (MES)",
    }
    metrics: ClassVar[dict[str, str]] = {
        "mes.line_output": "pieces",
        "mes.plan_attainment": "%",
        "mes.defect_rate": "%",
        "mes.oee": "%",
        "mes.downtime_hours": "hours",
    }
    #: A line-day row: {"line_code", "date", "output", "plan_attainment", ...}
    Config: ClassVar[type[AdapterConfig]] = preset(
        "MesConfig",
        subject_field="line_code",
        period_field="date",
        values={
            "output": "mes.line_output",
            "plan_attainment": "mes.plan_attainment",
            "defect_rate": "mes.defect_rate",
            "oee": "mes.oee",
            "downtime_hours": "mes.downtime_hours",
        },
    )


class QualityAdapter(HttpJsonAdapter):
    """Customer service and quality: complaints per thousand shipped units."""

    name: ClassVar[str] = "manufacturing.quality"
    title: ClassVar[dict[str, str]] = {"zh": "质量与客诉系统", "en": "Quality and complaints"}
    metrics: ClassVar[dict[str, str]] = {"qms.complaint_rate": "%"}
    Config: ClassVar[type[AdapterConfig]] = preset(
        "QualityConfig",
        subject_field="line_code",
        period_field="date",
        values={"complaint_rate": "qms.complaint_rate"},
    )


class PayrollAdapter(HttpJsonAdapter):
    """HR / payroll: piece-rate pay attainment and attendance (考勤)."""

    name: ClassVar[str] = "manufacturing.payroll"
    title: ClassVar[dict[str, str]] = {
        "zh": "计件工资与考勤",
        "en": "Piece-rate pay and attendance",
    }
    metrics: ClassVar[dict[str, str]] = {"hr.piece_rate_attainment": "%", "hr.attendance": "%"}
    #: An employee-day row (piece-rate records, 考勤): {"employee_no", "date", ...}
    Config: ClassVar[type[AdapterConfig]] = preset(
        "PayrollConfig",
        subject_field="employee_no",
        period_field="date",
        values={
            "piece_rate_attainment": "hr.piece_rate_attainment",
            "attendance": "hr.attendance",
        },
    )


class PieceRate(ScoringPolicy):
    """Piece-rate scoring: nothing below the threshold, linear above it up to 200%."""

    name: ClassVar[str] = "manufacturing.piece_rate"
    label: ClassVar[dict[str, str]] = {"zh": "计件制评分", "en": "Piece-rate scoring"}
    bounds: ClassVar[tuple[float, float]] = (0.0, 2.0)

    def score(self, value: float, target: float, threshold: float, direction: Direction) -> float:
        if self.achievement(value, threshold, direction) < 1:
            return 0.0
        return min(2.0, self.achievement(value, target, direction))


def _l(zh: str, en: str) -> Label:
    return Label(zh=zh, en=en)


KPIS = [
    KpiTemplate(
        code="line_daily_output",
        name=_l("生产线每日产出", "Line daily output"),
        unit="pieces",
        aggregation=Aggregation.SUM,
        default_target=5000,
        default_threshold=4500,
        level="team",
        metric="mes.line_output",
        suggested_weight=3,
    ),
    KpiTemplate(
        code="production_target_attainment",
        name=_l("生产计划达成率", "Production target attainment"),
        unit="%",
        default_target=100,
        default_threshold=95,
        level="department",
        metric="mes.plan_attainment",
        suggested_weight=2,
    ),
    KpiTemplate(
        code="piece_rate_attainment",
        name=_l("计件工资达成率", "Piece-rate pay attainment"),
        unit="%",
        frequency=Frequency.MONTHLY,
        aggregation=Aggregation.LAST,
        default_target=100,
        default_threshold=90,
        level="person",
        metric="hr.piece_rate_attainment",
        scoring_policy="manufacturing.piece_rate",
    ),
    KpiTemplate(
        code="customer_complaint_rate",
        name=_l("客户投诉率", "Customer complaint rate"),
        description=_l("每千件发货的投诉数", "Complaints per thousand units shipped"),
        unit="%",
        direction=LOWER,
        frequency=Frequency.MONTHLY,
        aggregation=Aggregation.LAST,
        default_target=0.5,
        default_threshold=1.0,
        level="company",
        metric="qms.complaint_rate",
        suggested_weight=2,
    ),
    KpiTemplate(
        code="defect_rate",
        name=_l("不良率", "Defect rate"),
        unit="%",
        direction=LOWER,
        default_target=1,
        default_threshold=2,
        level="team",
        metric="mes.defect_rate",
    ),
    KpiTemplate(
        code="oee",
        name=_l("设备综合效率", "Overall equipment effectiveness"),
        unit="%",
        default_target=85,
        default_threshold=75,
        level="team",
        metric="mes.oee",
    ),
    KpiTemplate(
        code="unplanned_downtime",
        name=_l("非计划停机时长", "Unplanned downtime"),
        unit="hours",
        direction=LOWER,
        aggregation=Aggregation.SUM,
        default_target=1,
        default_threshold=2,
        level="team",
        metric="mes.downtime_hours",
    ),
    KpiTemplate(
        code="attendance_rate",
        name=_l("出勤率", "Attendance rate"),
        unit="%",
        frequency=Frequency.MONTHLY,
        aggregation=Aggregation.LAST,
        default_target=98,
        default_threshold=95,
        level="person",
        metric="hr.attendance",
    ),
    KpiTemplate(
        code="rd_cycle_time",
        name=_l("研发周期", "R&D cycle time"),
        unit="days",
        direction=LOWER,
        frequency=Frequency.QUARTERLY,
        aggregation=Aggregation.AVERAGE,
        default_target=60,
        default_threshold=75,
        level="department",
    ),
]

OKRS = [
    OkrTemplate(
        code="process_innovation",
        objective=_l("工艺创新", "Process innovation"),
        key_results=(
            KeyResultTemplate(
                title=_l("不良率降至1%", "Defect rate down to 1%"),
                unit="%",
                direction=LOWER,
                start_value=2.5,
                target_value=1,
                kpi="defect_rate",
            ),
            KeyResultTemplate(
                title=_l("设备综合效率达85%", "OEE reaches 85%"),
                unit="%",
                start_value=72,
                target_value=85,
                kpi="oee",
            ),
            KeyResultTemplate(
                title=_l("落地3项工艺改进", "Ship 3 process improvements"),
                unit="count",
                target_value=3,
            ),
        ),
    ),
    OkrTemplate(
        code="shorter_rd_cycle",
        objective=_l("缩短研发周期", "Shorten the R&D cycle"),
        level="department",
        key_results=(
            KeyResultTemplate(
                title=_l("研发周期从90天缩短到60天", "R&D cycle from 90 to 60 days"),
                unit="days",
                direction=LOWER,
                start_value=90,
                target_value=60,
                weight=2,
                kpi="rd_cycle_time",
            ),
            KeyResultTemplate(
                title=_l("申请5项专利", "File 5 patents"), unit="patents", target_value=5
            ),
        ),
    ),
    OkrTemplate(
        code="quality_first",
        objective=_l("质量第一，降低客户投诉", "Quality first: fewer complaints"),
        key_results=(
            KeyResultTemplate(
                title=_l("客户投诉率降至0.5‰", "Complaint rate down to 0.5 per mille"),
                unit="%",
                direction=LOWER,
                start_value=1.5,
                target_value=0.5,
                weight=2,
                kpi="customer_complaint_rate",
            ),
            KeyResultTemplate(
                title=_l("生产计划达成率100%", "Hit 100% of the production plan"),
                unit="%",
                start_value=90,
                target_value=100,
                kpi="production_target_attainment",
            ),
        ),
    ),
]

STAGES = [
    LifecycleStageSpec(
        name="capacity_ramp_up",
        label=_l("产能爬坡期", "Capacity ramp-up"),
        okr_share=0.4,
        description=_l("新产线投产，稳定产出优先", "A new line starts; steady output comes first"),
    ),
]

COURSES = {
    "defect_rate": [
        ("spc_basics", "统计过程控制(SPC)入门", "Statistical process control basics", 6)
    ],
    "line_daily_output": [("standard_work", "标准作业与节拍", "Standard work and takt time", 4)],
    "customer_complaint_rate": [("eight_d", "8D问题解决法", "8D problem solving", 8)],
    "piece_rate_attainment": [
        ("skill_certification", "工序技能认证", "Operation skill certification", 6)
    ],
    "oee": [("tpm", "全员生产维护(TPM)", "Total productive maintenance", 8)],
}


pack = ContentPack(
    PackInfo(
        name="manufacturing",
        version=PACK_VERSION,
        title=_l("制造业行业包", "Manufacturing"),
        industries=("manufacturing", "smart_manufacturing"),
        goalgraph=">=0.1,<1",
    ),
    kpi_templates=KPIS,
    okr_templates=OKRS,
    stages=STAGES,
    adapters=[MesAdapter, QualityAdapter, PayrollAdapter],
    policies=[PieceRate()],
    courses=COURSES,
)
