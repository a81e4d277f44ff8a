"""Single sign-on configuration and the rules of an OpenID Connect sign-in.

An admin configures one OpenID Connect identity provider per tenant
(``configure_oidc``): the issuer, the client id and secret registered there, which ID
token claim names the person (``email``, or a claim carrying the employee number) and
which person field it is matched against (``email`` or ``code``), and whether people no
one matches are created at their first sign-in (just in time, off by default, with the
org unit and role they get). The client secret is sealed with the secrets key and never
returned, logged or audited; leaving it out of a later change keeps the stored one.

The sign-in itself is run by the outside-system edge (``adapters/oidc_client.py`` and
``adapters/oidc_routes.py``); what it decides comes from here: where a sign-in under way
is kept (``begin_login``, ``take_login``: one row per ``state``, deleted by the one
callback that uses it) and who the verified claims are (``match_person``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from tortoise.transactions import in_transaction

from . import audit, rls
from .access_keys import CredentialScope
from .enums import Role
from .errors import DomainError, ErrorCode, forbidden, not_found
from .identity import Identity
from .models import IdentityProvider, OidcLogin, OrgUnit, Person, Tenant
from .reporting import normalise_email
from .secrets import SecretBox
from .services import people
from .tenancy import Actor, TenantScope
from .validation import Checks

OIDC = "oidc"
#: Person fields a claim may be matched against.
MATCH_FIELDS = frozenset({"email", "code"})
#: How long a sign-in may stay at the identity provider before its state expires.
LOGIN_TTL = timedelta(minutes=10)
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _require_admin(scope: TenantScope) -> None:
    if scope.role is not Role.ADMIN:
        raise forbidden("only admins may configure single sign-on")


def _url_problem(value: str) -> str | None:
    """Why ``value`` is not an https URL (http only for this machine), or None."""
    parts = urlsplit(value)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        return "must be an absolute https URL"
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        return "must use https (http only for 127.0.0.1 or localhost)"
    if parts.query or parts.fragment:
        return "must not carry a query or fragment"
    return None


def _public(provider: IdentityProvider) -> dict[str, Any]:
    """The audited state of a provider: everything but the secret."""
    return {
        "issuer": provider.issuer,
        "client_id": provider.client_id,
        "claim": provider.claim,
        "match_field": provider.match_field,
        "jit": provider.jit,
        "jit_org_unit_id": provider.jit_org_unit_id,
        "jit_role": Role(provider.jit_role).value,
        "return_url": provider.return_url,
        "active": provider.active,
    }


async def configure_oidc(
    scope: TenantScope,
    box: SecretBox,
    *,
    issuer: str,
    client_id: str,
    client_secret: str | None = None,
    claim: str = "email",
    match_field: str = "email",
    jit: bool = False,
    jit_org_unit_id: int | None = None,
    jit_role: Role = Role.EMPLOYEE,
    return_url: str = "",
) -> IdentityProvider:
    """Create or change the tenant's OpenID Connect provider and turn it on (admins).

    ``client_secret`` None keeps the stored secret (required the first time). Audited
    as ``identity_provider.configured`` without the secret, only whether it changed.
    """
    _require_admin(scope)
    issuer = issuer.strip().rstrip("/")
    return_url = return_url.strip()
    existing = await scope.query(IdentityProvider).filter(kind=OIDC).first()
    checks = Checks()
    checks.text("issuer", issuer, 500)
    if issuer and (problem := _url_problem(issuer)):
        checks.add(ErrorCode.INVALID, f"issuer {problem}", "issuer")
    checks.text("clientId", client_id, 255)
    if client_secret is not None:
        checks.text("clientSecret", client_secret, 2000)
    elif existing is None:
        checks.add(ErrorCode.REQUIRED, "clientSecret is required", "clientSecret")
    checks.text("claim", claim, 64)
    if match_field not in MATCH_FIELDS:
        checks.add(ErrorCode.INVALID, "matchField must be email or code", "matchField")
    if return_url and (problem := _url_problem(return_url)):
        checks.add(ErrorCode.INVALID, f"returnUrl {problem}", "returnUrl")
    checks.text("returnUrl", return_url, 500, required=False)
    if Role(jit_role) is Role.ADMIN:
        checks.add(ErrorCode.INVALID, "people created at sign-in cannot be admins", "jitRole")
    if jit and jit_org_unit_id is None:
        checks.add(ErrorCode.REQUIRED, "jitOrgUnitId is required when jit is on", "jitOrgUnitId")
    checks.done()
    if jit_org_unit_id is not None:
        unit = await scope.find(OrgUnit, jit_org_unit_id)
        if unit is None:
            raise not_found("org unit", "jitOrgUnitId")
        if not unit.active:
            raise DomainError.single(ErrorCode.ARCHIVED, "org unit is archived", "jitOrgUnitId")
    values: dict[str, Any] = {
        "issuer": issuer,
        "client_id": client_id.strip(),
        "claim": claim.strip(),
        "match_field": match_field,
        "jit": jit,
        "jit_org_unit_id": jit_org_unit_id,
        "jit_role": Role(jit_role),
        "return_url": return_url,
        "active": True,
    }
    if client_secret is not None:
        values["client_secret"] = box.seal({"client_secret": client_secret})
    async with in_transaction():
        if existing is None:
            provider = await scope.create(IdentityProvider, kind=OIDC, **values)
            before: dict[str, Any] | None = None
            after = _public(provider)
        else:
            old = _public(existing)
            for key, value in values.items():
                setattr(existing, key, value)
            await existing.save()
            provider = existing
            before, after = audit.changes(old, _public(provider))
        after = {**after, "client_secret_changed": client_secret is not None}
        await audit.record(
            scope, "identity_provider.configured", "identity_provider", provider.id, before, after
        )
    return provider


async def identity_provider(scope: TenantScope) -> IdentityProvider | None:
    """The tenant's OpenID Connect provider, on or off, or None (admins)."""
    _require_admin(scope)
    return await scope.query(IdentityProvider).filter(kind=OIDC).first()


