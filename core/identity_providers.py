"""Single sign-on configuration and the rules of a sign-in, whatever the provider.

An admin configures at most one identity provider of each kind per tenant: OpenID
Connect (``configure_oidc``: the issuer), Feishu/Lark (``configure_feishu``: the
company's tenant_key and base domain), DingTalk (``configure_dingtalk``: the corpId) or
WeCom (``configure_wecom``: the corp id and the app's agentid). Each has the app id and
secret registered there, which claim or provider field names the person and which
person field it is matched against (``email``, ``code`` or ``external_id``, the id a
directory sync stores), and whether people no one matches are created at their first
sign-in (just in time, off by default, with the org unit and role they get). The secret
is sealed with the secrets key and never returned, logged or audited; leaving it out of
a later change keeps the stored one.

The sign-in itself is run by the outside-system edge (``adapters/oidc_client.py``,
``adapters/signin/`` and ``adapters/oidc_routes.py``); what it decides comes from here:
where a sign-in under way is kept (``begin_login``, ``take_login``: one row per
``state``, deleted by the one callback of its kind that uses it) and who the identity
the provider vouches for is (``match_person``: the company first, then the person).
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
from .i18n import Msg, msg
from .identity import Identity
from .models import IdentityProvider, OidcLogin, OrgUnit, Person, Tenant
from .reporting import normalise_email
from .secrets import SecretBox
from .services import people
from .tenancy import Actor, TenantScope
from .validation import Checks

OIDC = "oidc"
FEISHU = "feishu"
DINGTALK = "dingtalk"
WECOM = "wecom"
KINDS = (OIDC, FEISHU, DINGTALK, WECOM)
#: Person fields a claim may be matched against.
MATCH_FIELDS = frozenset({"email", "code", "external_id"})
#: The identity fields each provider's adapter returns, which ``claim`` may name.
VENDOR_CLAIMS: dict[str, frozenset[str]] = {
    FEISHU: frozenset(
        {"open_id", "union_id", "user_id", "email", "enterprise_email", "employee_no"}
    ),
    DINGTALK: frozenset({"userid", "unionId", "openId", "email"}),
    WECOM: frozenset({"userid"}),
}
#: Feishu's base domain, and Lark's.
FEISHU_DOMAINS = frozenset({"feishu.cn", "larksuite.com"})
#: How long a sign-in may stay at the identity provider before its state expires.
LOGIN_TTL = timedelta(minutes=10)
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _require_admin(scope: TenantScope) -> None:
    if scope.role is not Role.ADMIN:
        raise forbidden(msg("sso.admin_only"))


def _url_problem(value: str) -> Msg | None:
    """Why ``value`` is not an https URL (http only for this machine), or None."""
    parts = urlsplit(value)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        return msg("sso.url_absolute")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        return msg("sso.url_https")
    if parts.query or parts.fragment:
        return msg("sso.url_query")
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
        "corp_id": provider.corp_id,
        "agent_id": provider.agent_id,
        "domain": provider.domain,
        "base_url": provider.base_url,
        "active": provider.active,
    }


@dataclass(frozen=True, slots=True)
class Common:
    """What every kind of provider is configured with."""

    client_id: str
    client_secret: str | None
    claim: str
    match_field: str
    jit: bool = False
    jit_org_unit_id: int | None = None
    jit_role: Role = Role.EMPLOYEE
    return_url: str = ""
    #: The API's name of ``client_id`` in problems (WeCom calls it corpId).
    id_field: str = "clientId"


def _check_common(checks: Checks, kind: str, common: Common, existing: bool) -> None:
    """The problems of the settings every kind shares (field names as in the API)."""
    checks.text(common.id_field, common.client_id, 255)
    if common.client_secret is not None:
        checks.text("clientSecret", common.client_secret, 2000)
    elif not existing:
        checks.add(ErrorCode.REQUIRED, msg("error.required", field="clientSecret"), "clientSecret")
    checks.text("claim", common.claim, 64)
    allowed = VENDOR_CLAIMS.get(kind)
    if allowed is not None and common.claim not in allowed:
        names = ", ".join(sorted(allowed))
        checks.add(ErrorCode.INVALID, msg("sso.claim_one_of", names=names), "claim")
    if common.match_field not in MATCH_FIELDS:
        checks.add(ErrorCode.INVALID, msg("sso.match_field"), "matchField")
    _check_url(checks, "returnUrl", common.return_url)
    if Role(common.jit_role) is Role.ADMIN:
        checks.add(ErrorCode.INVALID, msg("sso.jit_no_admin"), "jitRole")
    if common.jit and common.jit_org_unit_id is None:
        checks.add(ErrorCode.REQUIRED, msg("sso.jit_unit_required"), "jitOrgUnitId")


def _check_url(checks: Checks, field: str, value: str, *, required: bool = False) -> None:
    checks.text(field, value, 500, required=required)
    if value and (problem := _url_problem(value)):
        checks.add(ErrorCode.INVALID, msg("sso.url_problem", field=field, problem=problem), field)


async def _check_jit_unit(scope: TenantScope, unit_id: int | None) -> None:
    if unit_id is None:
        return
    unit = await scope.find(OrgUnit, unit_id)
    if unit is None:
        raise not_found("org_unit", "jitOrgUnitId")
    if not unit.active:
        raise DomainError.single(ErrorCode.ARCHIVED, msg("org.archived"), "jitOrgUnitId")


async def _configure(
    scope: TenantScope,
    box: SecretBox,
    kind: str,
    common: Common,
    specific: dict[str, Any],
    checks: Checks,
) -> IdentityProvider:
    """Validate, then create or change the tenant's provider of ``kind`` and turn it on.

    ``checks`` carries the kind's own problems already; audited as
    ``identity_provider.configured`` without the secret, only whether it changed."""
    existing = await scope.query(IdentityProvider).filter(kind=kind).first()
    _check_common(checks, kind, common, existing is not None)
    checks.done()
    await _check_jit_unit(scope, common.jit_org_unit_id)
    values: dict[str, Any] = {
        "client_id": common.client_id.strip(),
        "claim": common.claim.strip(),
        "match_field": common.match_field,
        "jit": common.jit,
        "jit_org_unit_id": common.jit_org_unit_id,
        "jit_role": Role(common.jit_role),
        "return_url": common.return_url,
        "active": True,
        **specific,
    }
    if common.client_secret is not None:
        values["client_secret"] = box.seal({"client_secret": common.client_secret})
    return await _store(scope, kind, existing, values, common.client_secret is not None)


async def _store(
    scope: TenantScope,
    kind: str,
    existing: IdentityProvider | None,
    values: dict[str, Any],
    secret_changed: bool,
) -> IdentityProvider:
    async with in_transaction():
        if existing is None:
            provider = await scope.create(IdentityProvider, kind=kind, **values)
            before: dict[str, Any] | None = None
            after = _public(provider)
        else:
            old = _public(existing)
            for key, value in values.items():
                setattr(existing, key, value)
            await existing.save()
            provider = existing
            before, after = audit.changes(old, _public(provider))
        after = {**after, "kind": kind, "client_secret_changed": secret_changed}
        await audit.record(
            scope, "identity_provider.configured", "identity_provider", provider.id, before, after
        )
    return provider


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

    ``client_secret`` None keeps the stored secret (required the first time)."""
    _require_admin(scope)
    issuer = issuer.strip().rstrip("/")
    checks = Checks()
    _check_url(checks, "issuer", issuer, required=True)
    common = Common(
        client_id,
        client_secret,
        claim,
        match_field,
        jit,
        jit_org_unit_id,
        jit_role,
        return_url.strip(),
    )
    return await _configure(scope, box, OIDC, common, {"issuer": issuer}, checks)


