"""The benchmark's tenants: a retail chain generated the same way every time.

One tenant per size (``1k``, ``10k``, ``100k`` goal nodes: objectives, key results and
KPIs together), each in a database of its own with tenant id 1. The shape follows the
chains goalgraph is built for:

- org: the company → departments → 20 stores and 2 teams per department; people in
  proportion (an admin, a manager per department, a lead and 3 members per team, a
  manager and 2 staff per store);
- goals, in one yearly cycle: the company's objective (2 key results fed by 2 company
  KPIs), a department objective under it (a sales key result fed by every store's
  daily-sales KPI, so those KPIs feed two key results, and an operations key result),
  a team objective and a store objective under each department (the store's key
  results fed by its daily-sales, foot-traffic and wait-time KPIs). Teams' goals and the
  stores' service key results are owned by people, the rest by units;
- values: a year (2025) of daily values for every KPI, except the store daily-sales
  and foot-traffic KPIs' last 35 days (27 November on), which the ingest workload
  writes. The 100k tenant holds only the 30 days before that window (a year for its
  40k KPIs would be 15M rows, longer to seed than the whole run may take).

Everything comes from ``random.Random(SEED)`` and arithmetic on ids, so two runs (and
the floors, which read the same database) see identical rows. ``GENERATOR_VERSION``
names the cached databases: change it whenever the rows generated change.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

GENERATOR_VERSION = 1
SEED = 20260412

#: The benchmark sizes: name → departments (each department holds 130 goal nodes).
SIZES: dict[str, int] = {"1k": 8, "10k": 77, "100k": 770}
#: One department (135 nodes): what tests/test_bench.py runs the harness on.
TINY = {"tiny": 1}
STORES_PER_DEPARTMENT = 20
TEAMS_PER_DEPARTMENT = 2

YEAR_START = date(2025, 1, 1)
YEAR_END = date(2025, 12, 31)
#: The days the ingest workload writes for the stores' daily-sales and foot-traffic KPIs.
INGEST_START = date(2025, 11, 27)
#: The 100k tenant's values: the 30 days before the ingest window.
SHORT_HISTORY_DAYS = 30

TENANT_ID = 1
TENANT_SLUG = "bench-chain"
CYCLE_ID = 1

#: metric code → (title, unit, direction, target, threshold, aggregation, policy)
METRICS: dict[str, tuple[str, str, str, float, float, str, str]] = {
    "revenue": ("营收", "CNY", "higher_is_better", 2_000_000.0, 1_600_000.0, "average", "linear"),
    "nps": ("净推荐值", "", "higher_is_better", 60.0, 45.0, "average", "linear"),
    "cost_ratio": ("费用率", "%", "lower_is_better", 30.0, 36.0, "last", "linear"),
    "delivery_rate": ("准时交付率", "%", "higher_is_better", 95.0, 90.0, "average", "banded"),
    "daily_sales": ("日销售额", "CNY", "higher_is_better", 10_000.0, 8_000.0, "average", "linear"),
    "foot_traffic": ("客流量", "", "higher_is_better", 500.0, 400.0, "average", "banded"),
    "wait_time": ("平均等待时长", "min", "lower_is_better", 3.0, 4.0, "average", "pass_fail"),
}
#: The metrics the point-of-sale export carries (the ingest workload's rows).
POS_METRICS = ("daily_sales", "foot_traffic")


@dataclass
class Unit:
    id: int
    parent_id: int | None
    name: str
    name_en: str
    kind: str
    path: str
    depth: int
    code: str | None


@dataclass
class PersonRow:
    id: int
    name: str
    email: str
    role: str
    org_unit_id: int
    code: str


@dataclass
class ObjectiveRow:
    id: int
    parent_id: int | None
    title: str
    title_en: str
    owner_unit_id: int | None
    owner_person_id: int | None
    path: str
    depth: int


@dataclass
class KeyResultRow:
    id: int
    objective_id: int
    title: str
    title_en: str
    owner_unit_id: int | None
    owner_person_id: int | None
    current_value: float
    weight: float


@dataclass
class KpiRow:
    id: int
    metric_code: str
    title: str
    title_en: str
    owner_unit_id: int | None
    owner_person_id: int | None
    #: The KPI's own level around its target; its daily values move around it.
    level: float
    current_value: float | None = None
    current_period: date | None = None

    @property
    def spec(self) -> tuple[str, str, str, float, float, str, str]:
        return METRICS[self.metric_code]


@dataclass
class Shape:
    """Every row of one benchmark tenant, with ids fixed."""

    size: str
    units: list[Unit] = field(default_factory=list)
    people: list[PersonRow] = field(default_factory=list)
    objectives: list[ObjectiveRow] = field(default_factory=list)
    key_results: list[KeyResultRow] = field(default_factory=list)
    kpis: list[KpiRow] = field(default_factory=list)
    #: (id, key result id, KPI id, weight)
    links: list[tuple[int, int, int, float]] = field(default_factory=list)
    #: The department units and their objectives, for the team workload.
    departments: list[tuple[int, int]] = field(default_factory=list)

    @property
    def nodes(self) -> int:
        return len(self.objectives) + len(self.key_results) + len(self.kpis)

    def history(self, kpi: KpiRow) -> tuple[date, date]:
        """The days of seeded values of ``kpi`` (inclusive)."""
        last = YEAR_END
        if kpi.metric_code in POS_METRICS:
            last = INGEST_START - timedelta(days=1)
        first = YEAR_START
        if self.size == "100k":
            last = INGEST_START - timedelta(days=1)
            first = INGEST_START - timedelta(days=SHORT_HISTORY_DAYS)
        return first, last

    def measurements(self) -> Iterator[tuple[int, date, float]]:
        """Every seeded value, KPI by KPI and day by day (the unique index's order)."""
        for kpi in self.kpis:
            first, last = self.history(kpi)
            for n in range((last - first).days + 1):
                day = first + timedelta(days=n)
                yield kpi.id, day, value_of(kpi, day)

    def ingest_rows(self) -> list[tuple[int, date, float]]:
        """The rows the ingest workload writes: day by day (as a POS exports them), each
        store's daily sales and foot traffic, for the 35 days of the ingest window."""
        pos = [k for k in self.kpis if k.metric_code in POS_METRICS]
        rows: list[tuple[int, date, float]] = []
        for n in range((YEAR_END - INGEST_START).days + 1):
            day = INGEST_START + timedelta(days=n)
            rows.extend((k.id, day, value_of(k, day)) for k in pos)
        return rows

    def store_codes(self) -> dict[int, str]:
        """Store unit id → its code (what the POS export names it by)."""
        return {u.id: u.code for u in self.units if u.kind == "store" and u.code}


def value_of(kpi: KpiRow, day: date) -> float:
    """The KPI's value on ``day``: its level, moved ±10% by arithmetic on the ids."""
    wobble = ((kpi.id * 7919 + day.toordinal() * 104729) % 2001) / 10000.0
    return round(kpi.level * (0.9 + wobble), 2)


def generate(size: str) -> Shape:
    """The tenant of ``size`` (a key of ``SIZES``)."""
    departments = {**SIZES, **TINY}[size]
    rng = random.Random(f"{SEED}-{size}")
    shape = Shape(size)
    ids = {"unit": 0, "person": 0, "objective": 0, "kr": 0, "kpi": 0, "link": 0}

    def next_id(kind: str) -> int:
        ids[kind] += 1
        return ids[kind]

    def unit(parent: Unit | None, name: str, name_en: str, kind: str, code: str | None) -> Unit:
        uid = next_id("unit")
        path = f"{parent.path if parent else '/'}{uid}/"
        row = Unit(
            uid,
            parent.id if parent else None,
            name,
            name_en,
            kind,
            path,
            parent.depth + 1 if parent else 0,
            code,
        )
        shape.units.append(row)
        return row

    def person(unit_id: int, role: str, label: str) -> PersonRow:
        pid = next_id("person")
        row = PersonRow(pid, f"{label}{pid}", f"p{pid}@chain.example", role, unit_id, f"E{pid:06d}")
        shape.people.append(row)
        return row

    def objective(
        parent: ObjectiveRow | None,
        title: str,
        title_en: str,
        unit_id: int | None,
        person_id: int | None,
    ) -> ObjectiveRow:
        oid = next_id("objective")
        path = f"{parent.path if parent else '/'}{oid}/"
        row = ObjectiveRow(
            oid,
            parent.id if parent else None,
            title,
            title_en,
            unit_id,
            person_id,
            path,
            parent.depth + 1 if parent else 0,
        )
        shape.objectives.append(row)
        return row

    def key_result(
        o: ObjectiveRow, title: str, title_en: str, unit_id: int | None, person_id: int | None
    ) -> KeyResultRow:
        row = KeyResultRow(
            next_id("kr"),
            o.id,
            title,
            title_en,
            unit_id,
            person_id,
            round(rng.uniform(20, 90), 1),
            rng.choice((1.0, 1.0, 2.0)),
        )
        shape.key_results.append(row)
        return row

    def kpi(metric: str, label: str, unit_id: int | None, person_id: int | None) -> KpiRow:
        title, _, _, target, *_ = METRICS[metric]
        row = KpiRow(
            next_id("kpi"),
            metric,
            f"{label}{title}",
            f"{label} {metric}",
            unit_id,
            person_id,
            round(target * rng.uniform(0.7, 1.25), 2),
        )
        shape.kpis.append(row)
        return row

    def link(kr: KeyResultRow, k: KpiRow, weight: float) -> None:
        shape.links.append((next_id("link"), kr.id, k.id, weight))

    company = unit(None, "连锁集团", "The Chain", "company", "HQ")
    person(company.id, "admin", "管理员")
    top = objective(None, "年度增长", "Grow the year", company.id, None)
    for metric in ("revenue", "nps"):
        kr = key_result(top, f"集团{METRICS[metric][0]}", f"Company {metric}", company.id, None)
        link(kr, kpi(metric, "集团", company.id, None), 1.0)
    for d in range(1, departments + 1):
        dept = unit(company, f"第{d}事业部", f"Department {d}", "department", f"D{d:04d}")
        person(dept.id, "manager", "经理")
        dept_objective = objective(top, f"事业部{d}达成", f"Department {d} delivers", dept.id, None)
        shape.departments.append((dept.id, dept_objective.id))
        sales = key_result(dept_objective, "事业部销售", f"Department {d} sales", dept.id, None)
        ops = key_result(dept_objective, "事业部运营", f"Department {d} operations", dept.id, None)
        link(ops, kpi("cost_ratio", f"事业部{d}", dept.id, None), 1.0)
        for t in range(1, TEAMS_PER_DEPARTMENT + 1):
            team = unit(dept, f"{d}-{t}组", f"Team {d}-{t}", "team", f"T{d:04d}{t}")
            lead = person(team.id, "manager", "组长")
            for _ in range(3):
                person(team.id, "employee", "组员")
            team_objective = objective(
                dept_objective, f"{d}-{t}组交付", f"Team {d}-{t} ships", None, lead.id
            )
            kr = key_result(team_objective, "按时交付", "On-time delivery", None, lead.id)
            link(kr, kpi("delivery_rate", f"{d}-{t}组", None, lead.id), 1.0)
        for s in range(1, STORES_PER_DEPARTMENT + 1):
            store = unit(dept, f"{d}-{s}号店", f"Store {d}-{s}", "store", f"S{d:04d}{s:02d}")
            manager = person(store.id, "manager", "店长")
            for _ in range(2):
                person(store.id, "employee", "店员")
            store_objective = objective(
                dept_objective, f"{d}-{s}号店经营", f"Store {d}-{s} grows", store.id, None
            )
            growth = key_result(store_objective, "销售与客流", "Sales and traffic", store.id, None)
            service = key_result(store_objective, "服务体验", "Service", None, manager.id)
            label = f"{d}-{s}号店"
            daily_sales = kpi("daily_sales", label, store.id, None)
            link(growth, daily_sales, 0.7)
            link(growth, kpi("foot_traffic", label, store.id, None), 0.3)
            link(service, kpi("wait_time", label, store.id, None), 1.0)
            link(sales, daily_sales, 1.0)
    for k in shape.kpis:
        _, last = shape.history(k)
        k.current_value, k.current_period = value_of(k, last), last
    return shape
