"""What every mutation shares: turning domain refusals into payload errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

import strawberry
from strawberry.types.nodes import SelectedField, Selection
from strawberry.utils.str_converters import to_camel_case

from ...core.errors import DomainError, ErrorCode
from ...core.i18n import msg
from ..context import Info
from ..errors import UserError, user_errors
from ..ids import decode_optional

T = TypeVar("T")


async def guarded(action: Callable[[], Awaitable[T]]) -> tuple[T | None, list[UserError]]:
    """Run a use case; a refusal becomes ``errors`` and nothing was written."""
    try:
        return await action(), []
    except DomainError as exc:
        return None, user_errors(exc)


def updates(data: Any, names: Iterable[str]) -> dict[str, Any]:
    """The fields of an update input the client sent, by name (null is refused: a
    required field cannot be cleared), and the owner as a pair when either half is sent."""
    changes: dict[str, Any] = {}
    for name in names:
        value = getattr(data, name)
        if value is strawberry.UNSET:
            continue
        if value is None:
            field = to_camel_case(name)
            raise DomainError.single(ErrorCode.REQUIRED, msg("error.not_null", field=field), field)
        changes[name] = value
    unit, person = data.owner_unit_id, data.owner_person_id
    if unit is not strawberry.UNSET or person is not strawberry.UNSET:
        changes["owner_unit_id"] = decode_optional(unit or None, "OrgUnit", "ownerUnitId")
        changes["owner_person_id"] = decode_optional(person or None, "Person", "ownerPersonId")
    return changes


def asks_for(info: Info, name: str) -> bool:
    """Whether the payload's selection (fragments included) names the field ``name``:
    a batch whose caller reads only ``errors`` need not read its rows back."""

    def found(selections: Sequence[Selection]) -> bool:
        for selection in selections:
            if isinstance(selection, SelectedField) and selection.name == name:
                return True
            if found(selection.selections):
                return True
        return False

    return any(found(field.selections) for field in info.selected_fields)