def _vendor_values(checks: Checks, base_url: str, **ids: tuple[str, str, int]) -> dict[str, Any]:
    """The kind's own settings: ``ids`` maps a column to (API field, value, max length),
    each required; ``base_url`` is optional."""
    values: dict[str, Any] = {"issuer": "", "base_url": base_url.strip().rstrip("/")}
    _check_url(checks, "baseUrl", values["base_url"])
    for column, (field, value, max_length) in ids.items():
        checks.text(field, value, max_length)
        values[column] = value.strip()
    return values


async def configure_feishu(
    scope: TenantScope,
    box: SecretBox,
    common: Common,
    *,
    tenant_key: str,
    domain: str = "feishu.cn",
    base_url: str = "",
) -> IdentityProvider:
    """Sign-in with Feishu, or Lark with ``domain`` larksuite.com (admins): ``common``
    names the app (App ID and App Secret); only people of the company ``tenant_key``
    names may sign in."""
    _require_admin(scope)
    checks = Checks()
    values = _vendor_values(checks, base_url, corp_id=("tenantKey", tenant_key, 128))
    if domain not in FEISHU_DOMAINS:
        checks.add(ErrorCode.INVALID, msg("sso.lark_domain"), "domain")
    values |= {"domain": domain, "agent_id": ""}
    return await _configure(scope, box, FEISHU, common, values, checks)


