"""Data adapters, bindings and sync runs as the API shows them (credentials never)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Self

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from ...adapters.contract import DataAdapter
from ...adapters.org_source import OrgSource
from ...core import models
from ...core.enums import Role, SyncStatus
from ...core.secrets import SecretBox, SecretError
from ...core.settings import secret_box_key
from ..context import Info
from .goals import Kpi
from .org import OrgUnit
from .packs import LocalizedText

strawberry.enum(SyncStatus, description="How a sync run ended, or that it is running.")


@strawberry.type(description="A metric an adapter reports, with its unit.")
class AdapterMetric:
    code: str
    unit: str


@strawberry.type(description="A kind of data source bindings can use.")
class DataAdapterInfo:
    name: str
    title: LocalizedText
    pack: str | None = strawberry.field(description="The pack that brings it (null: built in).")
    metrics: list[AdapterMetric]
    pulls: bool = strawberry.field(description="Pulled on a schedule (false: pushed or a file).")
    config_schema: JSON = strawberry.field(description="JSON Schema of its configuration.")
    secret_fields: list[str] = strawberry.field(
        description="Configuration keys that are credentials: written, never read back."
    )

    @classmethod
    def of(cls, adapter: type[DataAdapter], pack: str | None) -> Self:
        return cls(
            name=adapter.name,
            title=LocalizedText(zh=adapter.title.get("zh", ""), en=adapter.title.get("en", "")),
            pack=pack,
            metrics=[AdapterMetric(code=c, unit=u) for c, u in sorted(adapter.metrics.items())],
            pulls=adapter.pulls,
            config_schema=JSON(adapter.Config.model_json_schema()),
            secret_fields=sorted(adapter.secret_fields),
        )


@strawberry.type(description="An HR directory org bindings can keep units and people in step with.")
class OrgSourceInfo:
    name: str
    title: LocalizedText
    pack: str | None = strawberry.field(description="The pack that brings it (null: built in).")
    config_schema: JSON = strawberry.field(description="JSON Schema of its configuration.")
    secret_fields: list[str] = strawberry.field(
        description="Configuration keys that are credentials: written, never read back."
    )

    @classmethod
    def of(cls, source: type[OrgSource], pack: str | None) -> Self:
        return cls(
            name=source.name,
            title=LocalizedText(zh=source.title.get("zh", ""), en=source.title.get("en", "")),
            pack=pack,
            config_schema=JSON(source.Config.model_json_schema()),
            secret_fields=sorted(source.secret_fields),
        )


@strawberry.type(description="A row a sync could not use, with where it was and why.")
class RejectedRow:
    ref: str
    reason: str
    content: str


@strawberry.type(description="One sync of a binding.")
class SyncRun(relay.Node):
    id: relay.NodeID[int]
    trigger: str = strawberry.field(description="schedule, manual, cli, webhook or import.")
    status: SyncStatus
    started_at: datetime
    finished_at: datetime | None
    rows_read: int
    rows_written: int
    rows_rejected: int
    error: str
    row: strawberry.Private[models.SyncRun]

    @classmethod
    def from_row(cls, row: models.SyncRun) -> Self:
        return cls(
            id=row.id,
            trigger=row.trigger,
            status=row.status,
            started_at=row.started_at,
            finished_at=row.finished_at,
            rows_read=row.rows_read,
            rows_written=row.rows_written,
            rows_rejected=row.rows_rejected,
            error=row.error,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        rows = await info.context.scope.many(
            models.SyncRun, (int(i) for i in node_ids if i.isdigit())
        )
        return [
            cls.from_row(rows[int(i)]) if i.isdigit() and int(i) in rows else None for i in node_ids
        ]

    @strawberry.field(description="The rows it rejected, in the order it met them.")
    async def rejected_rows(self, info: Info, first: int = 100) -> list[RejectedRow]:
        rows = (
            await info.context.scope.query(models.RejectedRow)
            .filter(run_id=self.row.id)
            .order_by("id")
            .limit(max(0, min(first, 1000)))
        )
        return [RejectedRow(ref=r.ref, reason=r.reason, content=r.content) for r in rows]


@strawberry.type(description="KPIs connected to a data source through an adapter.")
class DataBinding(relay.Node):
    id: relay.NodeID[int]
    name: str
    kind: str = strawberry.field(
        description="data (KPI values from an adapter) or org (units and people from an "
        "org source, named by adapter)."
    )
    adapter: str
    config: JSON = strawberry.field(description="The configuration, without credentials.")
    credentials: list[str] = strawberry.field(
        description="Which credential fields are stored (their values are never shown)."
    )
    metrics: JSON = strawberry.field(description="Adapter metric → KPI metric code.")
    every_minutes: int | None
    active: bool
    webhook_path: str | None = strawberry.field(
        description="Where a webhook binding receives signed batches (POST)."
    )
    row: strawberry.Private[models.DataBinding]

    @classmethod
    def from_row(cls, row: models.DataBinding, credentials: list[str]) -> Self:
        config: dict[str, Any] = dict(row.config or {})
        return cls(
            id=row.id,
            name=row.name,
            kind=row.kind,
            adapter=row.adapter,
            config=JSON(config),
            credentials=credentials,
            metrics=JSON(dict(row.metrics or {})),
            every_minutes=row.every_minutes,
            active=row.active,
            webhook_path=f"/hooks/{row.id}" if row.adapter == "webhook" else None,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        if not may_manage_bindings(info):
            return [None for _ in node_ids]
        rows = await info.context.scope.many(
            models.DataBinding, (int(i) for i in node_ids if i.isdigit())
        )
        return [
            cls.from_row(rows[int(i)], credentials_of(info, rows[int(i)]))
            if i.isdigit() and int(i) in rows
            else None
            for i in node_ids
        ]

    @strawberry.field(description="The one KPI it feeds, when it feeds one.")
    async def kpi(self, info: Info) -> Kpi | None:
        if self.row.kpi_id is None:
            return None
        row = await info.context.loaders.kpi.load(self.row.kpi_id)
        return Kpi.from_row(row) if row else None

    @strawberry.field(description="Where subjects are matched (null: the whole company).")
    async def org_unit(self, info: Info) -> OrgUnit | None:
        if self.row.org_unit_id is None:
            return None
        row = await info.context.loaders.org_unit.load(self.row.org_unit_id)
        return OrgUnit.from_row(row) if row else None

    @strawberry.field(description="When the next scheduled sync is due (null: none).")
    async def next_run_at(self, info: Info) -> datetime | None:
        job = await info.context.loaders.sync_job_of.load(self.row.id)
        return job.next_run_at if job else None

    @strawberry.field(description="The newest run.")
    async def last_run(self, info: Info) -> SyncRun | None:
        row = await info.context.loaders.last_run_of.load(self.row.id)
        return SyncRun.from_row(row) if row else None


def may_manage_bindings(info: Info) -> bool:
    """Bindings (endpoints, schedules) are for admins and consultants only."""
    return info.context.scope.role in (Role.ADMIN, Role.CONSULTANT)


def credentials_of(info: Info, row: models.DataBinding) -> list[str]:
    """The names of a binding's stored credentials, never their values."""
    box = SecretBox(secret_box_key(info.context.settings))
    try:
        return sorted(box.unseal(row.secrets))
    except SecretError:
        return []  # sealed with another key: shown as none, to be set again


def binding_view(info: Info, row: models.DataBinding) -> DataBinding:
    """The API's view of a binding."""
    return DataBinding.from_row(row, credentials_of(info, row))
