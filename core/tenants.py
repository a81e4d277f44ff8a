"""Tenants as whoever runs the service sees them: create a company ready for its first
admin, list them, summarise one, delete one.

These are system actions (the ``goalgraph tenant`` commands): they run before any
tenant scope exists, so they reach the tables directly, always filtered by tenant.

Which tables a tenant owns, and in which order they depend on each other, is read from
Tortoise's model registry (``tenant_models``), never listed by hand: a new tenant-owned
model is deleted, exported and imported without a change here.
"""

from __future__ import annotations

import graphlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tortoise import Tortoise
from tortoise.exceptions import IntegrityError
from tortoise.functions import Count
from tortoise.models import Model
from tortoise.transactions import in_transaction

from . import audit, rls
from .enums import CycleKind, LifecycleStage, Role
from .errors import DomainError, ErrorCode
from .i18n import msg
from .identity import Identity
from .models import (
    Cycle,
    DataBinding,
    KeyResult,
    Kpi,
    Measurement,
    Objective,
    OrgUnit,
    PackEnablement,
    Person,
    Tenant,
    TenantOwned,
)
from .reporting import email_problem, normalise_email
from .services import org
from .services.cycles import cycle_span
from .tenancy import Actor, TenantScope
from .validation import Checks

BUILT_IN_STAGES = frozenset(s.value for s in LifecycleStage)


# -- the tables of a tenant -------------------------------------------------------------


def tenant_models() -> list[type[Model]]:
    """``Tenant`` and every tenant-owned model, each after the models it refers to.

    Read from the registry of the initialised Tortoise app, so it always holds every
    model; a registered model that is neither the tenant nor tenant-owned is an error
    (no one would know whose rows it holds).
    """
    registry = sorted(Tortoise.apps["models"].values(), key=lambda m: m.__name__)
    strays = [m.__name__ for m in registry if not _tenant_table(m)]
    if strays:
        raise RuntimeError(f"models neither Tenant nor TenantOwned: {', '.join(strays)}")
    graph = {
        m: {f.related_model for f in _references(m) if f.related_model is not m} for m in registry
    }
    order = list(graphlib.TopologicalSorter(graph).static_order())
    return [Tenant, *(m for m in order if m is not Tenant)]


def owned_models() -> list[type[Model]]:
    """The tenant-owned models, parents before children."""
    return [m for m in tenant_models() if m is not Tenant]


def self_references(model: type[Model]) -> list[str]:
    """The columns of ``model`` that name another row of the same table (a parent unit,
    a parent objective, a manager)."""
    return [f.source_field for f in _references(model) if f.related_model is model]


def _tenant_table(model: type[Model]) -> bool:
    return model is Tenant or issubclass(model, TenantOwned)


def _references(model: type[Model]) -> list[Any]:
    meta = model._meta
    return [meta.fields_map[name] for name in sorted(meta.fk_fields | meta.o2o_fields)]


async def count_rows(tenant_id: int) -> dict[str, int]:
    """Rows per table of one tenant (the tenant's own row included), in table order."""
    counts = {"tenant": await Tenant.filter(id=tenant_id).count()}
    for model in owned_models():
        counts[model._meta.db_table] = await model.filter(tenant_id=tenant_id).count()
    return counts


# -- create -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewCompany:
    """What ``create_company`` made."""

    tenant: Tenant
    company: OrgUnit
    cycle: Cycle
    admin: Person

    @property
    def admin_identity(self) -> Identity:
        return Identity(self.tenant.id, self.tenant.slug, Role.ADMIN, self.admin.id)


