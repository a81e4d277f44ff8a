"""Training recommendations (培训建议): courses for a person who keeps missing a KPI.

The courses come from the tenant's enabled packs (their
``goalgraph_training_recommendations`` hook, reached through ``Courses``); core only
stores what they propose, with the alert's evidence, once per person, KPI and course.
Accepting one makes it a training record (培训记录) on the person.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from tortoise.transactions import in_transaction

from ..access import can_see_values
from ..enums import ProposalStatus, Role
from ..errors import forbidden
from ..i18n import msg
from ..models import Alert, Kpi, OrgUnit, Person, Recommendation, TrainingRecord
from ..owners import OwnerRef
from ..tenancy import TenantScope
from .proposals import decide, require_waiting


@dataclass(frozen=True, slots=True)
class Course:
    """A course a pack proposes (技能提升课程)."""

    code: str
    title: str
    title_en: str
    hours: float
    pack: str = ""


#: (KPI metric code, periods missed) → the courses the tenant's packs propose.
Courses = Callable[[str, int], Sequence[Course]]


async def recommend(
    scope: TenantScope, alerts: Sequence[Alert], courses: Courses
) -> list[Recommendation]:
    """Recommendations for the people whose own KPIs raised ``alerts`` (a unit's KPI is
    a team's: it gets an adjustment proposal instead)."""
    personal = [a for a in alerts if a.owner_person_id is not None]
    if not personal:
        return []
    kpis = await scope.many(Kpi, (a.kpi_id for a in personal))
    existing = {
        (r.person_id, r.kpi_id, r.course_code)
        for r in await scope.query(Recommendation).filter(
            kpi_id__in=list(kpis), status__in=[ProposalStatus.PROPOSED, ProposalStatus.ACCEPTED]
        )
    }
    made = []
    for alert in personal:
        kpi = kpis[alert.kpi_id]
        person_id = alert.owner_person_id
        assert person_id is not None
        for course in courses(kpi.metric_code, alert.misses):
            if (person_id, kpi.id, course.code) in existing:
                continue
            existing.add((person_id, kpi.id, course.code))
            made.append(
                await scope.create(
                    Recommendation,
                    person_id=person_id,
                    kpi_id=kpi.id,
                    alert_id=alert.id,
                    course_code=course.code,
                    title=course.title,
                    title_en=course.title_en,
                    pack=course.pack,
                    hours=course.hours,
                    evidence=alert.evidence,
                )
            )
    return made


async def _decidable(scope: TenantScope, recommendation_id: int) -> tuple[Recommendation, Person]:
    recommendation = await scope.get(Recommendation, recommendation_id, "id")
    person = await scope.get(Person, recommendation.person_id)
    unit = await scope.get(OrgUnit, person.org_unit_id)
    if not can_see_values(scope, OwnerRef(None, person.id, unit.path)) or scope.role is Role.VIEWER:
        raise forbidden(msg("insight.recommendation_scope"), "id")
    require_waiting(recommendation, msg("noun.recommendation"))
    return recommendation, person


async def accept_recommendation(
    scope: TenantScope, recommendation_id: int, today: date | None = None
) -> tuple[Recommendation, TrainingRecord]:
    """Accept: the course becomes a training record on the person (audited)."""
    recommendation, person = await _decidable(scope, recommendation_id)
    async with in_transaction():
        record = await scope.create(
            TrainingRecord,
            person_id=person.id,
            recommendation_id=recommendation.id,
            course_code=recommendation.course_code,
            title=recommendation.title,
            title_en=recommendation.title_en,
            hours=recommendation.hours,
            assigned_on=today or date.today(),
        )
        await _decide(scope, recommendation, ProposalStatus.ACCEPTED)
    return recommendation, record


async def dismiss_recommendation(scope: TenantScope, recommendation_id: int) -> Recommendation:
    recommendation, _ = await _decidable(scope, recommendation_id)
    async with in_transaction():
        await _decide(scope, recommendation, ProposalStatus.DISMISSED)
    return recommendation


async def _decide(scope: TenantScope, row: Recommendation, status: ProposalStatus) -> None:
    await decide(scope, row, "recommendation", status, {"course": row.course_code})
