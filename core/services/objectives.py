"""Create, change and archive objectives (目标), keeping alignment paths whole."""

from __future__ import annotations

from typing import Any

from tortoise.transactions import in_transaction

from .. import audit
from ..access import require_edit
from ..enums import GoalStatus
from ..errors import DomainError, ErrorCode, not_found
from ..i18n import msg
from ..models import KeyResult, Objective
from ..owners import OwnerRef, resolve_owner
from ..scoring.store import Changes, moves_scores, refresh
from ..tenancy import TenantScope
from ..validation import Checks
from .edits import with_new_owner
from .frozen import require_open

_TEXT_FIELDS = {"title": 300, "title_en": 300, "description": 4000}


def _check(values: dict[str, Any], creating: bool) -> None:
    checks = Checks()
    for name, limit in _TEXT_FIELDS.items():
        if name in values or (creating and name == "title"):
            checks.text(name, values.get(name), limit, required=name == "title")
    if "alignment_weight" in values:
        checks.weight("alignmentWeight", values["alignment_weight"])
    checks.done()


async def _parent_for(scope: TenantScope, parent_id: int | None, cycle_id: int) -> Objective | None:
    if parent_id is None:
        return None
    parent = await scope.find(Objective, parent_id)
    if parent is None:
        raise not_found("objective", "parentId")
    if parent.status is GoalStatus.ARCHIVED:
        raise DomainError.single(ErrorCode.ARCHIVED, msg("objective.parent_archived"), "parentId")
    if parent.cycle_id != cycle_id:
        raise DomainError.single(ErrorCode.INVALID, msg("objective.parent_other_cycle"), "parentId")
    return parent


async def objective_owner(scope: TenantScope, objective: Objective) -> OwnerRef:
    return await resolve_owner(scope, objective.owner_unit_id, objective.owner_person_id)


async def create_objective(
    scope: TenantScope,
    *,
    title: str,
    cycle_id: int,
    owner_unit_id: int | None = None,
    owner_person_id: int | None = None,
    parent_id: int | None = None,
    title_en: str = "",
    description: str = "",
    alignment_weight: float = 1.0,
    origin: str = "",
) -> Objective:
    """A new objective, aligned under ``parent_id`` when given."""
    _check(
        {
            "title": title,
            "title_en": title_en,
            "description": description,
            "alignment_weight": alignment_weight,
        },
        creating=True,
    )
    owner = await resolve_owner(scope, owner_unit_id, owner_person_id)
    require_edit(scope, owner, msg("access.what.objectives"))
    await require_open(scope, cycle_id)
    parent = await _parent_for(scope, parent_id, cycle_id)
    async with in_transaction():
        objective = await scope.create(
            Objective,
            title=title.strip(),
            title_en=title_en.strip(),
            description=description,
            cycle_id=cycle_id,
            owner_unit_id=owner.unit_id,
            owner_person_id=owner.person_id,
            parent_id=parent.id if parent else None,
            alignment_weight=alignment_weight,
            depth=parent.depth + 1 if parent else 0,
            origin=origin,
        )
        objective.path = f"{parent.path if parent else '/'}{objective.id}/"
        await objective.save(update_fields=["path"])
        await audit.record(
            scope,
            "objective.created",
            "objective",
            objective.id,
            after={"title": objective.title, "alignment_weight": alignment_weight},
        )
        await refresh(scope, Changes(objectives={objective.id}))
    return objective


