"""Writes into a closed cycle's goals are refused: the one check every goal service makes.

A closed cycle (考核周期) is a finished review. Its goals take no more changes, check-ins
or KPI links, so its frozen scores keep meaning what they said when it closed.
"""

from __future__ import annotations

from ..errors import DomainError, ErrorCode
from ..i18n import msg
from ..models import Cycle
from ..tenancy import TenantScope


def closed_error(cycle: Cycle, field: str | None) -> DomainError:
    return DomainError.single(
        ErrorCode.CYCLE_CLOSED,
        msg("cycle.closed", name=cycle.name),
        field,
    )


async def require_open(scope: TenantScope, cycle_id: int, field: str | None = "cycleId") -> Cycle:
    """The cycle, refused with ``CYCLE_CLOSED`` when it is closed (``NOT_FOUND`` when
    absent): the check every write into a cycle's goals makes."""
    cycle = await scope.get(Cycle, cycle_id, field)
    if cycle.closed:
        raise closed_error(cycle, field)
    return cycle


async def require_open_objective(
    scope: TenantScope, objective_id: int, field: str | None = "id"
) -> None:
    """Refuse a write under an objective whose cycle is closed (one query)."""
    cycle = (
        await scope.query(Cycle)
        .filter(objectives__id=objective_id, closed_at__isnull=False)
        .first()
    )
    if cycle is not None:
        raise closed_error(cycle, field)
