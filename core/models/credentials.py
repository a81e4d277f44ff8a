"""Credentials that systems present instead of a person's token: a tenant's SCIM
provisioning credential today, integration API keys beside it.

Only a hash of the secret is stored (SHA-256: the secret is 256 random bits, so a slow
password hash would add nothing but latency to every request); the secret itself is
shown once, when it is created. ``prefix`` is its first characters, so an admin can tell
keys apart and a leaked one can be recognised, without the table revealing any.
"""

from __future__ import annotations

from tortoise import fields

from .base import TenantOwned


class AccessKey(TenantOwned):
    """A bearer secret of one tenant for one purpose (``kind``: ``scim``, ``api``)."""

    kind = fields.CharField(max_length=16)
    name = fields.CharField(max_length=200)
    prefix = fields.CharField(max_length=24)
    secret_hash = fields.CharField(max_length=64, unique=True)
    #: The role requests made with the key act as (API keys, null for SCIM).
    role = fields.CharField(max_length=16, null=True)
    created_by_id = fields.IntField(null=True)
    expires_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "access_key"
        indexes = (("tenant_id", "kind"),)
