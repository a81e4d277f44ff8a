"""Local accounts: people of a company without an identity provider sign in with an
email and a password of their own.

An admin invites a person (an active person with an email): the invitation is a link,
``{public_url}/auth/{tenant}/invite/{secret}``, shown once to the admin, single use, valid
for 7 days. Following it, the person sets their password; then they sign in by tenant,
email and password. A forgotten password is replaced through a reset link only an admin
issues (single use, valid for 1 hour), which also ends every session of the person.

Passwords follow NIST SP 800-63B-4 for a password used alone: at least 15 characters
(what 800-63B-4 requires of a single-factor password; 8 is its floor only where a second
factor is used, which local accounts do not have), at most 128, any characters (NFKC
normalised, spaces kept), no composition rules, and refused when it is one of the most
common passwords, one character repeated, or contains the person's email, name or the
company's slug. They are stored as argon2id hashes (argon2-cffi's defaults, RFC 9106's
low-memory profile) and rehashed at sign-in when those parameters change.

Repeated failures lock the account (5 failures within 15 minutes lock it for 15 minutes)
and throttle the client address (30 failures within 15 minutes refuse every sign-in into
that company from that address until the window ends). A refused sign-in says the same
whether or not the email has an account, and costs the same (a dummy hash is verified
when there is no account).

Nothing here logs or repeats a password or a link secret; links keep only the SHA-256
of their secret.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from . import audit, rls
from .enums import Role
from .errors import DomainError, ErrorCode, Problem, forbidden
from .i18n import msg
from .models import Account, AccountLink, Person, SignInThrottle, Tenant
from .reporting import normalise_email
from .sessions import PASSWORD_RESET as RESET_REASON
from .sessions import SessionTokens, end_person_sessions, person_scope, start_session
from .settings import Settings
from .tenancy import TenantScope

INVITATION = "invitation"
PASSWORD_RESET = "password_reset"
#: The path segment of each kind of link.
LINK_PATHS = {INVITATION: "invite", PASSWORD_RESET: "reset"}
LINK_LIFETIMES = {INVITATION: timedelta(days=7), PASSWORD_RESET: timedelta(hours=1)}

MIN_LENGTH = 15
MAX_LENGTH = 128

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
ADDRESS_MAX_FAILURES = 30
ADDRESS_WINDOW = timedelta(minutes=15)

BAD_CREDENTIALS = msg("auth.bad_credentials")

#: argon2id with argon2-cffi's defaults (RFC 9106, second recommended option).
HASHER = PasswordHasher()

#: The most common passwords of the public breach corpora that are long enough to pass
#: the length rule, lower-case (compared case-insensitively).
COMMON_PASSWORDS = frozenset(
    {
        "123456789012345",
        "1234567890123456",
        "12345678901234567890",
        "123456789987654321",
        "111111111111111",
        "000000000000000",
        "qwertyuiopasdfgh",
        "qwertyuiopasdfghjkl",
        "qwertyuiopasdfghjklzxcvbnm",
        "1q2w3e4r5t6y7u8i",
        "1q2w3e4r5t6y7u8i9o0p",
        "1qaz2wsx3edc4rfv",
        "zaq12wsxcde34rfv",
        "passwordpassword",
        "password1234567",
        "password12345678",
        "passw0rdpassw0rd",
        "iloveyouiloveyou",
        "abcdefghijklmnop",
        "abcdefghijklmnopqrstuvwxyz",
        "abcdefg123456789",
        "abc123456789012",
        "qwerty1234567890",
        "1234567890qwerty",
        "1234567890abcdef",
        "woaini1314520520",
        "5201314520131452",
        "aa123456789012345",
        "letmeinletmein1",
        "changemechangeme",
        "welcome123456789",
        "administrator123",
        "trustno1trustno1",
        "correcthorsebatterystaple",
    }
)


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """A link just issued, with its secret: the only time the link is known."""

    link: str
    expires_at: datetime
    person: Person


@dataclass(frozen=True, slots=True)
class PasswordSet:
    """Whose password a link just set, and where they now sign in."""

    tenant: Tenant
    person: Person


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_password(password: str) -> str:
    """Passwords compare as NFKC (a full-width digit is a digit), as 800-63B asks."""
    return unicodedata.normalize("NFKC", password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to verify when there is no account, so a refusal costs the same."""
    return HASHER.hash(secrets.token_urlsafe(16))


