"""Data adapters, bindings and sync runs: what feeds the tenant's KPIs, and how it went."""

from __future__ import annotations

import strawberry
from strawberry import relay

from ..core import models
from ..core.errors import forbidden
from ..core.i18n import msg
from .context import Info
from .ids import decode
from .pagination import Connection, paginate
from .types.sync import (
    DataAdapterInfo,
    DataBinding,
    OrgSourceInfo,
    SyncRun,
    binding_view,
    may_manage_bindings,
)


def _require_manager(info: Info) -> None:
    if not may_manage_bindings(info):
        raise forbidden(msg("sync.bindings_scope"))


@strawberry.type
class SyncQueries:
    @strawberry.field(
        description="Adapters the tenant's bindings may use: the built-in ones and those "
        "of its enabled packs."
    )
    async def adapters(self, info: Info) -> list[DataAdapterInfo]:
        packs = await info.context.tenant_packs()
        pack_of = {a.name: p.name for p in packs.enabled for a in p.adapters.values()}
        return [
            DataAdapterInfo.of(adapter, pack_of.get(name))
            for name, adapter in sorted(packs.adapters().items())
        ]

    @strawberry.field(
        description="HR directories the tenant's org bindings may use: the built-in ones "
        "(DingTalk, Feishu/Lark, WeCom) and those of its enabled packs."
    )
    async def org_sources(self, info: Info) -> list[OrgSourceInfo]:
        packs = await info.context.tenant_packs()
        pack_of = {s.name: p.name for p in packs.enabled for s in p.org_sources.values()}
        return [
            OrgSourceInfo.of(source, pack_of.get(name))
            for name, source in sorted(packs.org_sources().items())
        ]

    @strawberry.field(description="The tenant's data bindings (admins and consultants).")
    async def data_bindings(self, info: Info) -> list[DataBinding]:
        _require_manager(info)
        rows = await info.context.scope.query(models.DataBinding).order_by("id")
        return [binding_view(info, row) for row in rows]

    @strawberry.field(description="A binding's sync runs, oldest first (admins and consultants).")
    async def sync_runs(
        self,
        info: Info,
        binding_id: relay.GlobalID,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[SyncRun]:
        _require_manager(info)
        binding = await info.context.scope.get(
            models.DataBinding, decode(binding_id, "DataBinding", "bindingId"), "bindingId"
        )
        runs = info.context.scope.query(models.SyncRun).filter(binding_id=binding.id)
        return await paginate(runs, SyncRun.from_row, first, after)
