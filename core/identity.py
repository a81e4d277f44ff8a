"""Who is calling: signed access tokens (JWT, HS256) and the identity they carry.

A token names the tenant (by id and slug), optionally the person, and the role.
The tenant inside the token is the only source of tenancy for a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from .enums import Role
from .errors import AuthError
from .i18n import LOCALES, msg

ALGORITHM = "HS256"
ISSUER = "goalgraph"


@dataclass(frozen=True, slots=True)
class Identity:
    """The verified claims of a request's token."""

    tenant_id: int
    tenant_slug: str
    role: Role
    person_id: int | None = None
    expires_at: datetime | None = None
    #: The session family of a signed-in token (claim ``sid``, core/sessions.py); none
    #: for tokens minted by ``goalgraph token``.
    session_id: str | None = None
    #: The language the caller reads (claim ``locale``, one of ``core.i18n.LOCALES``):
    #: beats the person's setting and ``Accept-Language``.
    locale: str | None = None


def mint_token(identity: Identity, secret: str, ttl: timedelta) -> str:
    """Sign a token for ``identity`` that expires after ``ttl``."""
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": ISSUER,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "tid": identity.tenant_id,
        "tenant": identity.tenant_slug,
        "role": identity.role.value,
    }
    if identity.person_id is not None:
        claims["sub"] = str(identity.person_id)
    if identity.session_id is not None:
        claims["sid"] = identity.session_id
    if identity.locale is not None:
        claims["locale"] = identity.locale
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, secret: str) -> Identity:
    """Verify ``token`` and return its identity, or raise ``AuthError`` saying why."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "tid", "tenant", "role"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthError(msg("auth.token_expired")) from exc
    except jwt.InvalidTokenError as exc:
        raise AuthError(msg("auth.token_invalid", reason=str(exc))) from exc
    try:
        role = Role(claims["role"])
        person = claims.get("sub")
        sid = claims.get("sid")
        locale = claims.get("locale")
        return Identity(
            tenant_id=int(claims["tid"]),
            tenant_slug=str(claims["tenant"]),
            role=role,
            person_id=int(person) if person is not None else None,
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            session_id=str(sid) if sid is not None else None,
            # a locale we do not speak is ignored, not refused: the token is still good
            locale=locale if locale in LOCALES else None,
        )
    except (ValueError, TypeError) as exc:
        raise AuthError(msg("auth.token_claims_invalid", reason=str(exc))) from exc


def bearer_token(authorization: str | None) -> str:
    """Extract the token from an ``Authorization: Bearer <token>`` header value."""
    if not authorization:
        raise AuthError(msg("auth.missing_header"))
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError(msg("auth.malformed_header"))
    return token.strip()
