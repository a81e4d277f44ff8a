"""Signed-in sessions: a short-lived access token and a rotating refresh token per
sign-in, whatever the way in (a local password, single sign-on).

A sign-in starts a *family* (``SessionFamily``): its ``sid`` is a claim of every access
token minted for it, so revoking the family stops those access tokens on their next
request, not at their expiry (``core.tenancy.open_scope`` checks it). The refresh token
is opaque (``ggr_`` + 32 random bytes), stored as its SHA-256 only, and each use rotates
it: the old one is marked rotated and a new one issued in the same family. A rotated
token presented again means it was copied, so the whole family is revoked (reuse
detection) and both the thief and the person must sign in again. A family lives at
most ``refresh_token_days`` from its sign-in, however often it is refreshed.

Nothing here logs or repeats a token, not even in a refusal.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from . import audit, rls
from .errors import DomainError, ErrorCode
from .i18n import Msg, msg
from .identity import Identity, mint_token
from .models import Person, RefreshToken, SessionFamily, Tenant
from .settings import Settings
from .tenancy import Actor, TenantScope

REFRESH_PREFIX = "ggr_"
#: Reasons a family ends, as ``SessionFamily.revoked_reason`` says them.
SIGNED_OUT = "signed_out"
REUSE = "reuse"
PASSWORD_RESET = "password_reset"
INACTIVE = "deactivated"


@dataclass(frozen=True)
class SessionTokens:
    """What a sign-in or a refresh hands the client (the only time they are known)."""

    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def person_scope(tenant: Tenant, person: Person, session_id: str | None = None) -> TenantScope:
    """A scope acting as ``person`` with their current role (for auditing sign-ins,
    which happen before any token exists)."""
    identity = Identity(tenant.id, tenant.slug, person.role, person.id, session_id=session_id)
    return TenantScope(tenant, identity, Actor(person, None))


def _refused(message: Msg | None = None) -> DomainError:
    return DomainError.single(
        ErrorCode.UNAUTHENTICATED, message or msg("auth.session_ended"), "refreshToken"
    )


async def _issue(
    tenant: Tenant, person: Person, family: SessionFamily, settings: Settings, now: datetime
) -> SessionTokens:
    """A new access token and refresh token of ``family`` (the caller's transaction)."""
    refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
    await RefreshToken.create(
        tenant_id=tenant.id,
        family_id=family.id,
        token_hash=hash_token(refresh),
        expires_at=family.expires_at,
    )
    ttl = timedelta(minutes=settings.access_token_minutes)
    identity = Identity(tenant.id, tenant.slug, person.role, person.id, session_id=family.sid)
    access = mint_token(identity, settings.secret, ttl)
    # the access token's own exp is whole seconds; say the same here
    access_expires = datetime.fromtimestamp(int((now + ttl).timestamp()), UTC)
    return SessionTokens(access, refresh, min(access_expires, family.expires_at), family.expires_at)


async def start_session(
    tenant: Tenant, person: Person, settings: Settings, *, method: str
) -> SessionTokens:
    """Start a session for ``person``, who has just proven who they are by ``method``
    (``password``, ``oidc``, ``feishu`` and so on); audited as ``session.started``.

    The caller has checked the person belongs to ``tenant``; an inactive person is
    refused here all the same."""
    if person.tenant_id != tenant.id:
        raise ValueError("person is not of this tenant")
    if not person.active:
        raise DomainError.single(ErrorCode.INACTIVE, msg("auth.deactivated"))
    now = datetime.now(UTC)
    async with in_transaction():
        family = await SessionFamily.create(
            tenant_id=tenant.id,
            sid=uuid.uuid4().hex,
            person_id=person.id,
            method=method[:16],
            expires_at=now + timedelta(days=settings.refresh_token_days),
        )
        tokens = await _issue(tenant, person, family, settings, now)
        await audit.record(
            person_scope(tenant, person, family.sid),
            "session.started",
            "session",
            family.id,
            None,
            {"method": family.method, "expires_at": family.expires_at.isoformat()},
        )
    return tokens


async def refresh_session(refresh_token: str, settings: Settings) -> SessionTokens:
    """New tokens for a refresh token, which is rotated (used once). A token already
    rotated revokes its whole family; an unknown, expired or revoked one, or one of a
    deactivated person, is refused (``UNAUTHENTICATED``)."""
    if not refresh_token.startswith(REFRESH_PREFIX):
        raise _refused(msg("auth.not_refresh_token"))
    with rls.every_tenant():  # the token is all the caller shows
        row = (
            await RefreshToken.filter(token_hash=hash_token(refresh_token))
            .select_related("family__person", "tenant")
            .first()
        )
    if row is None:
        raise _refused(msg("auth.unknown_refresh_token"))
    rls.bind(row.tenant_id)
    family: SessionFamily = row.family
    person: Person = family.person
    tenant: Tenant = row.tenant
    now = datetime.now(UTC)
    if family.revoked_at is not None:
        raise _refused()
    if row.rotated_at is not None:
        await _revoke(tenant, person, family, REUSE, now)
        raise _refused(msg("auth.refresh_reused"))
    if row.expires_at <= now or family.expires_at <= now:
        raise _refused()
    if not person.active:
        await _revoke(tenant, person, family, INACTIVE, now)
        raise _refused(msg("auth.deactivated"))
    async with in_transaction():
        # only one of two concurrent refreshes with the same token wins; the other is reuse
        claimed = await RefreshToken.filter(id=row.id, rotated_at__isnull=True).update(
            rotated_at=now
        )
        tokens = await _issue(tenant, person, family, settings, now) if claimed else None
    if tokens is None:
        await _revoke(tenant, person, family, REUSE, now)
        raise _refused(msg("auth.refresh_reused"))
    return tokens


async def _revoke(
    tenant: Tenant, person: Person, family: SessionFamily, reason: str, now: datetime
) -> None:
    async with in_transaction():
        changed = await SessionFamily.filter(id=family.id, revoked_at__isnull=True).update(
            revoked_at=now, revoked_reason=reason, updated_at=now
        )
        if changed:
            await audit.record(
                person_scope(tenant, person, family.sid),
                "session.revoked",
                "session",
                family.id,
                {"revoked_at": None},
                {"revoked_at": now.isoformat(), "reason": reason},
            )


async def end_session(scope: TenantScope) -> None:
    """Sign out: revoke the family of the scope's token, so its refresh tokens are
    refused and its access tokens stop on their next request. A token that belongs
    to no session (``goalgraph token``) has nothing to end."""
    sid = scope.identity.session_id
    person = scope.actor.person
    if sid is None or person is None:
        raise DomainError.single(ErrorCode.INVALID, msg("auth.no_session"))
    family = await scope.query(SessionFamily).filter(sid=sid, person_id=person.id).first()
    if family is None:
        raise DomainError.single(ErrorCode.INVALID, msg("auth.no_session"))
    await _revoke(scope.tenant, person, family, SIGNED_OUT, datetime.now(UTC))


async def end_person_sessions(scope: TenantScope, person_id: int, reason: str) -> int:
    """Revoke every live session of a person (a password reset); the caller's
    transaction. Returns how many were live."""
    now = datetime.now(UTC)
    return await (
        scope.query(SessionFamily)
        .filter(person_id=person_id, revoked_at__isnull=True)
        .update(revoked_at=now, revoked_reason=reason, updated_at=now)
    )
