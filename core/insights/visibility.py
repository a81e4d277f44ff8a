"""Who sees which alerts, recommendations and adjustments.

An alert is for the KPI's owner and the managers above them; a recommendation for the
person, their managers and admins (managers above them in the org tree, and the people
they report to outside it: ``Actor.reports``); an adjustment for the unit's managers (who decide)
and its members. Admins see the whole tenant; consultants too, except what is about an
individual: they see the alerts of team KPIs (owned by units) and their own, and their
own recommendations only. Each rule is a queryset filter, so lists stay one query
whatever the caller's role.
"""

from __future__ import annotations

from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from ..enums import Role
from ..models import Adjustment, Alert, Recommendation
from ..tenancy import TenantScope

_WHOLE_TENANT = {Role.ADMIN, Role.CONSULTANT}


def _unit_path(scope: TenantScope) -> str:
    return scope.actor.unit_path or "/-/"  # no unit: matches nothing


def _reports(scope: TenantScope, column: str) -> Q:
    """Rows of the people reporting to the actor outside the org tree (none: no row)."""
    wanted: dict[str, Any] = {f"{column}__in": sorted(scope.actor.reports) or [0]}
    return Q(**wanted)


def alerts_for(scope: TenantScope) -> QuerySet[Alert]:
    query = scope.query(Alert)
    if scope.role is Role.ADMIN:
        return query
    if scope.role is Role.CONSULTANT:
        mine = Q(owner_person_id=scope.actor.person_id or 0)
        return query.filter(Q(owner_person_id__isnull=True) | mine)
    reports = _reports(scope, "owner_person_id")
    if scope.role is Role.MANAGER:
        return query.filter(Q(owner_path__startswith=_unit_path(scope)) | reports)
    own = Q(owner_person_id=scope.actor.person_id or 0)
    team = Q(owner_person_id__isnull=True, owner_path=_unit_path(scope))
    return query.filter(own | team | reports)


def can_see_alert(scope: TenantScope, owner_path: str, owner_person_id: int | None) -> bool:
    """The rule of ``alerts_for`` for one alert (live events carry no row to filter)."""
    if scope.role is Role.CONSULTANT:
        return owner_person_id is None or owner_person_id == scope.actor.person_id
    if scope.role is Role.ADMIN or owner_person_id in scope.actor.reports:
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
    if scope.role is Role.CONSULTANT:
        return query.filter(person_id=scope.actor.person_id or 0)
    reports = _reports(scope, "person_id")
    if scope.role is Role.MANAGER:
        return query.filter(Q(person__org_unit__path__startswith=_unit_path(scope)) | reports)
    return query.filter(Q(person_id=scope.actor.person_id or 0) | reports)


def adjustments_for(scope: TenantScope) -> QuerySet[Adjustment]:
    query = scope.query(Adjustment)
    if scope.role in _WHOLE_TENANT:
        return query
    if scope.role is Role.MANAGER:
        return query.filter(org_unit__path__startswith=_unit_path(scope))
    return query.filter(org_unit__path=_unit_path(scope))