def password_problems(password: str, person: Person, tenant: Tenant) -> list[Problem]:
    """Why ``password`` may not be ``person``'s (empty: it may)."""
    value = normalise_password(password)
    field = "password"
    if len(value) < MIN_LENGTH:
        return [
            Problem(
                ErrorCode.WEAK_PASSWORD,
                msg("auth.password_too_short", min=MIN_LENGTH),
                field,
            )
        ]
    if len(value) > MAX_LENGTH:
        return [
            Problem(ErrorCode.WEAK_PASSWORD, msg("auth.password_too_long", max=MAX_LENGTH), field)
        ]
    folded = value.casefold()
    squeezed = "".join(folded.split())
    if folded in COMMON_PASSWORDS or squeezed in COMMON_PASSWORDS or len(set(squeezed)) <= 2:
        return [Problem(ErrorCode.WEAK_PASSWORD, msg("auth.password_common"), field)]
    email = normalise_email(person.email)
    context = {email, email.partition("@")[0], person.name, person.name_en, tenant.slug}
    for word in context:
        word = "".join(word.casefold().split())
        if len(word) >= 3 and word in squeezed:
            return [
                Problem(
                    ErrorCode.WEAK_PASSWORD,
                    msg("auth.password_contextual"),
                    field,
                )
            ]
    return []


# -- links ------------------------------------------------------------------------------


async def invite_person(scope: TenantScope, person_id: int, settings: Settings) -> IssuedLink:
    """An invitation link for an active person with an email and no account yet
    (admins); valid 7 days, single use; audited without its secret."""
    person = await _linkable(scope, person_id)
    if await scope.query(Account).filter(person_id=person.id).exists():
        raise DomainError.single(
            ErrorCode.CONFLICT,
            msg("auth.has_password"),
            "personId",
        )
    return await _issue_link(scope, person, INVITATION, settings)


async def issue_password_reset(
    scope: TenantScope, person_id: int, settings: Settings
) -> IssuedLink:
    """A password reset link for a person with an account (admins); valid 1 hour,
    single use; audited without its secret."""
    person = await _linkable(scope, person_id)
    if not await scope.query(Account).filter(person_id=person.id).exists():
        raise DomainError.single(ErrorCode.INVALID, msg("auth.no_password"), "personId")
    return await _issue_link(scope, person, PASSWORD_RESET, settings)


async def _linkable(scope: TenantScope, person_id: int) -> Person:
    if scope.role is not Role.ADMIN:
        raise forbidden(msg("auth.invite_admin_only"))
    person = await scope.get(Person, person_id, "personId")
    if not person.active:
        raise DomainError.single(ErrorCode.INACTIVE, msg("auth.deactivated"), "personId")
    if not person.email.strip():
        raise DomainError.single(ErrorCode.INVALID, msg("auth.no_email"), "personId")
    shared = (
        scope.query(Person)
        .filter(email=normalise_email(person.email), active=True)
        .exclude(id=person.id)
    )
    if await shared.exists():
        raise DomainError.single(
            ErrorCode.CONFLICT,
            msg("auth.email_shared"),
            "personId",
        )
    return person


async def _issue_link(
    scope: TenantScope, person: Person, purpose: str, settings: Settings
) -> IssuedLink:
    secret = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    expires = now + LINK_LIFETIMES[purpose]
    async with in_transaction():
        # a new link replaces the person's earlier ones of the same kind
        await (
            scope.query(AccountLink)
            .filter(person_id=person.id, purpose=purpose, used_at__isnull=True, expires_at__gt=now)
            .update(expires_at=now, updated_at=now)
        )
        link = await scope.create(
            AccountLink,
            purpose=purpose,
            person_id=person.id,
            secret_hash=hash_secret(secret),
            expires_at=expires,
            created_by_id=scope.actor.person_id,
        )
        await audit.record(
            scope,
            "account.invited" if purpose == INVITATION else "account.reset_issued",
            "person",
            person.id,
            None,
            {"link": link.id, "expires_at": expires.isoformat()},
        )
    base = settings.public_url.rstrip("/")
    url = f"{base}/auth/{scope.tenant.slug}/{LINK_PATHS[purpose]}/{secret}"
    return IssuedLink(url, expires, person)


