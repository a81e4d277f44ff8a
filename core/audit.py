"""The audit trail: one ``AuditEvent`` per change of targets, weights, thresholds, stages.

Callers write the event inside the transaction of the change itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .models import AuditEvent
from .tenancy import TenantScope


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose value differs, as (before, after)."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


async def record(
    scope: TenantScope,
    action: str,
    entity_type: str,
    entity_id: int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event attributed to the scope's actor."""
    return await scope.create(
        AuditEvent,
        actor_id=scope.actor.person_id,
        actor_role=scope.actor_role,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
    )


async def record_many(
    scope: TenantScope,
    action: str,
    entity_type: str,
    entity_ids: list[int],
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    batch_size: int = 500,
) -> None:
    """One event per entity with the same before and after, in one statement per batch
    (e.g. every goal of an archived subtree)."""
    await record_each(
        scope, action, entity_type, [(i, before, after) for i in entity_ids], batch_size
    )


async def record_each(
    scope: TenantScope,
    action: str,
    entity_type: str,
    entries: Sequence[tuple[int, dict[str, Any] | None, dict[str, Any] | None]],
    batch_size: int = 500,
) -> None:
    """One event per entity with its own before and after, in one statement per batch
    (a roster import's created and changed people)."""
    if not entries:
        return
    await AuditEvent.bulk_create(
        [
            scope.build(
                AuditEvent,
                actor_id=scope.actor.person_id,
                actor_role=scope.actor_role,
                action=action,
                entity_type=entity_type,
                entity_id=entity_id,
                before=before,
                after=after,
            )
            for entity_id, before, after in entries
        ],
        batch_size=batch_size,
    )
