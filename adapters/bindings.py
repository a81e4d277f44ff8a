"""Making and changing data bindings: checked whole, credentials sealed, audited.

A binding's configuration is validated by its adapter's ``Config`` before anything is
stored, and every problem comes back at once with the config key it concerns. The
adapter's credential fields are split off and sealed (``core.secrets``); an update that
leaves them out keeps the stored ones, so a form never has to show a secret to keep it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from tortoise.transactions import in_transaction

from ..core import audit
from ..core.enums import GoalStatus, Role
from ..core.errors import DomainError, ErrorCode, Problem, forbidden, not_found
from ..core.i18n import msg
from ..core.models import DataBinding, Kpi, OrgUnit, SyncJob
from ..core.secrets import SecretBox
from ..core.tenancy import TenantScope
from ..core.validation import Checks
from .contract import DataAdapter
from .org_source import OrgSource

#: What a binding may be made with: a data adapter (``kind="data"``) or an org source
#: (``kind="org"``); both declare a ``Config`` and their ``secret_fields``.
Source = type[DataAdapter] | type[OrgSource]
_CONFIGURERS = {Role.ADMIN, Role.CONSULTANT}
#: Scheduled syncs at most every five minutes, at least once a month.
MIN_EVERY, MAX_EVERY = 5, 31 * 24 * 60


@dataclass(frozen=True, slots=True)
class BindingInput:
    """What a caller gives for a binding (``None``: unchanged, on update)."""

    name: str | None = None
    adapter: str | None = None
    config: Mapping[str, Any] | None = None
    metrics: Mapping[str, str] | None = None
    kpi_id: int | None = None
    org_unit_id: int | None = None
    every_minutes: int | None = None
    active: bool | None = None


def require_configurer(scope: TenantScope) -> None:
    if scope.role not in _CONFIGURERS:
        raise forbidden(msg("sync.admin_only"))


def _split(
    adapter: Source, config: Mapping[str, Any], stored_secrets: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """(plain config, credentials): the adapter's secret fields go to the sealed part;
    credentials not given again are kept."""
    plain = {k: v for k, v in config.items() if k not in adapter.secret_fields}
    secrets = dict(stored_secrets)
    for name in adapter.secret_fields & config.keys():
        value = config[name]
        if value is None or value == "":
            secrets.pop(name, None)
        else:
            secrets[name] = str(value)
    return plain, secrets


def _validate(adapter: Source, plain: dict[str, Any], secrets: dict[str, str]) -> None:
    """The adapter's Config must accept the whole configuration (credentials as given,
    so ``env:`` references pass without the variable being set here)."""
    try:
        adapter.Config.model_validate({**plain, **secrets})
    except ValidationError as exc:
        raise DomainError(
            *(
                Problem(
                    ErrorCode.INVALID,
                    msg(
                        "sync.config_problem",
                        path=".".join(str(p) for p in e["loc"]) or "config",
                        problem=e["msg"],
                    ),
                    "config." + ".".join(str(p) for p in e["loc"]) if e["loc"] else "config",
                )
                for e in exc.errors()
            )
        ) from None


async def _check_targets(scope: TenantScope, kpi_id: int | None, org_unit_id: int | None) -> None:
    if kpi_id is not None:
        kpi = await scope.find(Kpi, kpi_id)
        if kpi is None:
            raise not_found("kpi", "kpiId")
        if kpi.status is GoalStatus.ARCHIVED:
            raise DomainError.single(ErrorCode.ARCHIVED, msg("kpi.archived"), "kpiId")
    if org_unit_id is not None and await scope.find(OrgUnit, org_unit_id) is None:
        raise not_found("org_unit", "orgUnitId")


def _check_fields(values: BindingInput, creating: bool) -> None:
    checks = Checks()
    if creating or values.name is not None:
        checks.text("name", values.name, 200)
    if values.every_minutes is not None and not MIN_EVERY <= values.every_minutes <= MAX_EVERY:
        checks.add(
            ErrorCode.OUT_OF_RANGE,
            msg("sync.every_minutes_range", min=MIN_EVERY, max=MAX_EVERY),
            "everyMinutes",
        )
    for source, target in (values.metrics or {}).items():
        if not str(source).strip() or not str(target).strip():
            checks.add(ErrorCode.INVALID, msg("sync.metric_names_empty"), "metrics")
    checks.done()


def _adapter(available: Mapping[str, Source], name: str) -> Source:
    found = available.get(name)
    if found is None:
        known = ", ".join(sorted(available)) or "none"
        raise DomainError.single(
            ErrorCode.INVALID, msg("sync.unknown_adapter", name=name, known=known), "adapter"
        )
    return found


async def create_binding(
    scope: TenantScope,
    available: Mapping[str, Source],
    box: SecretBox,
    values: BindingInput,
    kind: str = "data",
) -> DataBinding:
    """A new binding with its sync job (due at once when it is scheduled); ``kind`` is
    ``data`` (``available`` holds data adapters) or ``org`` (org sources)."""
    require_configurer(scope)
    _check_fields(values, creating=True)
    if values.adapter is None:
        raise DomainError.single(ErrorCode.REQUIRED, msg("sync.adapter_required"), "adapter")
    adapter = _adapter(available, values.adapter)
    plain, secrets = _split(adapter, values.config or {}, {})
    _validate(adapter, plain, secrets)
    await _check_targets(scope, values.kpi_id, values.org_unit_id)
    name = (values.name or "").strip()
    if await scope.query(DataBinding).filter(name=name).exists():
        raise DomainError.single(ErrorCode.CONFLICT, msg("sync.binding_exists", name=name), "name")
    async with in_transaction():
        binding = await scope.create(
            DataBinding,
            name=name,
            adapter=adapter.name,
            config=plain,
            secrets=box.seal(secrets),
            metrics=dict(values.metrics or {}),
            kpi_id=values.kpi_id,
            org_unit_id=values.org_unit_id,
            every_minutes=values.every_minutes,
            active=True if values.active is None else values.active,
            kind=kind,
        )
        due = datetime.now(UTC) if binding.every_minutes and binding.active else None
        await scope.create(SyncJob, binding_id=binding.id, next_run_at=due)
        await audit.record(
            scope, "binding.created", "data_binding", binding.id, None, _audited(binding)
        )
    return binding


async def update_binding(
    scope: TenantScope,
    available: Mapping[str, Source],
    box: SecretBox,
    binding_id: int,
    values: BindingInput,
    clear: frozenset[str] = frozenset(),
    kind: str = "data",
) -> DataBinding:
    """Change a binding of ``kind``; ``clear`` names nullable fields to empty (``kpiId``, ...)."""
    require_configurer(scope)
    _check_fields(values, creating=False)
    binding = await scope.get(DataBinding, binding_id, "id")
    if binding.kind != kind:
        raise DomainError.single(
            ErrorCode.INVALID, msg("sync.binding_kind", name=binding.name, kind=binding.kind), "id"
        )
    adapter = _adapter(available, values.adapter or binding.adapter)
    kept = box.unseal(binding.secrets)
    stored = kept
    if values.adapter is not None and values.adapter != binding.adapter:
        stored = {}  # another adapter: its credentials are its own
    config = values.config if values.config is not None else binding.config
    plain, secrets = _split(adapter, config, stored)
    _validate(adapter, plain, secrets)
    kpi_id = None if "kpiId" in clear else values.kpi_id or binding.kpi_id
    unit_id = None if "orgUnitId" in clear else values.org_unit_id or binding.org_unit_id
    await _check_targets(scope, values.kpi_id, values.org_unit_id)
    name = (values.name or binding.name).strip()
    if (
        name != binding.name
        and await scope.query(DataBinding).filter(name=name).exclude(id=binding.id).exists()
    ):
        raise DomainError.single(ErrorCode.CONFLICT, msg("sync.binding_exists", name=name), "name")
    before = _audited(binding)
    async with in_transaction():
        binding.name, binding.adapter, binding.config = name, adapter.name, plain
        binding.secrets = box.seal(secrets)
        if values.metrics is not None:
            binding.metrics = dict(values.metrics)
        binding.kpi_id, binding.org_unit_id = kpi_id, unit_id
        if values.every_minutes is not None or "everyMinutes" in clear:
            binding.every_minutes = values.every_minutes
        if values.active is not None:
            binding.active = values.active
        await binding.save()
        due = datetime.now(UTC) if binding.every_minutes and binding.active else None
        await SyncJob.filter(binding_id=binding.id).update(next_run_at=due)
        old, new = audit.changes(before, _audited(binding))
        if new:
            await audit.record(scope, "binding.updated", "data_binding", binding.id, old, new)
        if secrets != kept:  # which credentials changed, never their values
            await audit.record(
                scope,
                "binding.credentials_changed",
                "data_binding",
                binding.id,
                {"fields": sorted(kept)},
                {"fields": sorted(secrets)},
            )
    return binding


def _audited(binding: DataBinding) -> dict[str, Any]:
    """What the trail keeps of a binding: everything but its credentials."""
    return {
        "name": binding.name,
        "kind": binding.kind,
        "adapter": binding.adapter,
        "config": binding.config,
        "metrics": binding.metrics,
        "kpi_id": binding.kpi_id,
        "org_unit_id": binding.org_unit_id,
        "every_minutes": binding.every_minutes,
        "active": binding.active,
    }