async def open_link(secret: str, purpose: str, tenant_slug: str | None = None) -> AccountLink:
    """The usable link ``secret`` is (its person and tenant loaded), or why not: not
    found (also for another tenant's link), used, expired, or its person deactivated."""
    with rls.every_tenant():  # the link's secret is all the caller shows
        link = (
            await AccountLink.filter(secret_hash=hash_secret(secret), purpose=purpose)
            .select_related("person", "tenant")
            .first()
        )
    if link is None or (tenant_slug is not None and link.tenant.slug != tenant_slug):
        raise DomainError.single(ErrorCode.NOT_FOUND, msg("auth.link_invalid"), "secret")
    rls.bind(link.tenant_id)
    if link.used_at is not None:
        raise DomainError.single(ErrorCode.LINK_USED, msg("auth.link_used"), "secret")
    if link.expires_at <= datetime.now(UTC):
        raise DomainError.single(ErrorCode.LINK_EXPIRED, msg("auth.link_expired"), "secret")
    if not link.person.active:
        raise DomainError.single(ErrorCode.INACTIVE, msg("auth.deactivated"), "secret")
    return link


async def accept_invitation(
    secret: str, password: str, tenant_slug: str | None = None
) -> PasswordSet:
    """Set the invited person's first password; the invitation is used up."""
    return await _set_password(secret, INVITATION, password, tenant_slug)


async def reset_password(secret: str, password: str, tenant_slug: str | None = None) -> PasswordSet:
    """Replace a person's password through a reset link; every session of theirs ends
    and a lockout is lifted."""
    return await _set_password(secret, PASSWORD_RESET, password, tenant_slug)


async def _set_password(
    secret: str, purpose: str, password: str, tenant_slug: str | None
) -> PasswordSet:
    link = await open_link(secret, purpose, tenant_slug)
    person: Person = link.person
    tenant: Tenant = link.tenant
    problems = password_problems(password, person, tenant)
    if problems:
        raise DomainError(*problems)
    hashed = await asyncio.to_thread(HASHER.hash, normalise_password(password))
    now = datetime.now(UTC)
    scope = person_scope(tenant, person)
    async with in_transaction():
        claimed = await AccountLink.filter(id=link.id, used_at__isnull=True).update(
            used_at=now, updated_at=now
        )
        if not claimed:
            raise DomainError.single(ErrorCode.LINK_USED, msg("auth.link_used"), "secret")
        account = await scope.query(Account).filter(person_id=person.id).first()
        if account is None:
            await scope.create(
                Account, person_id=person.id, password_hash=hashed, password_set_at=now
            )
        else:
            await (
                scope.query(Account)
                .filter(id=account.id)
                .update(
                    password_hash=hashed,
                    password_set_at=now,
                    failed_attempts=0,
                    failed_since=None,
                    locked_until=None,
                    updated_at=now,
                )
            )
        ended = await end_person_sessions(scope, person.id, RESET_REASON) if account else 0
        await audit.record(
            scope,
            "account.password_set",
            "person",
            person.id,
            None,
            {"link": link.id, "purpose": purpose, "sessions_ended": ended},
        )
    return PasswordSet(tenant, person)


# -- sign-in ----------------------------------------------------------------------------


