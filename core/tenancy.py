"""The one tenant-scoped door to the database.

Every read and write of tenant data goes through a ``TenantScope`` built from the
request's verified identity. It filters every query by the tenant, stamps every new
row with it, and answers another tenant's id exactly as it answers a missing one, so
ids leak nothing across tenants.

Opening or using a scope also binds the running task to its tenant
(``core/rls.bind``), so on PostgreSQL row-level security keeps even a query that went
around the door to this tenant's rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from . import rls
from .enums import Role
from .errors import AuthError, not_found
from .i18n import msg
from .identity import Identity
from .models import DottedLine, OrgUnit, Person, SessionFamily, Tenant, TenantOwned
from .policy import PolicyLookup, PolicySource

M = TypeVar("M", bound=TenantOwned)


def kind_name(model: type[TenantOwned]) -> str:
    """The noun key of a model for ``not_found`` (``OrgUnit`` → ``org_unit``: ``noun.org_unit``)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()


@dataclass(frozen=True, slots=True)
class Actor:
    """The person behind a request, with where they sit in the org tree and who reports
    to them outside it: the people whose explicit solid-line manager they are
    (``Person.manager_id``) and those they are a dotted-line manager of. Loaded once per
    request, so access checks stay synchronous."""

    person: Person | None
    unit_path: str | None
    reports: frozenset[int] = frozenset()

    @property
    def person_id(self) -> int | None:
        return self.person.id if self.person else None


class TenantScope:
    """A tenant's view of the database for one identity."""

    def __init__(
        self,
        tenant: Tenant,
        identity: Identity,
        actor: Actor,
        policy_source: PolicySource | None = None,
    ) -> None:
        rls.bind(tenant.id)
        self.tenant = tenant
        self.identity = identity
        self.actor = actor
        #: Where the tenant's pack scoring policies come from; the app and the CLI
        #: bind it to the enabled packs, so every score written or read uses them.
        self.policy_source = policy_source

    async def scoring_policies(self) -> PolicyLookup | None:
        """The tenant's pack policies (None: core policies only)."""
        return await self.policy_source() if self.policy_source is not None else None

    @property
    def tenant_id(self) -> int:
        return self.tenant.id

    @property
    def role(self) -> Role:
        return self.identity.role

    @property
    def actor_role(self) -> str:
        """What the audit trail names as the actor's role (a credential names its kind)."""
        return self.identity.role.value

    def query(self, model: type[M]) -> QuerySet[M]:
        """All rows of ``model`` in this tenant (a lazy, further filterable queryset)."""
        rls.bind(self.tenant.id)
        return model.filter(tenant_id=self.tenant.id)

    async def find(self, model: type[M], id_: int) -> M | None:
        """The row with ``id_`` in this tenant, or None (also for other tenants' ids)."""
        return await self.query(model).get_or_none(id=id_)

    async def get(self, model: type[M], id_: int, field: str | None = None) -> M:
        """The row with ``id_`` in this tenant, or a NOT_FOUND domain error."""
        row = await self.find(model, id_)
        if row is None:
            raise not_found(kind_name(model), field)
        return row

    async def many(self, model: type[M], ids: Iterable[int]) -> dict[int, M]:
        """Rows by id in one query; ids of other tenants are simply absent."""
        wanted = set(ids)
        if not wanted:
            return {}
        rows = await self.query(model).filter(id__in=wanted)
        return {row.id: row for row in rows}

    async def create(self, model: type[M], **values: Any) -> M:
        """Insert a row stamped with this tenant (the caller cannot choose another)."""
        values.pop("tenant_id", None)
        values.pop("tenant", None)
        rls.bind(self.tenant.id)
        return await model.create(tenant_id=self.tenant.id, **values)

    def build(self, model: type[M], **values: Any) -> M:
        """An unsaved row stamped with this tenant, for bulk inserts."""
        values.pop("tenant_id", None)
        values.pop("tenant", None)
        rls.bind(self.tenant.id)
        return model(tenant_id=self.tenant.id, **values)


async def open_scope(identity: Identity) -> TenantScope:
    """Resolve a verified identity into a scope, or refuse it.

    A token whose tenant or person no longer exists (or whose person belongs to
    another tenant) is refused as unauthenticated: it names no one we know; so is the
    token of a deactivated person, and one of a session that has been revoked (signed
    out, refresh token reused). The role is read from the person's row, so a role change
    applies on the next request; a token without a person keeps its own role. A
    person's explicit and dotted-line reports are loaded with them (one query; admins
    see everything and skip it).
    """
    tenant = await Tenant.get_or_none(id=identity.tenant_id, slug=identity.tenant_slug)
    if tenant is None:
        raise AuthError(msg("auth.unknown_tenant"))
    rls.bind(tenant.id)
    actor = Actor(person=None, unit_path=None)
    if identity.person_id is not None:
        row = await _signed_in_person(tenant, identity)
        if not row.active:
            raise AuthError(msg("auth.deactivated"))
        # the role is the person's as it is now, not as it was when the token was minted
        identity = replace(identity, role=row.role)
        unit: OrgUnit = row.org_unit
        reports = frozenset() if identity.role is Role.ADMIN else await _reports(tenant, row)
        actor = Actor(person=row, unit_path=unit.path, reports=reports)
    return TenantScope(tenant, identity, actor)


async def _signed_in_person(tenant: Tenant, identity: Identity) -> Person:
    """The token's person with their unit, in one statement; for a token of a session
    (claim ``sid``), loaded through the session, which must be live."""
    if identity.session_id is None:
        row = (
            await Person.filter(id=identity.person_id, tenant_id=tenant.id)
            .select_related("org_unit")
            .first()
        )
        if row is None:
            raise AuthError(msg("auth.unknown_person"))
        return row
    family = (
        await SessionFamily.filter(
            sid=identity.session_id, tenant_id=tenant.id, person_id=identity.person_id
        )
        .select_related("person__org_unit")
        .first()
    )
    if family is None:
        raise AuthError(msg("auth.unknown_session"))
    if family.revoked_at is not None:
        raise AuthError(msg("auth.session_ended"))
    person: Person = family.person
    return person


async def _reports(tenant: Tenant, person: Person) -> frozenset[int]:
    """The people reporting to ``person`` outside the org tree, in one statement."""
    dotted = DottedLine.filter(tenant_id=tenant.id, manager_id=person.id).values("person_id")
    ids: list[Any] = await Person.filter(
        Q(manager_id=person.id) | Q(id__in=Subquery(dotted)), tenant_id=tenant.id
    ).values_list("id", flat=True)
    return frozenset(int(i) for i in ids)
