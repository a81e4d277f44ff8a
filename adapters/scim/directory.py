"""What every SCIM request shares: the credential's tenant scope, the tenant's company
unit, resource locations, and turning domain refusals into SCIM errors."""

from __future__ import annotations

from dataclasses import dataclass, field

from scim2_models import (
    ConflictException,
    ForbiddenException,
    InvalidValueException,
    NotFoundException,
    SCIMException,
    UniquenessException,
)

from ...core.enums import OrgUnitKind
from ...core.errors import DomainError, ErrorCode
from ...core.models import OrgUnit
from ...core.tenancy import TenantScope


@dataclass
class Directory:
    """One SCIM request's view of its tenant."""

    scope: TenantScope
    #: The absolute URL of ``/scim/v2`` as the client reached it.
    base_url: str
    _company: OrgUnit | None = field(default=None, repr=False)

    async def company(self) -> OrgUnit:
        """The tenant's company unit: where people without a department sit."""
        if self._company is None:
            self._company = (
                await self.scope.query(OrgUnit)
                .filter(parent_id=None, kind=OrgUnitKind.COMPANY)
                .order_by("id")
                .first()
            )
            if self._company is None:  # pragma: no cover - every tenant has one
                raise NotFoundException(detail="the tenant has no company unit")
        return self._company

    def location(self, endpoint: str, row_id: int) -> str:
        return f"{self.base_url}/{endpoint}/{row_id}"


def row_id(value: str | None) -> int | None:
    """The row id a SCIM id names (None when it cannot name one of ours)."""
    text = (value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


def scim_error(error: DomainError) -> SCIMException:
    """The SCIM error a domain refusal is: a taken email, employee number or directory
    id is ``uniqueness`` (409); a unit still in use is a 409 with the counts; a missing
    id is 404; every other problem a 400 ``invalidValue`` naming all of them."""
    detail = "; ".join(p.text() for p in error.problems)
    codes = {p.code for p in error.problems}
    if ErrorCode.CONFLICT in codes:
        return UniquenessException(detail=detail)
    if ErrorCode.IN_USE in codes:
        return ConflictException(detail=detail)
    if ErrorCode.FORBIDDEN in codes:
        return ForbiddenException(detail=detail)
    if codes == {ErrorCode.NOT_FOUND} and all(p.field == "id" for p in error.problems):
        return NotFoundException(detail=detail)
    return InvalidValueException(detail=detail)
