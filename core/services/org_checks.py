"""What the org-unit and people services share: who may change the org structure, and
the identifiers that must stay unique in a tenant (codes, directory ids, emails)."""

from __future__ import annotations

from ..enums import Role
from ..errors import ErrorCode, Problem, forbidden
from ..i18n import msg
from ..models import OrgUnit, Person
from ..tenancy import TenantScope

ADMINS = frozenset({Role.ADMIN, Role.CONSULTANT})


def require_admin(scope: TenantScope) -> None:
    """Only admins and consultants change units and people."""
    if scope.role not in ADMINS:
        raise forbidden(msg("org.change_forbidden"))


def blank_to_none(value: str | None) -> str | None:
    """Trimmed text, or None when blank (codes and directory ids are optional)."""
    return (value or "").strip() or None


async def taken(
    scope: TenantScope,
    model: type[OrgUnit] | type[Person],
    column: str,
    value: str | None,
    field: str,
    exclude_id: int | None = None,
) -> Problem | None:
    """A CONFLICT problem when another row of the tenant already has ``value`` in
    ``column`` (None and blank values never conflict)."""
    if value is None or value == "":
        return None
    query = scope.query(model).filter(**{column: value})
    if exclude_id is not None:
        query = query.exclude(id=exclude_id)
    if await query.exists():
        return Problem(ErrorCode.CONFLICT, msg("error.taken", field=field, value=value), field)
    return None