async def configure_dingtalk(
    scope: TenantScope, box: SecretBox, common: Common, *, corp_id: str, base_url: str = ""
) -> IdentityProvider:
    """Sign-in with DingTalk (admins): ``common`` names the app (Client ID and Client
    Secret, formerly AppKey and AppSecret); only people of ``corp_id`` may sign in."""
    _require_admin(scope)
    checks = Checks()
    values = _vendor_values(checks, base_url, corp_id=("corpId", corp_id, 128))
    values |= {"domain": "", "agent_id": ""}
    return await _configure(scope, box, DINGTALK, common, values, checks)


async def configure_wecom(
    scope: TenantScope,
    box: SecretBox,
    common: Common,
    *,
    agent_id: str,
    base_url: str = "",
) -> IdentityProvider:
    """Sign-in with WeCom (admins): ``common.client_id`` is the corp id (WeCom's appid),
    ``common.client_secret`` the secret of the app ``agent_id``; only members of that
    corporation may sign in."""
    _require_admin(scope)
    checks = Checks()
    values = _vendor_values(checks, base_url, agent_id=("agentId", agent_id, 32))
    values |= {"domain": "", "corp_id": common.client_id.strip()}
    return await _configure(scope, box, WECOM, common, values, checks)


async def identity_provider(scope: TenantScope, kind: str = OIDC) -> IdentityProvider | None:
    """The tenant's provider of ``kind``, on or off, or None (admins)."""
    _require_admin(scope)
    return await scope.query(IdentityProvider).filter(kind=kind).first()


async def identity_providers(scope: TenantScope) -> list[IdentityProvider]:
    """Every provider of the tenant, on or off, in the order of ``KINDS`` (admins)."""
    _require_admin(scope)
    rows = await scope.query(IdentityProvider).all()
    return sorted(rows, key=lambda row: KINDS.index(row.kind) if row.kind in KINDS else 99)


async def disable_oidc(scope: TenantScope) -> IdentityProvider:
    """Turn OpenID Connect sign-in off (admins): sign-ins are refused, the settings kept."""
    return await disable_provider(scope, OIDC)


async def disable_provider(scope: TenantScope, kind: str) -> IdentityProvider:
    """Turn sign-in through the provider of ``kind`` off (admins); its settings are kept."""
    _require_admin(scope)
    provider = await scope.query(IdentityProvider).filter(kind=kind).first()
    if provider is None:
        raise not_found("identity_provider")
    if not provider.active:
        raise DomainError.single(ErrorCode.INVALID, msg("sso.already_off"))
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


async def active_provider(slug: str, kind: str = OIDC) -> tuple[Tenant, IdentityProvider] | None:
    """The tenant named ``slug`` and its switched-on provider of ``kind`` (before any
    scope exists)."""
    tenant = await Tenant.get_or_none(slug=slug)
    if tenant is None:
        return None
    rls.bind(tenant.id)
    provider = await IdentityProvider.get_or_none(tenant_id=tenant.id, kind=kind, active=True)
    if provider is None:
        return None
    return tenant, provider


def client_secret(provider: IdentityProvider, box: SecretBox) -> str:
    """The provider's client secret in clear, for the token request only."""
    return box.open(provider.client_secret)["client_secret"]


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


