"""Recording KPI measurements, a batch per call, idempotent per KPI and period."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry import relay

from ...core.errors import DomainError, Problem
from ...core.insights.scan import scan
from ...core.services.measurements import MeasurementInput, record_measurements
from ..context import Info
from ..errors import UserError
from ..ids import decode
from ..types.goals import Measurement
from .common import asks_for, guarded


@strawberry.input(description="A value for a KPI on any day of the period it belongs to.")
class MeasurementEntry:
    kpi_id: relay.GlobalID
    period: date = strawberry.field(description="Any day of the period; stored as its start.")
    value: float
    source: str = "manual"


@strawberry.type
class RecordMeasurementsPayload:
    measurements: list[Measurement]
    errors: list[UserError]


@strawberry.type
class MeasurementMutations:
    @strawberry.mutation(
        description="Record a batch of measurements in one transaction: all land or none. "
        "Writing a KPI's period again replaces its value."
    )
    async def record_measurements(
        self, info: Info, entries: list[MeasurementEntry]
    ) -> RecordMeasurementsPayload:
        scope = info.context.scope

        async def run() -> list[Measurement]:
            inputs: list[MeasurementInput] = []
            problems: list[Problem] = []
            for i, entry in enumerate(entries):
                try:
                    kpi_id = decode(entry.kpi_id, "Kpi", f"entries.{i}.kpiId")
                except DomainError as exc:
                    problems.extend(exc.problems)
                    continue
                inputs.append(MeasurementInput(kpi_id, entry.period, entry.value, entry.source))
            if problems:
                raise DomainError(*problems)
            rows = await record_measurements(
                scope, inputs, returning=asks_for(info, "measurements")
            )
            packs = await info.context.tenant_packs()
            await scan(scope, packs.courses, {i.kpi_id for i in inputs})
            return [Measurement.from_row(r) for r in rows]

        measurements, errors = await guarded(run)
        return RecordMeasurementsPayload(measurements=measurements or [], errors=errors)
