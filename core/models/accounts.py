"""Local accounts: a password per person, the single-use links that set one, the
session families a sign-in starts with their refresh tokens, and the sign-in throttle
per client address.

Nothing secret is stored in clear: a password is an argon2id hash, a link secret and
a refresh token are SHA-256 hashes (both are 256 random bits, so a slow hash would add
nothing but latency).
"""

from __future__ import annotations

from tortoise import fields

from .base import TenantOwned
from .org import Person


class Account(TenantOwned):
    """The password of a person who signs in with goalgraph itself (no identity provider)."""

    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name=False, on_delete=fields.CASCADE
    )
    person_id: int
    #: The argon2id hash in PHC form (parameters and salt included).
    password_hash = fields.CharField(max_length=255)
    password_set_at = fields.DatetimeField()
    #: Failed sign-ins since ``failed_since``, the start of the current counting window.
    failed_attempts = fields.SmallIntField(default=0)
    failed_since = fields.DatetimeField(null=True)
    #: Sign-ins are refused until then (null: not locked).
    locked_until = fields.DatetimeField(null=True)
    last_sign_in_at = fields.DatetimeField(null=True)

    class Meta:
        table = "account"
        unique_together = (("tenant_id", "person_id"),)


class AccountLink(TenantOwned):
    """A single-use link an admin issues: an invitation or a password reset."""

    #: invitation or password_reset
    purpose = fields.CharField(max_length=16)
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name=False, on_delete=fields.CASCADE
    )
    person_id: int
    #: SHA-256 of the secret in the link (the link itself is shown once).
    secret_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    created_by_id = fields.IntField(null=True)

    class Meta:
        table = "account_link"
        indexes = (("tenant_id", "person_id"),)


class SessionFamily(TenantOwned):
    """One sign-in and every token refreshed from it: access tokens carry its
    ``sid`` (the JWT claim of that name) and stop working as soon as it is revoked."""

    sid = fields.CharField(max_length=32, unique=True)
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name=False, on_delete=fields.CASCADE
    )
    person_id: int
    #: How the person signed in (password, oidc, feishu and so on).
    method = fields.CharField(max_length=16)
    #: The end of the family whatever its refreshes.
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    #: Why it was revoked (signed_out, reuse, password_reset, deactivated).
    revoked_reason = fields.CharField(max_length=32, default="")

    class Meta:
        table = "session_family"
        indexes = (("tenant_id", "person_id"),)


class RefreshToken(TenantOwned):
    """One refresh token of a family, rotated by each use (``rotated_at``) and a
    rotated one presented again revokes the family."""

    family: fields.ForeignKeyRelation[SessionFamily] = fields.ForeignKeyField(
        "models.SessionFamily", related_name=False, on_delete=fields.CASCADE
    )
    family_id: int
    #: SHA-256 of the token.
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    rotated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "refresh_token"
        indexes = (("tenant_id", "family_id"),)


class SignInThrottle(TenantOwned):
    """Failed sign-ins from one client address into one tenant, in a fixed window."""

    address = fields.CharField(max_length=64)
    window_started_at = fields.DatetimeField()
    failures = fields.IntField(default=0)

    class Meta:
        table = "sign_in_throttle"
        unique_together = (("tenant_id", "address"),)
