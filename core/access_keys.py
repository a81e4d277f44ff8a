"""Credentials systems present instead of a person's token: a tenant's SCIM
provisioning credential (``AccessKey(kind="scim")``) and integration API keys
(``kind="api"``) for the systems and pack adapters that push data through /graphql.

A secret is 32 random bytes, prefixed so a leaked one is recognisable (``gg_scim_`` for
SCIM, ``gg_`` for API keys, the prefix secret scanners look for). It is returned once, by
``create_scim_credential`` or ``create_api_key``, and never stored: the row keeps its
SHA-256 (a lookup by hash is one indexed query; a slow password hash adds nothing to a
256-bit secret) and its first characters (``prefix``), so an admin can tell keys apart.
Nothing here logs or repeats a secret, not even in a refusal.

An API key acts with the role an admin gave it, and no person: rules about a person's
own goals, reports or unit never match it. It may hold any role but admin (a key that
could make keys and assign roles would be an admin nobody answers for). Its use is
recorded as ``last_used_at`` (at most once a minute) and its changes are audited with
the actor role ``api_key:<id>``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from . import audit, rls
from .enums import Role
from .errors import AuthError, DomainError, ErrorCode, forbidden, not_found
from .i18n import msg, noun
from .identity import Identity
from .models import AccessKey, Tenant
from .tenancy import Actor, TenantScope
from .validation import Checks

SCIM = "scim"
API = "api"
SECRET_PREFIX = "gg_scim_"
#: What every API key starts with; ``schema/context.py`` tells a key from a JWT by it.
API_KEY_PREFIX = "gg_"
#: The roles an API key may hold: any but admin.
API_KEY_ROLES = (Role.CONSULTANT, Role.MANAGER, Role.EMPLOYEE, Role.VIEWER)
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
        raise forbidden(msg("access_key.scim_admin_only"))


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
    return await _revoke(scope, key_id, SCIM, "scim_credential", "scim_credential.revoked")


async def _revoke(scope: TenantScope, key_id: int, kind: str, what: str, action: str) -> AccessKey:
    """Revoke a key of ``kind`` (the caller checked the role), audited: the one way both
    SCIM credentials and API keys end."""
    key = await scope.query(AccessKey).filter(id=key_id, kind=kind).first()
    if key is None:
        raise not_found(what, "id")
    if key.revoked_at is not None:
        raise DomainError.single(
            ErrorCode.INVALID, msg("access_key.already_revoked", what=noun(what)), "id"
        )
    now = datetime.now(UTC)
    async with in_transaction():
        key.revoked_at = now
        await key.save(update_fields=["revoked_at", "updated_at"])
        await audit.record(
            scope,
            action,
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
        raise AuthError(msg("auth.not_scim_credential"))
    key = await _by_digest(secret, SCIM)
    if key is None:
        raise AuthError(msg("auth.unknown_scim_credential"))
    return await _live(key, "scim_credential")


async def _by_digest(secret: str, kind: str) -> AccessKey | None:
    """The credential whose digest ``secret`` has, with its tenant, looked up across
    tenants (the secret is all the caller shows); the task is then bound to its tenant."""
    with rls.every_tenant():
        key = (
            await AccessKey.filter(secret_hash=hash_secret(secret), kind=kind)
            .select_related("tenant")
            .first()
        )
    if key is not None:
        rls.bind(key.tenant_id)
    return key


async def _live(key: AccessKey, what: str) -> AccessKey:
    """``key`` unless revoked or expired (AuthError), its use recorded at most once a
    minute."""
    now = datetime.now(UTC)
    if key.revoked_at is not None:
        raise AuthError(msg("auth.key_revoked", what=noun(what)))
    if key.expires_at is not None and key.expires_at <= now:
        raise AuthError(msg("auth.key_expired", what=noun(what)))
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
        key.last_used_at = now
        await AccessKey.filter(id=key.id).update(last_used_at=now)
    return key


# --------------------------------------------------------------------------- API keys


class ApiKeyScope(TenantScope):
    """A tenant scope acting for an API key: the key's role, no person, audited as
    ``api_key:<id>``."""

    def __init__(self, base: TenantScope, key_id: int) -> None:
        super().__init__(base.tenant, base.identity, base.actor, base.policy_source)
        self.key_id = key_id

    @property
    def actor_role(self) -> str:
        return f"api_key:{self.key_id}"


def _require_key_admin(scope: TenantScope) -> None:
    if scope.role is not Role.ADMIN:
        raise forbidden(msg("access_key.api_admin_only"))


async def create_api_key(
    scope: TenantScope, name: str, role: Role | str, expires_at: datetime | None = None
) -> NewCredential:
    """A new API key of the scope's tenant (admins) acting as ``role`` (any but admin)
    until ``expires_at`` (None: until revoked); audited without its secret."""
    _require_key_admin(scope)
    checks = Checks()
    checks.text("name", name, 200)
    wanted: Role | None = None
    try:
        wanted = Role(role)
    except ValueError:
        checks.add(ErrorCode.INVALID, msg("people.unknown_role", role=role), "role")
    if wanted is Role.ADMIN:
        checks.add(
            ErrorCode.INVALID,
            msg("access_key.no_admin", roles=[r.value for r in API_KEY_ROLES]),
            "role",
        )
    if expires_at is not None:
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=UTC)
        if expires_at <= datetime.now(UTC):
            checks.add(ErrorCode.OUT_OF_RANGE, msg("access_key.expiry_past"), "expiresAt")
    checks.done()
    assert wanted is not None
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    async with in_transaction():
        key = await scope.create(
            AccessKey,
            kind=API,
            name=name.strip(),
            prefix=secret[:PREFIX_LENGTH],
            secret_hash=hash_secret(secret),
            role=wanted.value,
            expires_at=expires_at,
            created_by_id=scope.actor.person_id,
        )
        await audit.record(
            scope,
            "api_key.created",
            "access_key",
            key.id,
            None,
            {
                "name": key.name,
                "prefix": key.prefix,
                "kind": API,
                "role": wanted.value,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
    return NewCredential(key, secret)


async def revoke_api_key(scope: TenantScope, key_id: int) -> AccessKey:
    """Revoke an API key (admins): requests with it are refused from now on."""
    _require_key_admin(scope)
    return await _revoke(scope, key_id, API, "api_key", "api_key.revoked")


async def api_keys(scope: TenantScope) -> list[AccessKey]:
    """The tenant's API keys, oldest first, revoked and expired ones included (admins)."""
    _require_key_admin(scope)
    return await scope.query(AccessKey).filter(kind=API).order_by("id")


def is_api_key(token: str) -> bool:
    """Whether a bearer token is meant as an API key (a JWT never starts with ``gg_``)."""
    return token.startswith(API_KEY_PREFIX)


async def verify_api_key(secret: str) -> AccessKey:
    """The live API key ``secret`` is, with its tenant loaded (one query; a second, at
    most once a minute, records its use), or AuthError."""
    if not is_api_key(secret):
        raise AuthError(msg("auth.not_api_key"))
    key = await _by_digest(secret, API)
    if key is None:
        raise AuthError(msg("auth.unknown_api_key"))
    return await _live(key, "api_key")


async def api_key_scope(secret: str) -> ApiKeyScope:
    """The scope a request made with API key ``secret`` runs in, or AuthError."""
    key = await verify_api_key(secret)
    tenant: Tenant = key.tenant
    identity = Identity(tenant.id, tenant.slug, Role(key.role or Role.VIEWER), None, key.expires_at)
    return ApiKeyScope(TenantScope(tenant, identity, Actor(None, None)), key.id)
