"""Create, change and archive key results (关键成果), and check in on them."""

from __future__ import annotations

from typing import Any

from tortoise.transactions import in_transaction

from .. import audit, events
from ..access import can_check_in, require_edit
from ..enums import Direction, GoalStatus
from ..errors import DomainError, ErrorCode, forbidden
from ..i18n import msg
from ..models import CheckIn, KeyResult, Objective
from ..owners import resolve_owner
from ..scoring.store import Changes, refresh
from ..tenancy import TenantScope
from ..validation import Checks
from .edits import apply_changes, archive, with_new_owner
from .frozen import require_open, require_open_objective

#: Changes to these are audited: they move what "done" means, how much it counts or who
#: answers for it (and the trail lets any past score be reproduced).
AUDITED = (
    "start_value",
    "target_value",
    "current_value",
    "weight",
    "direction",
    "owner_unit_id",
    "owner_person_id",
)


def _check(values: dict[str, Any], creating: bool) -> None:
    checks = Checks()
    if "title" in values or creating:
        checks.text("title", values.get("title"), 300)
    if "title_en" in values:
        checks.text("titleEn", values["title_en"], 300, required=False)
    if "unit" in values:
        checks.text("unit", values["unit"], 32, required=False)
    if "weight" in values:
        checks.weight("weight", values["weight"])
    for name, field in (
        ("start_value", "startValue"),
        ("target_value", "targetValue"),
        ("current_value", "currentValue"),
    ):
        checks.number(field, values.get(name))
    checks.done()


def _check_span(start: float, target: float) -> None:
    if start == target:
        raise DomainError.single(ErrorCode.INVALID, msg("kr.target_equals_start"), "targetValue")


async def create_key_result(
    scope: TenantScope,
    *,
    objective_id: int,
    title: str,
    target_value: float,
    start_value: float = 0.0,
    current_value: float | None = None,
    title_en: str = "",
    unit: str = "",
    direction: Direction = Direction.HIGHER_IS_BETTER,
    weight: float = 1.0,
    owner_unit_id: int | None = None,
    owner_person_id: int | None = None,
    origin: str = "",
) -> KeyResult:
    """A key result under an objective; owned by the objective's owner unless given."""
    values = {
        "title": title,
        "title_en": title_en,
        "unit": unit,
        "weight": weight,
        "start_value": start_value,
        "target_value": target_value,
        "current_value": current_value,
    }
    _check(values, creating=True)
    _check_span(start_value, target_value)
    objective = await scope.get(Objective, objective_id, "objectiveId")
    await require_open(scope, objective.cycle_id, "objectiveId")
    if objective.status is GoalStatus.ARCHIVED:
        raise DomainError.single(ErrorCode.ARCHIVED, msg("objective.archived"), "objectiveId")
    objective_owner = await resolve_owner(scope, objective.owner_unit_id, objective.owner_person_id)
    require_edit(scope, objective_owner, msg("access.what.objective_krs"), "objectiveId")
    owner = objective_owner
    if owner_unit_id is not None or owner_person_id is not None:
        owner = await resolve_owner(scope, owner_unit_id, owner_person_id)
        require_edit(scope, owner, msg("access.what.key_results"), "ownerUnitId")
    async with in_transaction():
        key_result = await scope.create(
            KeyResult,
            objective_id=objective.id,
            title=title.strip(),
            title_en=title_en.strip(),
            unit=unit,
            direction=direction,
            start_value=start_value,
            target_value=target_value,
            current_value=start_value if current_value is None else current_value,
            weight=weight,
            owner_unit_id=owner.unit_id,
            owner_person_id=owner.person_id,
            origin=origin,
        )
        await audit.record(
            scope,
            "key_result.created",
            "key_result",
            key_result.id,
            after={k: getattr(key_result, k) for k in AUDITED},
        )
        await refresh(scope, Changes(key_results={key_result.id}))
    return key_result


async def _editable(scope: TenantScope, key_result_id: int) -> KeyResult:
    key_result = await scope.get(KeyResult, key_result_id, "id")
    await require_open_objective(scope, key_result.objective_id, "id")
    if key_result.status is GoalStatus.ARCHIVED:
        raise DomainError.single(ErrorCode.ARCHIVED, msg("kr.archived"), "id")
    owner = await resolve_owner(scope, key_result.owner_unit_id, key_result.owner_person_id)
    require_edit(scope, owner, msg("access.what.key_results"))
    return key_result


async def update_key_result(
    scope: TenantScope, key_result_id: int, changes: dict[str, Any]
) -> KeyResult:
    """Change a key result; target, start, weight and direction changes are audited."""
    _check(changes, creating=False)
    key_result = await _editable(scope, key_result_id)
    changes = await with_new_owner(scope, changes, msg("access.what.key_results"))
    _check_span(
        changes.get("start_value", key_result.start_value),
        changes.get("target_value", key_result.target_value),
    )
    await apply_changes(scope, key_result, changes, AUDITED, "key_result")
    return key_result


async def archive_key_result(scope: TenantScope, key_result_id: int) -> KeyResult:
    """Archive a key result: it leaves trees and scores, its history stays."""
    key_result = await _editable(scope, key_result_id)
    await archive(scope, key_result, "key_result")
    return key_result


async def check_in(
    scope: TenantScope,
    *,
    key_result_id: int,
    value: float,
    confidence: float | None = None,
    note: str = "",
) -> tuple[CheckIn, KeyResult]:
    """Record progress on a key result; its current value becomes ``value``."""
    checks = Checks()
    if not checks.number("value", value):
        checks.add(ErrorCode.REQUIRED, msg("kr.value_required"), "value")
    checks.fraction("confidence", confidence)
    checks.text("note", note, 4000, required=False)
    checks.done()
    key_result = await scope.get(KeyResult, key_result_id, "keyResultId")
    await require_open_objective(scope, key_result.objective_id, "keyResultId")
    if key_result.status is GoalStatus.ARCHIVED:
        raise DomainError.single(ErrorCode.ARCHIVED, msg("kr.archived"), "keyResultId")
    owner = await resolve_owner(scope, key_result.owner_unit_id, key_result.owner_person_id)
    if not can_check_in(scope, owner):
        raise forbidden(msg("kr.checkin_forbidden"), "keyResultId")
    async with in_transaction():
        # read afresh under a row lock: a check-in committed since the key result was
        # loaded must be the "before" of this one, or the trail (and asOf) skips it
        locked = (
            await scope.query(KeyResult).filter(id=key_result.id).select_for_update(no_key=True)
        )
        before = locked[0].current_value if locked else key_result.current_value
        entry = await scope.create(
            CheckIn,
            key_result_id=key_result.id,
            value=value,
            confidence=confidence,
            note=note,
            author_id=scope.actor.person_id,
        )
        key_result.current_value = value
        await key_result.save(update_fields=["current_value", "updated_at"])
        await audit.record(
            scope,
            "key_result.checked_in",
            "key_result",
            key_result.id,
            {"current_value": before},
            {"current_value": value, "check_in_id": entry.id},
        )
        await refresh(scope, Changes(key_results={key_result.id}))
        await events.publish_on_commit(
            events.Event(scope.tenant_id, events.PROGRESS, {"key_results": [key_result.id]})
        )
    return entry, key_result
