"""Deciding on what goalgraph proposes: recommendations and target adjustments."""

from __future__ import annotations

import strawberry
from strawberry import relay

from ...core.insights import adjustments, misses, training
from ..context import Info
from ..errors import UserError
from ..ids import decode
from ..types.insights import Adjustment, Recommendation, TrainingRecord
from ..types.org import Tenant
from .common import guarded
from .stages import TenantPayload


@strawberry.type
class RecommendationPayload:
    recommendation: Recommendation | None
    training_record: TrainingRecord | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AdjustmentPayload:
    adjustment: Adjustment | None
    errors: list[UserError]


@strawberry.type
class InsightMutations:
    @strawberry.mutation(
        description="How many consecutive missed periods raise an alert (2..24; admins)."
    )
    async def set_alert_after_misses(self, info: Info, periods: int) -> TenantPayload:
        scope = info.context.scope

        async def run() -> Tenant:
            return Tenant.from_row(await misses.set_alert_after_misses(scope, periods))

        tenant, errors = await guarded(run)
        return TenantPayload(tenant=tenant, errors=errors)

    @strawberry.mutation(description="Accept a course: it becomes a training record.")
    async def accept_recommendation(self, info: Info, id: relay.GlobalID) -> RecommendationPayload:
        scope = info.context.scope

        async def run() -> RecommendationPayload:
            row, record = await training.accept_recommendation(
                scope, decode(id, "Recommendation", "id")
            )
            return RecommendationPayload(
                recommendation=Recommendation.from_row(row),
                training_record=TrainingRecord(
                    course_code=record.course_code,
                    title=record.title,
                    title_en=record.title_en,
                    hours=record.hours,
                    assigned_on=record.assigned_on,
                ),
            )

        payload, errors = await guarded(run)
        return payload or RecommendationPayload(recommendation=None, errors=errors)

    @strawberry.mutation(description="Dismiss a recommended course.")
    async def dismiss_recommendation(self, info: Info, id: relay.GlobalID) -> RecommendationPayload:
        scope = info.context.scope

        async def run() -> Recommendation:
            row = await training.dismiss_recommendation(scope, decode(id, "Recommendation", "id"))
            return Recommendation.from_row(row)

        row, errors = await guarded(run)
        return RecommendationPayload(recommendation=row, errors=errors)

    @strawberry.mutation(description="Take the suggested target (audited; scores follow).")
    async def accept_adjustment(self, info: Info, id: relay.GlobalID) -> AdjustmentPayload:
        scope = info.context.scope

        async def run() -> Adjustment:
            row = await adjustments.accept_adjustment(scope, decode(id, "Adjustment", "id"))
            return Adjustment.from_row(row)

        row, errors = await guarded(run)
        return AdjustmentPayload(adjustment=row, errors=errors)

    @strawberry.mutation(description="Keep the current target.")
    async def dismiss_adjustment(self, info: Info, id: relay.GlobalID) -> AdjustmentPayload:
        scope = info.context.scope

        async def run() -> Adjustment:
            row = await adjustments.dismiss_adjustment(scope, decode(id, "Adjustment", "id"))
            return Adjustment.from_row(row)

        row, errors = await guarded(run)
        return AdjustmentPayload(adjustment=row, errors=errors)