async def disable_oidc(scope: TenantScope) -> IdentityProvider:
    """Turn single sign-on off (admins): sign-ins are refused, the settings are kept."""
    _require_admin(scope)
    provider = await scope.query(IdentityProvider).filter(kind=OIDC).first()
    if provider is None:
        raise not_found("identity provider")
    if not provider.active:
        raise DomainError.single(ErrorCode.INVALID, "single sign-on is already off")
    async with in_transaction():
        provider.active = False
        await provider.save(update_fields=["active", "updated_at"])
        await audit.record(
            scope,
            "identity_provider.disabled",
            "identity_provider",
            provider.id,
            {"active": True},
            {"active": False},
        )
    return provider


async def active_provider(slug: str) -> tuple[Tenant, IdentityProvider] | None:
    """The tenant named ``slug`` and its switched-on provider (before any scope exists)."""
    tenant = await Tenant.get_or_none(slug=slug)
    if tenant is None:
        return None
    rls.bind(tenant.id)
    provider = await IdentityProvider.get_or_none(tenant_id=tenant.id, kind=OIDC, active=True)
    if provider is None:
        return None
    return tenant, provider


def client_secret(provider: IdentityProvider, box: SecretBox) -> str:
    """The provider's client secret in clear, for the token request only."""
    return box.open(provider.client_secret)["client_secret"]


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


async def begin_login(
    tenant: Tenant, box: SecretBox, *, state: str, nonce: str, code_verifier: str
) -> None:
    """Keep a sign-in sent to the identity provider (and forget the tenant's expired ones)."""
    now = datetime.now(UTC)
    async with in_transaction():
        await OidcLogin.filter(tenant_id=tenant.id, expires_at__lt=now).delete()
        await OidcLogin.create(
            tenant_id=tenant.id,
            state_hash=_hash(state),
            nonce=nonce,
            code_verifier=box.seal({"code_verifier": code_verifier}),
            expires_at=now + LOGIN_TTL,
        )


@dataclass(frozen=True, slots=True)
class PendingLogin:
    nonce: str
    code_verifier: str


async def take_login(tenant: Tenant, box: SecretBox, state: str) -> PendingLogin | None:
    """The sign-in ``state`` names, removed so it works once; None when unknown, used
    or expired."""
    row = await OidcLogin.get_or_none(tenant_id=tenant.id, state_hash=_hash(state))
    if row is None:
        return None
    # the delete decides: of two callbacks racing with one state, one deletes the row
    deleted = await OidcLogin.filter(id=row.id).delete()
    if not deleted or row.expires_at <= datetime.now(UTC):
        return None
    return PendingLogin(row.nonce, box.open(row.code_verifier)["code_verifier"])


class SignInRefused(Exception):
    """Verified claims that name no one who may sign in; ``reason`` is stable."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


NO_CLAIM = "no_claim"
UNKNOWN_PERSON = "unknown_person"
INACTIVE_PERSON = "inactive_person"


def sso_scope(tenant: Tenant) -> CredentialScope:
    """The scope people created just in time are created in, audited as ``oidc``."""
    base = TenantScope(tenant, Identity(tenant.id, tenant.slug, Role.ADMIN), Actor(None, None))
    return CredentialScope(base, OIDC)


async def match_person(
    tenant: Tenant, provider: IdentityProvider, claims: dict[str, Any]
) -> Person:
    """The active person of ``tenant`` the verified ID token ``claims`` name, created
    just in time when the provider says so; SignInRefused otherwise."""
    raw = claims.get(provider.claim)
    value = str(raw).strip() if isinstance(raw, str | int) else ""
    if not value:
        raise SignInRefused(NO_CLAIM, f"the ID token carries no {provider.claim} claim")
    if provider.match_field == "email":
        value = normalise_email(value)
        if claims.get("email_verified") is False and provider.claim == "email":
            raise SignInRefused(NO_CLAIM, "the identity provider has not verified this email")
    person = await Person.filter(tenant_id=tenant.id, **{provider.match_field: value}).first()
    if person is not None:
        if not person.active:
            raise SignInRefused(INACTIVE_PERSON, "this person is deactivated")
        return person
    if not provider.jit or provider.jit_org_unit_id is None:
        raise SignInRefused(UNKNOWN_PERSON, "no person of this company matches")
    name = str(claims.get("name") or "").strip() or value.split("@")[0]
    email = value if provider.match_field == "email" else str(claims.get("email") or "")
    try:
        return await people.create_person(
            sso_scope(tenant),
            name=name[:200],
            org_unit_id=provider.jit_org_unit_id,
            role=Role(provider.jit_role),
            email=email,
            code=value if provider.match_field == "code" else None,
        )
    except DomainError as exc:
        raise SignInRefused(UNKNOWN_PERSON, f"could not create the person: {exc}") from exc
