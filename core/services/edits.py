"""What changing or archiving any goal has in common: a new owner checked, the change
written with its audit event and the scores it moves in one transaction."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from tortoise.transactions import in_transaction

from .. import audit
from ..access import require_edit
from ..enums import GoalStatus
from ..i18n import Msg
from ..models.goals import Owned
from ..owners import resolve_owner
from ..scoring.store import Changes, moves_scores, refresh
from ..tenancy import TenantScope


async def with_new_owner(scope: TenantScope, changes: dict[str, Any], what: Msg) -> dict[str, Any]:
    """``changes`` with the owner pair checked (exists, may be edited) when it changes."""
    if "owner_unit_id" not in changes and "owner_person_id" not in changes:
        return changes
    owner = await resolve_owner(scope, changes.get("owner_unit_id"), changes.get("owner_person_id"))
    require_edit(scope, owner, what, "ownerUnitId")
    return {**changes, "owner_unit_id": owner.unit_id, "owner_person_id": owner.person_id}


async def apply_changes(
    scope: TenantScope,
    goal: Owned,
    changes: dict[str, Any],
    audited: Collection[str],
    entity_type: str,
) -> None:
    """Write ``changes`` (text stripped); the ``audited`` ones that really changed are
    recorded as one ``<entity_type>.updated`` event, and the scores they move are
    brought up to date, in the same transaction."""
    before = {k: getattr(goal, k) for k in changes}
    async with in_transaction():
        for key, value in changes.items():
            setattr(goal, key, value.strip() if isinstance(value, str) else value)
        await goal.save()
        old, new = audit.changes(before, {k: getattr(goal, k) for k in changes})
        kept = {k: v for k, v in new.items() if k in audited}
        if kept:
            await audit.record(
                scope,
                f"{entity_type}.updated",
                entity_type,
                goal.id,
                {k: old[k] for k in kept},
                kept,
            )
        if moves_scores(entity_type, new):
            await refresh(scope, Changes.of(entity_type, [goal.id]))


async def archive(scope: TenantScope, goal: Owned, entity_type: str) -> None:
    """Archive one goal with its ``<entity_type>.archived`` event."""
    async with in_transaction():
        goal.status = GoalStatus.ARCHIVED
        await goal.save(update_fields=["status", "updated_at"])
        await audit.record(
            scope,
            f"{entity_type}.archived",
            entity_type,
            goal.id,
            {"status": GoalStatus.ACTIVE.value},
            {"status": GoalStatus.ARCHIVED.value},
        )
        await refresh(scope, Changes.of(entity_type, [goal.id]))
