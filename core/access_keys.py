"""Credentials systems present instead of a person's token: a tenant's SCIM
provisioning credential (``AccessKey(kind="scim")``).

A secret is 32 random bytes, prefixed ``gg_scim_`` so a leaked one is recognisable. It
is returned once, by ``create_scim_credential``, and never stored: the row keeps its
SHA-256 (a lookup by hash is one indexed query; a slow password hash adds nothing to a
256-bit secret) and its first characters (``prefix``), so an admin can tell keys apart.
Nothing here logs or repeats a secret, not even in a refusal.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from . import audit
from .enums import Role
from .errors import AuthError, DomainError, ErrorCode, forbidden, not_found
from .identity import Identity
from .models import AccessKey, Tenant
from .tenancy import Actor, TenantScope
from .validation import Checks

SCIM = "scim"
SECRET_PREFIX = "gg_scim_"
PREFIX_LENGTH = 12
#: ``last_used_at`` is written at most this often, so busy provisioning does not turn
#: every request into a write.
TOUCH_EVERY = timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewCredential:
    """A credential just made, with its secret: the only time the secret is known."""

    key: AccessKey
    secret: str


class CredentialScope(TenantScope):
    """A tenant scope acting for a credential: an admin with no person behind it,
    audited as the credential's kind (``scim``)."""

    def __init__(self, base: TenantScope, kind: str) -> None:
        super().__init__(base.tenant, base.identity, base.actor, base.policy_source)
        self.kind = kind

    @property
    def actor_role(self) -> str:
        return self.kind


def credential_scope(tenant: Tenant, base: TenantScope | None = None) -> CredentialScope:
    """The scope SCIM requests of ``tenant`` run in (``base``: one with the tenant's
    pack policies bound, when the caller has it)."""
    if base is None:
        base = TenantScope(tenant, Identity(tenant.id, tenant.slug, Role.ADMIN), Actor(None, None))
    return CredentialScope(base, SCIM)


def _require_admin(scope: TenantScope) -> None:
    if scope.role is not Role.ADMIN:
        raise forbidden("only admins may manage SCIM credentials")


async def create_scim_credential(scope: TenantScope, name: str) -> NewCredential:
    """A new SCIM credential of the scope's tenant (admins); audited without its secret."""
    _require_admin(scope)
    checks = Checks()
    checks.text("name", name, 200)
    checks.done()
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    async with in_transaction():
        key = await scope.create(
            AccessKey,
            kind=SCIM,
            name=name.strip(),
            prefix=secret[:PREFIX_LENGTH],
            secret_hash=hash_secret(secret),
            created_by_id=scope.actor.person_id,
        )
        await audit.record(
            scope,
            "scim_credential.created",
            "access_key",
            key.id,
            None,
            {"name": key.name, "prefix": key.prefix, "kind": SCIM},
        )
    return NewCredential(key, secret)


async def revoke_scim_credential(scope: TenantScope, key_id: int) -> AccessKey:
    """Revoke a credential (admins): requests with it are refused from now on."""
    _require_admin(scope)
    key = await scope.query(AccessKey).filter(id=key_id, kind=SCIM).first()
    if key is None:
        raise not_found("SCIM credential", "id")
    if key.revoked_at is not None:
        raise DomainError.single(ErrorCode.INVALID, "credential is already revoked", "id")
    now = datetime.now(UTC)
    async with in_transaction():
        key.revoked_at = now
        await key.save(update_fields=["revoked_at", "updated_at"])
        await audit.record(
            scope,
            "scim_credential.revoked",
            "access_key",
            key.id,
            {"revoked_at": None},
            {"revoked_at": now.isoformat()},
        )
    return key


async def scim_credentials(scope: TenantScope) -> list[AccessKey]:
    """The tenant's SCIM credentials, oldest first, revoked ones included (admins)."""
    _require_admin(scope)
    return await scope.query(AccessKey).filter(kind=SCIM).order_by("id")


async def verify_scim_credential(secret: str) -> AccessKey:
    """The live SCIM credential ``secret`` is, with its tenant loaded (one query; a
    second, at most once a minute, records its use), or AuthError."""
    if not secret.startswith(SECRET_PREFIX):
        raise AuthError("not a SCIM credential")
    key = (
        await AccessKey.filter(secret_hash=hash_secret(secret), kind=SCIM)
        .select_related("tenant")
        .first()
    )
    if key is None:
        raise AuthError("unknown SCIM credential")
    now = datetime.now(UTC)
    if key.revoked_at is not None:
        raise AuthError("this SCIM credential has been revoked")
    if key.expires_at is not None and key.expires_at <= now:
        raise AuthError("this SCIM credential has expired")
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
        key.last_used_at = now
        await AccessKey.filter(id=key.id).update(last_used_at=now)
    return key
