"""Deny by default: every root field of the schema is checked against the role matrix
(``core/roles.toml``) before its resolver runs.

``guard_root_fields`` wraps the resolver (and, for subscriptions, the event source) of
each Query, Mutation and Subscription field when the schema is built. A caller who is not
signed in gets UNAUTHENTICATED (unless the field is public); a signed-in caller whose
role the matrix does not allow, an API key on a field closed to keys, or any field
without a rule gets FORBIDDEN, and nothing of the field runs. A refused mutation answers
as mutations refuse: its payload, with the FORBIDDEN ``UserError`` and nothing else; a
refused query or subscription field is a GraphQL error with code FORBIDDEN.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
)
from strawberry.types.base import StrawberryObjectDefinition

from ..core.access_keys import ApiKeyScope
from ..core.errors import ErrorCode
from ..core.i18n import msg
from ..core.roles import ROOTS, RoleMatrix, matrix
from .context import Context
from .errors import ApiError, UserError

Refused = Callable[[str], Any]


def refusal(context: Context, roles: RoleMatrix, root: str, field: str) -> str | None:
    """Why the caller may not call ``root.field`` (None: they may); raises
    UNAUTHENTICATED for callers who are not signed in."""
    rule = roles.rule(root, field)
    if rule is not None and rule.public and context.signed_in is None:
        return None
    scope = context.scope  # UNAUTHENTICATED (401) for callers who are not signed in
    key = isinstance(scope, ApiKeyScope)
    if rule is not None and rule.allows(scope.role, api_key=key):
        return None
    role = scope.role.value
    refused = (
        msg("access.key_may_not_use", role=role, field=field)
        if key
        else msg("access.role_may_not_use", role=role, field=field)
    )
    return refused.render()


def _empty(gql_type: GraphQLOutputType) -> Any:
    """The emptiest value a refused payload's field can take."""
    if not isinstance(gql_type, GraphQLNonNull):
        return None
    inner = gql_type.of_type
    if isinstance(inner, GraphQLList):
        return []
    return {"Int": 0, "Float": 0.0, "Boolean": False, "String": ""}.get(getattr(inner, "name", ""))


def _payload_refusal(schema: strawberry.Schema, gql_field: GraphQLField) -> Refused | None:
    """How a mutation's payload says FORBIDDEN: its ``errors`` and nothing else."""
    gql_type = gql_field.type
    if isinstance(gql_type, GraphQLNonNull):
        gql_type = gql_type.of_type
    if not isinstance(gql_type, GraphQLObjectType) or "errors" not in gql_type.fields:
        return None
    definition = schema.get_type_by_name(gql_type.name)
    if not isinstance(definition, StrawberryObjectDefinition):
        return None
    cls = definition.origin
    names = schema.config.name_converter
    empty = {
        f.python_name: _empty(gql_type.fields[names.get_graphql_name(f)].type)
        for f in definition.fields
        if f.base_resolver is None and f.init and f.python_name != "errors"
    }

    def refused(message: str) -> Any:
        values = {k: list(v) if isinstance(v, list) else v for k, v in empty.items()}
        errors = [UserError(field=None, code=ErrorCode.FORBIDDEN, message=message)]
        return cls(**values, errors=errors)

    return refused


def _wrap(
    call: Callable[..., Any],
    roles: RoleMatrix,
    root: str,
    field: str,
    payload: Refused | None = None,
) -> Callable[..., Any]:
    def guarded(source: Any, info: GraphQLResolveInfo, **kwargs: Any) -> Any:
        message = refusal(info.context, roles, root, field)
        if message is None:
            return call(source, info, **kwargs)
        if payload is not None:
            return payload(message)
        raise ApiError(ErrorCode.FORBIDDEN, message)

    return guarded


def guard_root_fields(schema: strawberry.Schema, roles: RoleMatrix | None = None) -> None:
    """Put the matrix in front of every root field of ``schema`` (call it once)."""
    roles = roles or matrix()
    for root in ROOTS:
        gql_type = schema._schema.get_type(root)
        if gql_type is None:
            continue
        fields: dict[str, GraphQLField] = getattr(gql_type, "fields", {})
        for name, gql_field in fields.items():
            if root == "Subscription":
                if gql_field.subscribe is not None:
                    gql_field.subscribe = _wrap(gql_field.subscribe, roles, root, name)
            elif gql_field.resolve is not None:
                payload = _payload_refusal(schema, gql_field) if root == "Mutation" else None
                gql_field.resolve = _wrap(gql_field.resolve, roles, root, name, payload)


def root_fields(schema: strawberry.Schema) -> dict[str, list[str]]:
    """Every root field name of ``schema``, by root type."""
    out: dict[str, list[str]] = {}
    for root in ROOTS:
        gql_type = schema._schema.get_type(root)
        out[root] = sorted(getattr(gql_type, "fields", {})) if gql_type is not None else []
    return out
