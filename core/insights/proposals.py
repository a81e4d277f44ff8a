"""What recommendations and adjustments share: a proposal waits until a person
accepts or dismisses it, once, and the decision is audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .. import audit
from ..enums import ProposalStatus
from ..errors import DomainError, ErrorCode
from ..i18n import Msg, msg
from ..models.insights import Proposal
from ..tenancy import TenantScope


def require_waiting(row: Proposal, what: Msg) -> None:
    """A proposal is decided once: deciding again is a CONFLICT."""
    if row.status is not ProposalStatus.PROPOSED:
        raise DomainError.single(
            ErrorCode.CONFLICT,
            msg("insight.already_decided", what=what, status=row.status.value),
            "id",
        )


async def decide(
    scope: TenantScope,
    row: Proposal,
    entity_type: str,
    status: ProposalStatus,
    detail: dict[str, Any],
) -> None:
    """Record the decision with its ``<entity_type>.<status>`` audit event."""
    row.status, row.decided_by_id, row.decided_at = status, scope.actor.person_id, datetime.now(UTC)
    await row.save(update_fields=["status", "decided_by_id", "decided_at", "updated_at"])
    await audit.record(
        scope,
        f"{entity_type}.{status.value}",
        entity_type,
        row.id,
        {"status": ProposalStatus.PROPOSED.value},
        {"status": status.value, **detail},
    )