async def update_objective(
    scope: TenantScope, objective_id: int, changes: dict[str, Any]
) -> Objective:
    """Change an objective; moving it under another parent moves its whole subtree."""
    objective = await scope.get(Objective, objective_id, "id")
    await require_open(scope, objective.cycle_id, "id")
    if objective.status is GoalStatus.ARCHIVED:
        raise DomainError.single(ErrorCode.ARCHIVED, msg("objective.archived"), "id")
    _check(changes, creating=False)
    require_edit(scope, await objective_owner(scope, objective), msg("access.what.objectives"))
    changes = await with_new_owner(scope, changes, msg("access.what.objectives"))
    new_parent: Objective | None = None
    moving = "parent_id" in changes and changes["parent_id"] != objective.parent_id
    if moving:
        new_parent = await _parent_for(scope, changes["parent_id"], objective.cycle_id)
        if new_parent is not None and new_parent.path.startswith(objective.path):
            raise DomainError.single(
                ErrorCode.ALIGNMENT_LOOP,
                msg("objective.alignment_loop"),
                "parentId",
            )
    before = {k: getattr(objective, k) for k in changes}
    old_parent_id = objective.parent_id
    async with in_transaction():
        for key, value in changes.items():
            if key != "parent_id":
                setattr(objective, key, value.strip() if isinstance(value, str) else value)
        if moving:
            await _move(scope, objective, new_parent)
        await objective.save()
        old, new = audit.changes(before, {k: getattr(objective, k) for k in changes})
        if new:
            await audit.record(scope, "objective.updated", "objective", objective.id, old, new)
        if moves_scores("objective", new):
            # A move changes both paths up: the one it left and the one it joined.
            left = {old_parent_id} if old_parent_id is not None else set()
            await refresh(scope, Changes(objectives={objective.id} | left))
    return objective


async def _move(scope: TenantScope, objective: Objective, parent: Objective | None) -> None:
    """Re-root the subtree of ``objective`` under ``parent`` (paths and depths)."""
    old_path, old_depth = objective.path, objective.depth
    objective.parent_id = parent.id if parent else None
    objective.path = f"{parent.path if parent else '/'}{objective.id}/"
    objective.depth = parent.depth + 1 if parent else 0
    shift = objective.depth - old_depth
    descendants = (
        await scope.query(Objective).filter(path__startswith=old_path).exclude(id=objective.id)
    )
    for row in descendants:
        row.path = objective.path + row.path.removeprefix(old_path)
        row.depth += shift
    if descendants:
        await Objective.bulk_update(descendants, fields=["path", "depth"])


async def archive_objective(scope: TenantScope, objective_id: int) -> Objective:
    """Archive an objective with its sub-objectives and their key results.

    Archived goals keep their history (measurements, check-ins, audit) but leave
    goal trees and scores.
    """
    objective = await scope.get(Objective, objective_id, "id")
    await require_open(scope, objective.cycle_id, "id")
    require_edit(scope, await objective_owner(scope, objective), msg("access.what.objectives"))
    if objective.status is GoalStatus.ARCHIVED:
        raise DomainError.single(ErrorCode.ARCHIVED, msg("objective.already_archived"), "id")
    async with in_transaction():
        # Only what is still active changes, and each of those gets its own event, so
        # the trail says exactly which goals left and when.
        ids: list[int] = [
            row.id
            for row in await scope.query(Objective)
            .filter(path__startswith=objective.path, status=GoalStatus.ACTIVE)
            .order_by("id")
            .only("id")
        ]
        kr_ids: list[int] = [
            row.id
            for row in await scope.query(KeyResult)
            .filter(objective_id__in=ids, status=GoalStatus.ACTIVE)
            .order_by("id")
            .only("id")
        ]
        await scope.query(Objective).filter(id__in=ids).update(status=GoalStatus.ARCHIVED)
        await scope.query(KeyResult).filter(id__in=kr_ids).update(status=GoalStatus.ARCHIVED)
        before = {"status": GoalStatus.ACTIVE.value}
        after = {"status": GoalStatus.ARCHIVED.value, "with": objective.id}
        await audit.record_many(scope, "objective.archived", "objective", ids, before, after)
        await audit.record_many(scope, "key_result.archived", "key_result", kr_ids, before, after)
        await refresh(scope, Changes(key_results=set(kr_ids), objectives=set(ids)))
    objective.status = GoalStatus.ARCHIVED
    return objective