def quarter_of(today: date) -> tuple[str, str, date, date]:
    """The quarter ``today`` falls in: name (``2026Q4``), English name, first and last day."""
    return cycle_span(CycleKind.QUARTER, today.year, (today.month - 1) // 3 + 1)


async def create_company(
    slug: str,
    name: str,
    name_en: str = "",
    stage: str = LifecycleStage.GROWTH.value,
    admin_email: str = "",
    admin_name: str = "",
    today: date | None = None,
    *,
    known_stages: Collection[str] = BUILT_IN_STAGES,
) -> NewCompany:
    """A tenant ready for its first admin: the tenant, its company unit, an open cycle
    for the current quarter and the admin, in one audited transaction.

    ``known_stages``: the lifecycle stages a tenant may be in (the built-in ones and
    those of the installed packs; the caller knows the packs). Every problem with the
    input is reported at once; nothing is written when any step fails.
    """
    slug = slug.strip()
    name, name_en, stage = name.strip(), name_en.strip(), stage.strip()
    email = normalise_email(admin_email)
    admin_name = admin_name.strip() or email.partition("@")[0]
    checks = Checks()
    if not org.SLUG.match(slug):
        checks.add(
            ErrorCode.INVALID,
            msg("tenant.bad_slug", slug=slug),
            "slug",
        )
    checks.text("name", name, 200)
    checks.text("nameEn", name_en, 200, required=False)
    if stage not in known_stages:
        checks.add(
            ErrorCode.INVALID,
            msg("stage.unknown", stage=stage, known=sorted(known_stages)),
            "stage",
        )
    if not email:
        checks.add(ErrorCode.REQUIRED, msg("tenant.admin_email_required"), "adminEmail")
    elif problem := email_problem(email):
        checks.add(ErrorCode.INVALID, problem, "adminEmail")
    checks.text("adminName", admin_name, 200, required=bool(email))
    checks.done()
    if await Tenant.exists(slug=slug):
        raise _taken(slug)
    cycle_name, cycle_name_en, starts_on, ends_on = quarter_of(today or date.today())
    try:
        async with in_transaction():
            tenant, company = await org.create_tenant(
                slug=slug, name=name, name_en=name_en, lifecycle_stage=stage
            )
            operator = _operator_scope(tenant)
            admin = await org.create_person(
                operator, name=admin_name, org_unit_id=company.id, role=Role.ADMIN, email=email
            )
            as_admin = TenantScope(
                tenant,
                Identity(tenant.id, tenant.slug, Role.ADMIN, admin.id),
                Actor(admin, company.path),
            )
            cycle = await org.create_cycle(
                as_admin,
                name=cycle_name,
                name_en=cycle_name_en,
                kind=CycleKind.QUARTER,
                starts_on=starts_on,
                ends_on=ends_on,
            )
            await audit.record(
                operator,
                "tenant.create",
                "tenant",
                tenant.id,
                None,
                {
                    "slug": slug,
                    "name": name,
                    "name_en": name_en,
                    "stage": stage,
                    "company_unit_id": company.id,
                    "cycle_id": cycle.id,
                    "admin_person_id": admin.id,
                },
            )
    except IntegrityError as exc:  # another run took the slug between check and insert
        if await Tenant.exists(slug=slug):
            raise _taken(slug) from exc
        raise
    return NewCompany(tenant, company, cycle, admin)


def _taken(slug: str) -> DomainError:
    return DomainError.single(ErrorCode.CONFLICT, msg("org.tenant_exists", slug=slug), "slug")


def _operator_scope(tenant: Tenant) -> TenantScope:
    """The tenant as whoever runs the service acts in it: an admin without a person."""
    return TenantScope(tenant, Identity(tenant.id, tenant.slug, Role.ADMIN), Actor(None, None))


# -- list and summarise -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TenantListing:
    slug: str
    name: str
    name_en: str
    stage: str
    people: int
    created_at: datetime


async def list_tenants() -> list[TenantListing]:
    """Every tenant in slug order, with its number of active people (two queries)."""
    tenants = await Tenant.all().order_by("slug")
    with rls.every_tenant():  # the operator's overview of every tenant
        counted = (
            await Person.filter(active=True)
            .annotate(n=Count("id"))
            .group_by("tenant_id")
            .values_list("tenant_id", "n")
        )
    people = {int(tenant_id): int(n) for tenant_id, n in counted}
    return [
        TenantListing(
            t.slug, t.name, t.name_en, t.lifecycle_stage, people.get(t.id, 0), t.created_at
        )
        for t in tenants
    ]


@dataclass(frozen=True, slots=True)
class CycleListing:
    name: str
    kind: str
    starts_on: date
    ends_on: date
    closed: bool


@dataclass(frozen=True, slots=True)
class TenantSummary:
    tenant: Tenant
    counts: dict[str, int]
    packs: dict[str, list[str]]
    cycles: list[CycleListing]


async def find_tenant(slug: str) -> Tenant:
    """The tenant named ``slug``; the running task is bound to it from here on."""
    tenant = await Tenant.get_or_none(slug=slug)
    if tenant is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, msg("tenant.unknown", slug=slug), "slug")
    rls.bind(tenant.id)
    return tenant


async def tenant_summary(slug: str) -> TenantSummary:
    """What a tenant holds: units, people (active and not), goals, values, packs,
    bindings and cycles."""
    tenant = await find_tenant(slug)
    tid = tenant.id
    counts = {
        "org units": await OrgUnit.filter(tenant_id=tid).count(),
        "people (active)": await Person.filter(tenant_id=tid, active=True).count(),
        "people (inactive)": await Person.filter(tenant_id=tid, active=False).count(),
        "objectives": await Objective.filter(tenant_id=tid).count(),
        "key results": await KeyResult.filter(tenant_id=tid).count(),
        "KPIs": await Kpi.filter(tenant_id=tid).count(),
        "measurements": await Measurement.filter(tenant_id=tid).count(),
        "enabled packs": await PackEnablement.filter(tenant_id=tid).count(),
        "data bindings": await DataBinding.filter(tenant_id=tid).count(),
        "cycles": await Cycle.filter(tenant_id=tid).count(),
    }
    packs = {
        row.pack: list(row.stages)
        for row in await PackEnablement.filter(tenant_id=tid).order_by("pack")
    }
    cycles = [
        CycleListing(c.name, c.kind.value, c.starts_on, c.ends_on, c.closed)
        for c in await Cycle.filter(tenant_id=tid).order_by("starts_on", "id")
    ]
    return TenantSummary(tenant, counts, packs, cycles)


# -- delete -----------------------------------------------------------------------------


async def delete_tenant(slug: str) -> dict[str, int]:
    """Every row of the tenant, children before parents, in one transaction; no row of
    another tenant. Returns the rows deleted per table.

    One statement per table, and one more per reference a table has to itself (the org
    tree, alignment, managers), whatever the tenant's size."""
    tenant = await find_tenant(slug)
    deleted: dict[str, int] = {}
    async with in_transaction():
        for model in reversed(owned_models()):
            rows = model.filter(tenant_id=tenant.id)
            # a parent row cannot go while a row of its own table still names it
            # (RESTRICT acts at once, row by row): cut those references first
            for column in self_references(model):
                await rows.filter(**{f"{column}__isnull": False}).update(**{column: None})
            deleted[model._meta.db_table] = await rows.delete()
        deleted["tenant"] = await Tenant.filter(id=tenant.id).delete()
    return deleted
