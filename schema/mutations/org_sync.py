"""Mutations on org bindings: keep the tenant's units and people in step with its HR
directory (DingTalk, Feishu/Lark, WeCom, or a pack's source).

An org binding is a data binding of kind ``org``: the same schedule, runs and
``runSync``; its app credentials are given apart from the rest of the configuration
(``secrets``) and sealed like a data binding's.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from ...adapters.bindings import BindingInput, create_binding, update_binding
from ...adapters.org_source import OrgSource
from ...core import models
from ...core.errors import DomainError, ErrorCode, Problem
from ...core.i18n import msg
from ...core.secrets import SecretBox
from ...core.settings import secret_box_key
from ..context import Info
from ..ids import decode
from ..types.sync import DataBinding, binding_view
from .common import guarded
from .sync import DataBindingPayload


@strawberry.input(description="A new org binding: an HR directory to keep people in step with.")
class CreateOrgBindingInput:
    name: str
    adapter: str = strawberry.field(
        description="The org source: dingtalk, feishu, wecom or a pack's (see `orgSources`)."
    )
    config: JSON = strawberry.field(
        description="The source's configuration without credentials (see `orgSources "
        "{ configSchema }`)."
    )
    secrets: JSON | None = strawberry.field(
        default=None,
        description="The app credentials (the source's `secretFields`); sealed, never shown. "
        "`env:NAME` keeps a reference to the server's environment instead.",
    )
    every_minutes: int | None = strawberry.field(
        default=None, description="Sync on this schedule (null: only when asked)."
    )
    active: bool = True


@strawberry.input(description="Changes to an org binding; omitted fields stay.")
class UpdateOrgBindingInput:
    id: relay.GlobalID
    name: str | None = strawberry.UNSET
    config: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="The whole configuration, without credentials."
    )
    secrets: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="Credentials to change; those left out are kept."
    )
    every_minutes: int | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET


def _object(value: Any, field: str) -> dict[str, Any]:
    if value is None or value is strawberry.UNSET:
        return {}
    if not isinstance(value, dict):
        raise DomainError.single(ErrorCode.INVALID, msg("error.not_an_object", field=field), field)
    return value


def _merged(source: type[OrgSource] | None, config: Any, secrets: Any) -> dict[str, Any]:
    """The configuration as a binding keeps it: credentials only under ``secrets``."""
    plain, sealed = _object(config, "config"), _object(secrets, "secrets")
    if source is not None:
        problems = [
            Problem(ErrorCode.INVALID, msg("sync.credential_in_config", key=key), f"config.{key}")
            for key in sorted(source.secret_fields & plain.keys())
        ] + [
            Problem(
                ErrorCode.INVALID,
                msg("sync.not_a_credential", key=key, source=source.name),
                f"secrets.{key}",
            )
            for key in sorted(sealed.keys() - source.secret_fields)
        ]
        if problems:
            raise DomainError(*problems)
    return {**plain, **sealed}


@strawberry.type
class OrgSyncMutations:
    @strawberry.mutation(
        description="Keep units and people in step with an HR directory (admins, consultants)."
    )
    async def create_org_binding(
        self, info: Info, input: CreateOrgBindingInput
    ) -> DataBindingPayload:
        scope = info.context.scope

        async def run() -> DataBinding:
            available = (await info.context.tenant_packs()).org_sources()
            values = BindingInput(
                name=input.name,
                adapter=input.adapter,
                config=_merged(available.get(input.adapter), input.config, input.secrets),
                every_minutes=input.every_minutes,
                active=input.active,
            )
            box = SecretBox(secret_box_key(info.context.settings))
            row = await create_binding(scope, available, box, values, kind="org")
            return binding_view(info, row)

        binding, errors = await guarded(run)
        return DataBindingPayload(data_binding=binding, errors=errors)

    @strawberry.mutation(description="Change an org binding (admins, consultants).")
    async def update_org_binding(
        self, info: Info, input: UpdateOrgBindingInput
    ) -> DataBindingPayload:
        scope = info.context.scope

        async def run() -> DataBinding:
            available = (await info.context.tenant_packs()).org_sources()
            binding_id = decode(input.id, "DataBinding", "id")
            config = None
            if input.config is not strawberry.UNSET or input.secrets is not strawberry.UNSET:
                row = await scope.get(models.DataBinding, binding_id, "id")
                given = row.config if input.config in (None, strawberry.UNSET) else input.config
                config = _merged(available.get(row.adapter), given, input.secrets)
            values = BindingInput(
                name=None if input.name is strawberry.UNSET else input.name,
                config=config,
                every_minutes=None
                if input.every_minutes is strawberry.UNSET
                else input.every_minutes,
                active=None if input.active is strawberry.UNSET else input.active,
            )
            cleared = frozenset({"everyMinutes"} if input.every_minutes is None else set())
            box = SecretBox(secret_box_key(info.context.settings))
            updated = await update_binding(
                scope, available, box, binding_id, values, cleared, kind="org"
            )
            return binding_view(info, updated)

        binding, errors = await guarded(run)
        return DataBindingPayload(data_binding=binding, errors=errors)
