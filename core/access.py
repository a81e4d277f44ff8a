"""Who may change which goals, and who may see whose KPI values.

OKR transparency: objectives and key results are visible to the whole company.
KPI values and scores of an individual are private to that person, the managers
above them in the org tree, the people they report to outside it (an explicit
solid-line manager, dotted-line managers: ``Actor.reports``), and admins; never to
consultants, who configure packs and templates but do not read others' scores. A KPI
owned by an org unit is a team number and visible to the whole company.
"""

from __future__ import annotations

from .enums import Role
from .errors import forbidden
from .i18n import Msg, msg
from .owners import OwnerRef
from .tenancy import TenantScope

_CONFIGURERS = {Role.ADMIN, Role.CONSULTANT}


def _manages(scope: TenantScope, owner: OwnerRef) -> bool:
    """The actor is a manager whose unit is the owner's unit or above it."""
    path = scope.actor.unit_path
    return scope.role is Role.MANAGER and path is not None and owner.unit_path.startswith(path)


def can_edit_goal(scope: TenantScope, owner: OwnerRef) -> bool:
    """Create, change or archive a goal with this owner, or record its measurements."""
    if scope.role in _CONFIGURERS:
        return True
    if _manages(scope, owner):
        return True
    return (
        scope.role is Role.EMPLOYEE
        and owner.person_id is not None
        and owner.person_id == scope.actor.person_id
    )


def can_check_in(scope: TenantScope, owner: OwnerRef) -> bool:
    """Report progress on a key result: its editors, and members of its owning unit."""
    if can_edit_goal(scope, owner):
        return True
    return (
        scope.role is Role.EMPLOYEE
        and owner.person_id is None
        and scope.actor.unit_path is not None
        and owner.unit_path == scope.actor.unit_path
    )


def can_see_values(scope: TenantScope, owner: OwnerRef) -> bool:
    """See a KPI's values and scores (an individual's are private, see module doc)."""
    if owner.person_id is None or scope.role is Role.ADMIN:
        return True
    if scope.role is Role.CONSULTANT:
        # consultants configure; they do not read individual scores, whoever reports to them
        return owner.person_id == scope.actor.person_id
    if owner.person_id == scope.actor.person_id or owner.person_id in scope.actor.reports:
        return True
    return _manages(scope, owner)


def can_see_people_below(scope: TenantScope, unit_path: str) -> bool:
    """See the scores of everyone in a unit and below (rankings): admins, and the
    managers of that unit or above it."""
    return scope.role is Role.ADMIN or _manages(scope, OwnerRef(None, None, unit_path))


def require_edit(scope: TenantScope, owner: OwnerRef, what: Msg, field: str | None = None) -> None:
    """Raise FORBIDDEN unless the actor may edit goals owned by ``owner``."""
    if not can_edit_goal(scope, owner):
        raise forbidden(msg("access.edit_forbidden", role=scope.role.value, what=what), field)
