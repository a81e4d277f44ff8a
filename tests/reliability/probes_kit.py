"""What the fuzzing and the cross-tenant probes share: the kinds of global id, a tenant's
rows as ids, a token per role, and the schema as graphql-core sees it (from its SDL).

The id kinds are every GraphQL type whose id is a global id (``schema/ids.py``), each
with the model its rows live in; a test fails when the schema gains a type with a
global id that is not listed here, so no kind of row escapes the probes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import graphql
from tortoise.models import Model

from goalgraph.core.enums import Role
from goalgraph.core.models import (
    AccessKey,
    Adjustment,
    Alert,
    Cycle,
    DataBinding,
    IdentityProvider,
    KeyResult,
    Kpi,
    Measurement,
    Objective,
    OrgUnit,
    Person,
    Recommendation,
    SyncRun,
)
from goalgraph.core.services import org
from goalgraph.schema.build import build_schema

from ..factories import Company, gid, token

#: Every kind of global id the API hands out, with the model of its rows.
ID_KINDS: dict[str, type[Model]] = {
    "Objective": Objective,
    "KeyResult": KeyResult,
    "Kpi": Kpi,
    "Measurement": Measurement,
    "OrgUnit": OrgUnit,
    "Person": Person,
    "Cycle": Cycle,
    "Alert": Alert,
    "Recommendation": Recommendation,
    "Adjustment": Adjustment,
    "DataBinding": DataBinding,
    "SyncRun": SyncRun,
    "ApiKey": AccessKey,
    "ScimCredential": AccessKey,
    "IdentityProvider": IdentityProvider,
}

#: Types with an ``id`` that names a row of another kind (a deactivated person's open
#: goals carry their objective, key result or KPI ids).
CARRIERS = frozenset({"OpenGoal"})

#: Every role a token can carry (core/roles.toml has a rule per role and root field).
ROLES = tuple(Role)


@lru_cache(maxsize=1)
def sdl_schema() -> graphql.GraphQLSchema:
    """The app's schema as graphql-core parses its SDL (what a client sees)."""
    return graphql.build_schema(build_schema().as_str())


async def ids_of(tenant_id: int, per_kind: int | None = None) -> dict[str, list[str]]:
    """The tenant's rows as global ids, by kind (at most ``per_kind`` of each)."""
    found: dict[str, list[str]] = {}
    for kind, model in ID_KINDS.items():
        rows = model.filter(tenant_id=tenant_id).order_by("id")
        if model is AccessKey:
            rows = rows.filter(kind="scim" if kind == "ScimCredential" else "api")
        if per_kind is not None:
            rows = rows.limit(per_kind)
        found[kind] = [gid(kind, i) for i in await rows.values_list("id", flat=True)]
    return found


@dataclass(frozen=True)
class Caller:
    """One role of a tenant, with the token it calls with."""

    role: Role
    token: str

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def callers(company: Company) -> list[Caller]:
    """A signed-in person of every role in ``company`` (consultant and viewer are
    created here: make_company has none)."""
    people: dict[Role, Any] = {
        Role.ADMIN: company.admin,
        Role.MANAGER: company.manager,
        Role.EMPLOYEE: company.employee,
    }
    for role in ROLES:
        if role not in people:
            people[role] = await org.create_person(
                company.scope,
                name=f"{role.value} 顾问",
                name_en=f"{role.value.title()} of {company.tenant.slug}",
                role=role,
                org_unit_id=company.region.id,
            )
    return [Caller(role, token(company.tenant, role, people[role])) for role in ROLES]


def named_types_with_global_ids(schema: graphql.GraphQLSchema) -> set[str]:
    """Object types with an ``id: ID!`` field: the kinds the API hands out."""
    return {
        t.name
        for t in schema.type_map.values()
        if isinstance(t, graphql.GraphQLObjectType)
        and not t.name.startswith("__")
        and t.name not in CARRIERS
        and isinstance(getattr(t.fields.get("id"), "type", None), graphql.GraphQLNonNull)
        and getattr(t.fields["id"].type.of_type, "name", "") == "ID"
    }
