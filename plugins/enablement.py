"""Enabling and disabling packs for a tenant's lifecycle stages (audited).

Disabling removes the enablement only: KPIs and objectives created from the pack's
templates stay with the tenant, marked with their origin. Enabling a pack for the
first time, or disabling it, changes the scoring policies the tenant's KPIs may name,
so the tenant's stored scores are rebuilt in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.transactions import in_transaction

from ..core import audit
from ..core.enums import Role
from ..core.errors import DomainError, ErrorCode, forbidden, not_found
from ..core.i18n import msg
from ..core.models import PackEnablement
from ..core.scoring.store import rebuild_all
from ..core.tenancy import TenantScope
from .manager import PackManager
from .view import tenant_packs

_ALLOWED = {Role.ADMIN, Role.CONSULTANT}


def _require_configurer(scope: TenantScope) -> None:
    if scope.role not in _ALLOWED:
        raise forbidden(msg("pack.admin_only"))


def _require_installed(manager: PackManager, name: str) -> None:
    pack = manager.packs.get(name)
    if pack is None:
        raise not_found("pack", "name")
    if not pack.ok:
        raise DomainError.single(
            ErrorCode.INVALID, msg("pack.failed_to_load", name=name, error=pack.error), "name"
        )


async def enable_pack(
    scope: TenantScope, manager: PackManager, name: str, stages: Sequence[str]
) -> PackEnablement:
    """Enable ``name`` for ``stages`` (replacing the set if it was already enabled)."""
    _require_configurer(scope)
    _require_installed(manager, name)
    wanted = list(dict.fromkeys(s.strip() for s in stages))
    if not wanted:
        raise DomainError.single(ErrorCode.REQUIRED, msg("pack.stage_required"), "stages")
    known = manager.all_stage_names()
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise DomainError.single(
            ErrorCode.INVALID,
            msg("stage.unknown", stage=unknown[0], known=sorted(known)),
            "stages",
        )
    async with in_transaction():
        row = await scope.query(PackEnablement).filter(pack=name).first()
        if row is None:
            row = await scope.create(PackEnablement, pack=name, stages=wanted)
            await audit.record(
                scope,
                "pack.enabled",
                "pack_enablement",
                row.id,
                None,
                {"pack": name, "stages": wanted},
            )
            await _rescore(scope, manager)
        elif list(row.stages) != wanted:
            before = {"pack": name, "stages": list(row.stages)}
            row.stages = wanted
            await row.save(update_fields=["stages", "updated_at"])
            await audit.record(
                scope,
                "pack.stages_changed",
                "pack_enablement",
                row.id,
                before,
                {"pack": name, "stages": wanted},
            )
    return row


async def _rescore(scope: TenantScope, manager: PackManager) -> None:
    """The tenant's policies changed: rebuild its stored scores with the new ones."""
    await rebuild_all(scope, (await tenant_packs(scope, manager)).scoring_policy)


async def disable_pack(scope: TenantScope, manager: PackManager, name: str) -> None:
    """Disable ``name`` for the tenant; goals made from its templates stay."""
    _require_configurer(scope)
    async with in_transaction():
        row = await scope.query(PackEnablement).filter(pack=name).first()
        if row is None:
            raise DomainError.single(
                ErrorCode.NOT_FOUND, msg("pack.not_enabled", name=name), "name"
            )
        await audit.record(
            scope,
            "pack.disabled",
            "pack_enablement",
            row.id,
            {"pack": name, "stages": list(row.stages)},
            None,
        )
        await row.delete()
        await _rescore(scope, manager)