async def begin_login(
    tenant: Tenant,
    box: SecretBox,
    *,
    state: str,
    nonce: str,
    code_verifier: str,
    kind: str = OIDC,
) -> None:
    """Keep a sign-in sent to the identity provider of ``kind`` (and forget the tenant's
    expired ones)."""
    now = datetime.now(UTC)
    async with in_transaction():
        await OidcLogin.filter(tenant_id=tenant.id, expires_at__lt=now).delete()
        await OidcLogin.create(
            tenant_id=tenant.id,
            kind=kind,
            state_hash=_hash(state),
            nonce=nonce,
            code_verifier=box.seal({"code_verifier": code_verifier}),
            expires_at=now + LOGIN_TTL,
        )


@dataclass(frozen=True, slots=True)
class PendingLogin:
    nonce: str
    code_verifier: str


async def take_login(
    tenant: Tenant, box: SecretBox, state: str, kind: str = OIDC
) -> PendingLogin | None:
    """The sign-in ``state`` names, removed so it works once; None when unknown, used,
    expired or sent to another kind of provider."""
    row = await OidcLogin.get_or_none(tenant_id=tenant.id, kind=kind, state_hash=_hash(state))
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
OTHER_COMPANY = "other_company"


@dataclass(frozen=True, slots=True)
class ProviderIdentity:
    """Who the provider vouches for: the claims or fields ``claim`` may name (``name``
    the display name), and the company they belong to at the provider (a Feishu
    tenant_key, a DingTalk or WeCom corp id; blank for OpenID Connect, whose issuer
    is the company's own)."""

    claims: dict[str, Any]
    company: str = ""


def sso_scope(tenant: Tenant, kind: str = OIDC) -> CredentialScope:
    """The scope people created just in time are created in, audited as ``kind``."""
    base = TenantScope(tenant, Identity(tenant.id, tenant.slug, Role.ADMIN), Actor(None, None))
    return CredentialScope(base, kind)


def _check_company(provider: IdentityProvider, identity: ProviderIdentity) -> None:
    """A Feishu, DingTalk or WeCom account must be one of the configured company: the
    same app can be installed by other companies, and only the provider's answer, not a
    signature, says which one a person is from."""
    if provider.kind != OIDC and identity.company != provider.corp_id:
        raise SignInRefused(OTHER_COMPANY, "the account belongs to another company")


def _claim_value(provider: IdentityProvider, claims: dict[str, Any]) -> str:
    raw = claims.get(provider.claim)
    value = str(raw).strip() if isinstance(raw, str | int) else ""
    if not value:
        raise SignInRefused(NO_CLAIM, f"the identity carries no {provider.claim}")
    if provider.match_field != "email":
        return value
    if claims.get("email_verified") is False and provider.claim == "email":
        raise SignInRefused(NO_CLAIM, "the identity provider has not verified this email")
    return normalise_email(value)


async def match_person(
    tenant: Tenant, provider: IdentityProvider, identity: ProviderIdentity
) -> Person:
    """The active person of ``tenant`` the provider's verified ``identity`` names,
    created just in time when the provider says so; SignInRefused otherwise."""
    _check_company(provider, identity)
    value = _claim_value(provider, identity.claims)
    person = await Person.filter(tenant_id=tenant.id, **{provider.match_field: value}).first()
    if person is not None:
        if not person.active:
            raise SignInRefused(INACTIVE_PERSON, "this person is deactivated")
        return person
    if not provider.jit or provider.jit_org_unit_id is None:
        raise SignInRefused(UNKNOWN_PERSON, "no person of this company matches")
    return await _create_just_in_time(
        tenant, provider, identity.claims, value, provider.jit_org_unit_id
    )


async def _create_just_in_time(
    tenant: Tenant, provider: IdentityProvider, claims: dict[str, Any], value: str, unit_id: int
) -> Person:
    field = provider.match_field
    name = str(claims.get("name") or "").strip() or value.split("@")[0]
    email = value if field == "email" else str(claims.get("email") or "")
    try:
        return await people.create_person(
            sso_scope(tenant, provider.kind),
            name=name[:200],
            org_unit_id=unit_id,
            role=Role(provider.jit_role),
            email=email,
            code=value if field == "code" else None,
            external_id=value if field == "external_id" else None,
        )
    except DomainError as exc:
        raise SignInRefused(UNKNOWN_PERSON, f"could not create the person: {exc}") from exc
