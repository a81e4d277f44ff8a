"""Who sees which alerts, recommendations and adjustments.

An alert is for the KPI's owner and the managers above them; a recommendation for the
person, their managers and admins; an adjustment for the unit's managers (who decide)
and its members. Admins and consultants see the whole tenant. Each rule is a queryset
filter, so lists stay one query whatever the caller's role.
"""

from __future__ import annotations

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from ..enums import Role
from ..models import Adjustment, Alert, Recommendation
from ..tenancy import TenantScope

_WHOLE_TENANT = {Role.ADMIN, Role.CONSULTANT}


def _unit_path(scope: TenantScope) -> str:
    return scope.actor.unit_path or "/-/"  # no unit: matches nothing


def alerts_for(scope: TenantScope) -> QuerySet[Alert]:
    query = scope.query(Alert)
    if scope.role in _WHOLE_TENANT:
        return query
    if scope.role is Role.MANAGER:
        return query.filter(owner_path__startswith=_unit_path(scope))
    own = Q(owner_person_id=scope.actor.person_id or 0)
    team = Q(owner_person_id__isnull=True, owner_path=_unit_path(scope))
    return query.filter(own | team)


def can_see_alert(scope: TenantScope, owner_path: str, owner_person_id: int | None) -> bool:
    """The rule of ``alerts_for`` for one alert (live events carry no row to filter)."""
    if scope.role in _WHOLE_TENANT:
        return True
    if scope.role is Role.MANAGER:
        return owner_path.startswith(_unit_path(scope))
    if owner_person_id is not None:
        return owner_person_id == scope.actor.person_id
    return owner_path == _unit_path(scope)


def recommendations_for(scope: TenantScope) -> QuerySet[Recommendation]:
    query = scope.query(Recommendation)
    if scope.role is Role.ADMIN:
        return query
    if scope.role is Role.MANAGER:
        return query.filter(person__org_unit__path__startswith=_unit_path(scope))
    return query.filter(person_id=scope.actor.person_id or 0)


def adjustments_for(scope: TenantScope) -> QuerySet[Adjustment]:
    query = scope.query(Adjustment)
    if scope.role in _WHOLE_TENANT:
        return query
    if scope.role is Role.MANAGER:
        return query.filter(org_unit__path__startswith=_unit_path(scope))
    return query.filter(org_unit__path=_unit_path(scope))
