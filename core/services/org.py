"""Tenants, the org tree, people and cycles: the frame the goals hang in.

Creating a tenant is a system action (CLI, demo); everything else needs an admin
or consultant of the tenant.
"""

from __future__ import annotations

import re
from datetime import date

from tortoise.transactions import in_transaction

from ..enums import CycleKind, LifecycleStage, OrgUnitKind, Role
from ..errors import DomainError, ErrorCode, forbidden, not_found
from ..models import Cycle, OrgUnit, Person, Tenant
from ..tenancy import TenantScope
from ..validation import Checks

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_ADMINS = {Role.ADMIN, Role.CONSULTANT}


def _require_admin(scope: TenantScope) -> None:
    if scope.role not in _ADMINS:
        raise forbidden("only admins and consultants may change the org structure")


async def create_tenant(
    *,
    slug: str,
    name: str,
    name_en: str = "",
    industry: str = "",
    lifecycle_stage: str = LifecycleStage.GROWTH.value,
) -> tuple[Tenant, OrgUnit]:
    """A tenant with its company root unit (the top of its org tree)."""
    if not SLUG.match(slug):
        raise DomainError.single(
            ErrorCode.INVALID, "slug must be 2-63 lowercase letters, digits or dashes", "slug"
        )
    if await Tenant.exists(slug=slug):
        raise DomainError.single(ErrorCode.CONFLICT, f"tenant {slug!r} already exists", "slug")
    async with in_transaction():
        tenant = await Tenant.create(
            slug=slug,
            name=name,
            name_en=name_en,
            industry=industry,
            lifecycle_stage=lifecycle_stage,
        )
        root = await OrgUnit.create(
            tenant_id=tenant.id, name=name, name_en=name_en, kind=OrgUnitKind.COMPANY
        )
        root.path = f"/{root.id}/"
        await root.save(update_fields=["path"])
    return tenant, root


async def create_org_unit(
    scope: TenantScope,
    *,
    name: str,
    kind: OrgUnitKind,
    parent_id: int,
    name_en: str = "",
    code: str | None = None,
) -> OrgUnit:
    """A unit under ``parent_id`` (every tenant has exactly one company root); ``code``
    is what business systems call it (a store number), unique in the tenant."""
    _require_admin(scope)
    checks = Checks()
    checks.text("name", name, 200)
    checks.text("nameEn", name_en, 200, required=False)
    checks.text("code", code, 64, required=False)
    checks.done()
    code = await _free_code(scope, OrgUnit, code)
    parent = await scope.find(OrgUnit, parent_id)
    if parent is None:
        raise not_found("org unit", "parentId")
    if kind is OrgUnitKind.COMPANY:
        raise DomainError.single(ErrorCode.INVALID, "a tenant has one company unit", "kind")
    async with in_transaction():
        unit = await scope.create(
            OrgUnit,
            name=name.strip(),
            name_en=name_en.strip(),
            kind=kind,
            parent_id=parent.id,
            depth=parent.depth + 1,
            code=code,
        )
        unit.path = f"{parent.path}{unit.id}/"
        await unit.save(update_fields=["path"])
    return unit


async def create_person(
    scope: TenantScope,
    *,
    name: str,
    org_unit_id: int,
    role: Role = Role.EMPLOYEE,
    name_en: str = "",
    email: str = "",
    code: str | None = None,
) -> Person:
    """A person in an org unit with a role; ``code`` is their number in business
    systems (payroll, attendance), unique in the tenant."""
    _require_admin(scope)
    checks = Checks()
    checks.text("name", name, 200)
    checks.text("email", email, 254, required=False)
    checks.text("code", code, 64, required=False)
    checks.done()
    code = await _free_code(scope, Person, code)
    if await scope.find(OrgUnit, org_unit_id) is None:
        raise not_found("org unit", "orgUnitId")
    return await scope.create(
        Person,
        name=name.strip(),
        name_en=name_en.strip(),
        email=email,
        role=role,
        org_unit_id=org_unit_id,
        code=code,
    )


async def _free_code(
    scope: TenantScope, model: type[OrgUnit] | type[Person], code: str | None
) -> str | None:
    """The trimmed code (None when blank), refused when another row has it."""
    code = (code or "").strip() or None
    if code is not None and await scope.query(model).filter(code=code).exists():
        raise DomainError.single(ErrorCode.CONFLICT, f"code {code!r} is taken", "code")
    return code


async def create_cycle(
    scope: TenantScope,
    *,
    name: str,
    kind: CycleKind,
    starts_on: date,
    ends_on: date,
    name_en: str = "",
) -> Cycle:
    """A cycle (quarter, month, ...) with inclusive dates; see ``cycles.create_cycle``."""
    from . import cycles

    return await cycles.create_cycle(
        scope, name=name, kind=kind, starts_on=starts_on, ends_on=ends_on, name_en=name_en
    )