async def sign_in(
    tenant_slug: str, email: str, password: str, settings: Settings, *, address: str
) -> SessionTokens:
    """Start a session for the person of ``tenant_slug`` with ``email`` and
    ``password``, or refuse: ``BAD_CREDENTIALS`` (the same for an unknown company, an
    unknown email and a wrong password), ``LOCKED``, ``RATE_LIMITED``."""
    candidate = normalise_password(password)
    now = datetime.now(UTC)
    tenant = await Tenant.get_or_none(slug=tenant_slug.strip().lower())
    if tenant is None:
        await _verify(_dummy_hash(), candidate)
        raise DomainError.single(ErrorCode.BAD_CREDENTIALS, BAD_CREDENTIALS)
    rls.bind(tenant.id)
    address = (address or "unknown")[:64]
    throttle = await SignInThrottle.get_or_none(tenant_id=tenant.id, address=address)
    if (
        throttle is not None
        and throttle.window_started_at > now - ADDRESS_WINDOW
        and throttle.failures >= ADDRESS_MAX_FAILURES
    ):
        raise DomainError.single(
            ErrorCode.RATE_LIMITED,
            msg("auth.address_throttled"),
        )
    account = await _account(tenant, email)
    if account is None:
        await _verify(_dummy_hash(), candidate)
        await _address_failed(tenant, address, throttle, now)
        raise DomainError.single(ErrorCode.BAD_CREDENTIALS, BAD_CREDENTIALS)
    if account.locked_until is not None and account.locked_until > now:
        await _address_failed(tenant, address, throttle, now)
        raise _locked(account.locked_until)
    if not await _verify(account.password_hash, candidate):
        await _address_failed(tenant, address, throttle, now)
        locked_until = await _account_failed(tenant, account, now)
        if locked_until is not None:
            raise _locked(locked_until)
        raise DomainError.single(ErrorCode.BAD_CREDENTIALS, BAD_CREDENTIALS)
    person: Person = account.person
    changes: dict[str, object] = {
        "failed_attempts": 0,
        "failed_since": None,
        "locked_until": None,
        "last_sign_in_at": now,
        "updated_at": now,
    }
    if _needs_rehash(account.password_hash):
        changes["password_hash"] = await asyncio.to_thread(HASHER.hash, candidate)
    # the account's "signed in now" and the session it started land together or not at all
    async with in_transaction():
        await Account.filter(id=account.id).update(**changes)
        return await start_session(tenant, person, settings, method="password")


async def _account(tenant: Tenant, email: str) -> Account | None:
    """The account of the active person with ``email`` (None when there is none, or
    when two active people share it: neither can sign in by it)."""
    wanted = normalise_email(email)
    if not wanted:
        return None
    rows = (
        await Account.filter(tenant_id=tenant.id, person__email=wanted, person__active=True)
        .select_related("person")
        .limit(2)
    )
    return rows[0] if len(rows) == 1 else None


async def _verify(hashed: str, password: str) -> bool:
    def check() -> bool:
        try:
            return HASHER.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def _needs_rehash(hashed: str) -> bool:
    try:
        return HASHER.check_needs_rehash(hashed)
    except InvalidHashError:
        return True


def _locked(until: datetime) -> DomainError:
    minutes = max(1, int((until - datetime.now(UTC)).total_seconds() // 60) + 1)
    return DomainError.single(
        ErrorCode.LOCKED,
        msg("auth.account_locked", minutes=minutes),
    )


async def _account_failed(tenant: Tenant, account: Account, now: datetime) -> datetime | None:
    """Count a failure of the account; returns the end of the lockout it caused."""
    in_window = account.failed_since is not None and account.failed_since > now - FAILURE_WINDOW
    failures = account.failed_attempts + 1 if in_window else 1
    since = account.failed_since if in_window else now
    if failures < MAX_FAILURES:
        await Account.filter(id=account.id).update(
            failed_attempts=failures, failed_since=since, updated_at=now
        )
        return None
    until = now + LOCKOUT
    person: Person = account.person
    async with in_transaction():
        await Account.filter(id=account.id).update(
            failed_attempts=0, failed_since=None, locked_until=until, updated_at=now
        )
        await audit.record(
            person_scope(tenant, person),
            "account.locked",
            "person",
            person.id,
            None,
            {"failures": failures, "locked_until": until.isoformat()},
        )
    return until


async def _address_failed(
    tenant: Tenant, address: str, throttle: SignInThrottle | None, now: datetime
) -> None:
    """Count a failed sign-in from ``address`` in its current window."""
    if throttle is None:
        try:
            await SignInThrottle.create(
                tenant_id=tenant.id, address=address, window_started_at=now, failures=1
            )
            return
        except IntegrityError:  # a concurrent first failure made the row
            throttle = await SignInThrottle.get(tenant_id=tenant.id, address=address)
    if throttle.window_started_at <= now - ADDRESS_WINDOW:
        await SignInThrottle.filter(id=throttle.id).update(
            window_started_at=now, failures=1, updated_at=now
        )
    else:
        await SignInThrottle.filter(id=throttle.id).update(
            failures=F("failures") + 1, updated_at=now
        )
