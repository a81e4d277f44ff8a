"""Tenants, the org tree, people and cycles: the frame the goals hang in.

Creating a tenant is a system action (CLI, demo); everything else needs an admin
or consultant of the tenant. Units are created, renamed, moved, archived and restored
here; people live in ``core/services/people.py``.

A unit's ``path`` (``/1/4/9/``) is materialised, and so are the copies of it other rows
keep for their visibility rules (``Alert.owner_path``). Moving a unit rewrites the
paths of its whole subtree and those copies in one ``UPDATE`` each, whatever the
subtree's size. Stored scores hang off goals, not org paths, so a move leaves them as
they are; unit rankings and visibility read the paths and follow the move at once.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from .. import audit, rls
from ..enums import CycleKind, GoalStatus, LifecycleStage, OrgUnitKind, Role
from ..errors import DomainError, ErrorCode, Problem, not_found
from ..i18n import Msg, msg
from ..models import Alert, Cycle, KeyResult, Kpi, Objective, OrgUnit, Person, Tenant
from ..tenancy import TenantScope
from ..validation import Checks
from .org_checks import blank_to_none, require_admin, taken

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
#: What a materialised org path looks like; checked before a path is written into SQL.
_PATH = re.compile(r"^/(?:[0-9]+/)+$")
#: The fields ``update_org_unit`` changes.
UNIT_FIELDS = frozenset({"name", "name_en", "code", "kind", "external_id"})


def _require_admin(scope: TenantScope) -> None:
    require_admin(scope)


async def create_tenant(
    *,
    slug: str,
    name: str,
    name_en: str = "",
    industry: str = "",
    lifecycle_stage: str = LifecycleStage.GROWTH.value,
) -> tuple[Tenant, OrgUnit]:
    """A tenant with its company root unit (the top of its org tree); the running task
    is bound to the new tenant from here on (``core/rls``), as it goes on to fill it."""
    if not SLUG.match(slug):
        raise DomainError.single(ErrorCode.INVALID, msg("org.bad_slug"), "slug")
    if await Tenant.exists(slug=slug):
        raise DomainError.single(ErrorCode.CONFLICT, msg("org.tenant_exists", slug=slug), "slug")
    async with in_transaction():
        tenant = await Tenant.create(
            slug=slug,
            name=name,
            name_en=name_en,
            industry=industry,
            lifecycle_stage=lifecycle_stage,
        )
        rls.bind(tenant.id)
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
    external_id: str | None = None,
) -> OrgUnit:
    """A unit under ``parent_id`` (every tenant has exactly one company root); ``code``
    is what business systems call it (a store number), ``external_id`` its id in the HR
    directory; both are unique in the tenant."""
    require_admin(scope)
    checks = Checks()
    _check_unit_text(checks, {"name": name, "name_en": name_en, "code": code})
    checks.text("externalId", external_id, 128, required=False)
    if kind is OrgUnitKind.COMPANY:
        checks.add(ErrorCode.INVALID, msg("org.one_company_unit"), "kind")
    checks.done()
    code, external_id = blank_to_none(code), blank_to_none(external_id)
    await _unique(scope, {"code": code, "external_id": external_id})
    parent = await scope.find(OrgUnit, parent_id)
    if parent is None:
        raise not_found("org_unit", "parentId")
    if not parent.active:
        raise DomainError.single(ErrorCode.ARCHIVED, msg("org.parent_archived"), "parentId")
    async with in_transaction():
        unit = await scope.create(
            OrgUnit,
            name=name.strip(),
            name_en=name_en.strip(),
            kind=kind,
            parent_id=parent.id,
            depth=parent.depth + 1,
            code=code,
            external_id=external_id,
        )
        unit.path = f"{parent.path}{unit.id}/"
        await unit.save(update_fields=["path"])
        await audit.record(scope, "org_unit.created", "org_unit", unit.id, None, _state(unit))
    return unit


async def update_org_unit(scope: TenantScope, unit_id: int, changes: dict[str, Any]) -> OrgUnit:
    """Rename a unit or change its kind, code or directory id; only the keys given
    change (``UNIT_FIELDS``). The company unit stays the company."""
    require_admin(scope)
    unknown = set(changes) - UNIT_FIELDS
    if unknown:
        raise ValueError(f"not fields of an org unit: {sorted(unknown)}")
    unit = await scope.get(OrgUnit, unit_id, "id")
    checks = Checks()
    _check_unit_text(checks, changes)
    if "external_id" in changes:
        checks.text("externalId", changes["external_id"], 128, required=False)
    if "kind" in changes:
        kind = OrgUnitKind(changes["kind"])
        if (kind is OrgUnitKind.COMPANY) != (unit.kind is OrgUnitKind.COMPANY):
            checks.add(ErrorCode.INVALID, msg("org.exactly_one_company_unit"), "kind")
    checks.done()
    values: dict[str, Any] = {}
    for key, value in changes.items():
        if key in {"code", "external_id"}:
            values[key] = blank_to_none(value)
        elif key == "kind":
            values[key] = OrgUnitKind(value)
        else:
            values[key] = value.strip()
    await _unique(
        scope, {k: values[k] for k in ("code", "external_id") if k in values}, exclude_id=unit.id
    )
    before = _state(unit)
    async with in_transaction():
        for key, value in values.items():
            setattr(unit, key, value)
        await unit.save()
        old, new = audit.changes(before, _state(unit))
        if new:
            await audit.record(scope, "org_unit.updated", "org_unit", unit.id, old, new)
    return unit


async def move_org_unit(scope: TenantScope, unit_id: int, *, parent_id: int) -> OrgUnit:
    """Move a unit, with everything below it, under another active unit.

    The paths and depths of the whole subtree and the org paths alerts keep are
    rewritten in one statement each; people, goals and stored scores keep their ids and
    follow. Refused with ORG_LOOP under the unit itself or one of its own units.
    """
    require_admin(scope)
    unit = await scope.get(OrgUnit, unit_id, "id")
    if unit.kind is OrgUnitKind.COMPANY or unit.parent_id is None:
        raise DomainError.single(ErrorCode.INVALID, msg("org.company_cannot_move"), "id")
    parent = await scope.get(OrgUnit, parent_id, "parentId")
    if parent.path.startswith(unit.path):
        raise DomainError.single(
            ErrorCode.ORG_LOOP,
            msg("org.loop"),
            "parentId",
        )
    if not parent.active:
        raise DomainError.single(ErrorCode.ARCHIVED, msg("org.new_parent_archived"), "parentId")
    if parent.id == unit.parent_id:
        return unit
    old_path, old_parent_id = unit.path, unit.parent_id
    new_path = f"{parent.path}{unit.id}/"
    shift = parent.depth + 1 - unit.depth
    async with in_transaction():
        await _reprefix_units(scope, old_path, new_path, shift)
        await scope.query(OrgUnit).filter(id=unit.id).update(parent_id=parent.id)
        await _reprefix_alerts(scope, old_path, new_path)
        await audit.record(
            scope,
            "org_unit.moved",
            "org_unit",
            unit.id,
            {"parent_id": old_parent_id, "path": old_path},
            {"parent_id": parent.id, "path": new_path},
        )
    unit.parent_id, unit.path, unit.depth = parent.id, new_path, unit.depth + shift
    return unit


async def archive_org_unit(scope: TenantScope, unit_id: int) -> OrgUnit:
    """Archive a unit that no longer holds anything active: refused (IN_USE, with the
    counts) while it has active people, active units below it, or active goals it
    owns. Its history (goals, scores, audit) stays."""
    require_admin(scope)
    unit = await scope.get(OrgUnit, unit_id, "id")
    if unit.kind is OrgUnitKind.COMPANY:
        raise DomainError.single(ErrorCode.INVALID, msg("org.company_cannot_archive"), "id")
    if not unit.active:
        raise DomainError.single(ErrorCode.ARCHIVED, msg("org.already_archived"), "id")
    in_use = await _in_use(scope, unit)
    if in_use:
        raise DomainError.single(
            ErrorCode.IN_USE,
            msg("org.in_use", what=in_use),
            "id",
        )
    now = datetime.now(UTC)
    async with in_transaction():
        unit.archived_at = now
        await unit.save(update_fields=["archived_at", "updated_at"])
        await audit.record(
            scope,
            "org_unit.archived",
            "org_unit",
            unit.id,
            {"archived_at": None},
            {"archived_at": now.isoformat()},
        )
    return unit


async def restore_org_unit(scope: TenantScope, unit_id: int) -> OrgUnit:
    """Bring an archived unit back (its parent must be active)."""
    require_admin(scope)
    unit = await scope.get(OrgUnit, unit_id, "id")
    if unit.active:
        raise DomainError.single(ErrorCode.INVALID, msg("org.not_archived"), "id")
    parent = await scope.find(OrgUnit, unit.parent_id) if unit.parent_id else None
    if parent is not None and not parent.active:
        raise DomainError.single(ErrorCode.ARCHIVED, msg("org.above_archived"), "id")
    archived_at = unit.archived_at
    async with in_transaction():
        unit.archived_at = None
        await unit.save(update_fields=["archived_at", "updated_at"])
        await audit.record(
            scope,
            "org_unit.restored",
            "org_unit",
            unit.id,
            {"archived_at": archived_at.isoformat() if archived_at else None},
            {"archived_at": None},
        )
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
    job_title: str = "",
    manager_id: int | None = None,
    external_id: str | None = None,
) -> Person:
    """A person in an org unit: see ``people.create_person``."""
    from .people import create_person as create

    return await create(
        scope,
        name=name,
        org_unit_id=org_unit_id,
        role=role,
        name_en=name_en,
        email=email,
        code=code,
        job_title=job_title,
        manager_id=manager_id,
        external_id=external_id,
    )


def _state(unit: OrgUnit) -> dict[str, Any]:
    """The audited fields of a unit, as JSON values."""
    return {
        "name": unit.name,
        "name_en": unit.name_en,
        "kind": unit.kind.value,
        "code": unit.code,
        "external_id": unit.external_id,
        "parent_id": unit.parent_id,
    }


def _check_unit_text(checks: Checks, values: dict[str, Any]) -> None:
    if "name" in values:
        checks.text("name", values["name"], 200)
    if "name_en" in values:
        checks.text("nameEn", values["name_en"], 200, required=False)
    if "code" in values:
        checks.text("code", values["code"], 64, required=False)


async def _unique(
    scope: TenantScope, values: dict[str, str | None], exclude_id: int | None = None
) -> None:
    """Refuse codes and directory ids another unit of the tenant has."""
    fields = {"code": "code", "external_id": "externalId"}
    problems: list[Problem] = []
    for column, value in values.items():
        problem = await taken(scope, OrgUnit, column, value, fields[column], exclude_id)
        if problem is not None:
            problems.append(problem)
    if problems:
        raise DomainError(*problems)


async def _in_use(scope: TenantScope, unit: OrgUnit) -> list[Msg]:
    """What still depends on the unit, as counted phrases (empty: nothing)."""
    active = GoalStatus.ACTIVE
    people = await scope.query(Person).filter(org_unit_id=unit.id, active=True).count()
    children = (
        await scope.query(OrgUnit).filter(parent_id=unit.id, archived_at__isnull=True).count()
    )
    goals = 0
    for model in (Objective, KeyResult, Kpi):
        goals += await scope.query(model).filter(owner_unit_id=unit.id, status=active).count()
    counted = (
        (people, msg("org.in_use.person", count=people), msg("org.in_use.people", count=people)),
        (children, msg("org.in_use.unit", count=children), msg("org.in_use.units", count=children)),
        (goals, msg("org.in_use.goal", count=goals), msg("org.in_use.goals", count=goals)),
    )
    return [one if count == 1 else many for count, one, many in counted if count]


class _Reprefixed(F):
    """``'<new>' || substr(column, len(old) + 1)``: a materialised path with its
    leading ``old`` replaced by ``new``, computed by the database (SQLite and
    PostgreSQL alike). Both paths are checked to be digits and slashes only."""

    def __init__(self, column: str, old: str, new: str) -> None:
        if not (_PATH.match(old) and _PATH.match(new)):
            raise ValueError(f"not org paths: {old!r}, {new!r}")
        super().__init__(column)
        self.old, self.new = old, new

    def resolve(self, resolve_context: Any) -> Any:
        from pypika_tortoise.terms import Term

        resolved = super().resolve(resolve_context)
        column, new, start = resolved.term, self.new, len(self.old) + 1

        class _Sql(Term):
            def get_sql(self, ctx: Any) -> str:
                return f"'{new}' || SUBSTR({column.get_sql(ctx)}, {start})"

        resolved.term = _Sql()
        return resolved


async def _reprefix_units(scope: TenantScope, old: str, new: str, shift: int) -> None:
    """Every unit at or below ``old`` re-rooted at ``new``: one UPDATE."""
    await (
        scope.query(OrgUnit)
        .filter(path__startswith=old)
        .update(
            path=_Reprefixed("path", old, new),
            depth=F("depth") + shift,
            updated_at=datetime.now(UTC),
        )
    )


async def _reprefix_alerts(scope: TenantScope, old: str, new: str) -> None:
    """The org paths alerts keep for their visibility rule: one UPDATE."""
    await (
        scope.query(Alert)
        .filter(owner_path__startswith=old)
        .update(owner_path=_Reprefixed("owner_path", old, new))
    )


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
