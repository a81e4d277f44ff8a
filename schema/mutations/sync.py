"""Mutations on data bindings: make, change, and sync now."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from ...adapters.bindings import (
    BindingInput,
    create_binding,
    require_configurer,
    update_binding,
)
from ...adapters.runner import SyncBusy
from ...adapters.syncer import UnknownAdapter
from ...core import models
from ...core.errors import DomainError, ErrorCode
from ...core.i18n import msg
from ...core.secrets import SecretBox
from ...core.settings import secret_box_key
from ..context import Info
from ..errors import UserError
from ..ids import decode, decode_optional
from ..types.sync import DataBinding, SyncRun, binding_view
from .common import guarded


@strawberry.input(description="A new data binding.")
class CreateDataBindingInput:
    name: str
    adapter: str
    config: JSON = strawberry.field(
        description="The adapter's configuration (see `adapters { configSchema }`); its "
        "credential fields are sealed, and `env:NAME` keeps a reference instead."
    )
    metrics: JSON | None = strawberry.field(
        default=None, description="Adapter metric → KPI metric code, when they differ."
    )
    kpi_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Feed this one KPI (else: match subjects by code)."
    )
    org_unit_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Match subjects in this unit and below (default: all)."
    )
    every_minutes: int | None = strawberry.field(
        default=None, description="Sync on this schedule (null: only when asked or pushed)."
    )
    active: bool = True


@strawberry.input(description="Changes to a data binding; omitted fields stay.")
class UpdateDataBindingInput:
    id: relay.GlobalID
    name: str | None = strawberry.UNSET
    adapter: str | None = strawberry.UNSET
    config: JSON | None = strawberry.field(
        default=strawberry.UNSET,
        description="The whole configuration; credential fields left out are kept.",
    )
    metrics: JSON | None = strawberry.UNSET
    kpi_id: relay.GlobalID | None = strawberry.UNSET
    org_unit_id: relay.GlobalID | None = strawberry.UNSET
    every_minutes: int | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET


@strawberry.type
class DataBindingPayload:
    data_binding: DataBinding | None
    errors: list[UserError]


@strawberry.type
class SyncRunPayload:
    sync_run: SyncRun | None
    errors: list[UserError]


def _given(value: Any) -> Any:
    return None if value is strawberry.UNSET else value


def _mapping(value: Any, field: str) -> dict[str, Any] | None:
    if value is None or value is strawberry.UNSET:
        return None
    if not isinstance(value, dict):
        raise DomainError.single(ErrorCode.INVALID, msg("error.not_an_object", field=field), field)
    return value


@strawberry.type
class SyncMutations:
    @strawberry.mutation(description="Connect KPIs to a data source (admins, consultants).")
    async def create_data_binding(
        self, info: Info, input: CreateDataBindingInput
    ) -> DataBindingPayload:
        scope = info.context.scope

        async def run() -> DataBinding:
            packs = await info.context.tenant_packs()
            available = packs.adapters()
            metrics = _mapping(input.metrics, "metrics")
            values = BindingInput(
                name=input.name,
                adapter=input.adapter,
                config=_mapping(input.config, "config") or {},
                metrics=packs.metric_map(input.adapter) if metrics is None else metrics,
                kpi_id=decode_optional(input.kpi_id, "Kpi", "kpiId"),
                org_unit_id=decode_optional(input.org_unit_id, "OrgUnit", "orgUnitId"),
                every_minutes=input.every_minutes,
                active=input.active,
            )
            box = SecretBox(secret_box_key(info.context.settings))
            return binding_view(info, await create_binding(scope, available, box, values))

        binding, errors = await guarded(run)
        return DataBindingPayload(data_binding=binding, errors=errors)

    @strawberry.mutation(description="Change a data binding (admins, consultants).")
    async def update_data_binding(
        self, info: Info, input: UpdateDataBindingInput
    ) -> DataBindingPayload:
        scope = info.context.scope

        async def run() -> DataBinding:
            available = (await info.context.tenant_packs()).adapters()
            cleared = {
                name
                for name, value in (
                    ("kpiId", input.kpi_id),
                    ("orgUnitId", input.org_unit_id),
                    ("everyMinutes", input.every_minutes),
                )
                if value is None
            }
            values = BindingInput(
                name=_given(input.name),
                adapter=_given(input.adapter),
                config=_mapping(input.config, "config"),
                metrics=_mapping(input.metrics, "metrics"),
                kpi_id=decode_optional(_given(input.kpi_id), "Kpi", "kpiId"),
                org_unit_id=decode_optional(_given(input.org_unit_id), "OrgUnit", "orgUnitId"),
                every_minutes=_given(input.every_minutes),
                active=_given(input.active),
            )
            box = SecretBox(secret_box_key(info.context.settings))
            binding_id = decode(input.id, "DataBinding", "id")
            row = await update_binding(
                scope, available, box, binding_id, values, frozenset(cleared)
            )
            return binding_view(info, row)

        binding, errors = await guarded(run)
        return DataBindingPayload(data_binding=binding, errors=errors)

    @strawberry.mutation(description="Sync a binding now and return the finished run.")
    async def run_sync(self, info: Info, binding_id: relay.GlobalID) -> SyncRunPayload:
        scope = info.context.scope

        async def run() -> SyncRun:
            require_configurer(scope)
            binding = await scope.get(
                models.DataBinding, decode(binding_id, "DataBinding", "bindingId"), "bindingId"
            )
            syncer = info.context.syncer
            if syncer is None:
                raise DomainError.single(ErrorCode.CONFLICT, msg("sync.unavailable"))
            try:
                finished = await syncer.run(scope, binding, "manual")
            except (SyncBusy, UnknownAdapter) as exc:
                raise DomainError.single(ErrorCode.CONFLICT, exc.message, "bindingId") from exc
            return SyncRun.from_row(finished)

        sync_run, errors = await guarded(run)
        return SyncRunPayload(sync_run=sync_run, errors=errors)
