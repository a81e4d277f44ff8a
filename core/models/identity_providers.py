"""Single sign-on: a tenant's identity providers (OpenID Connect, Feishu/Lark, DingTalk,
WeCom: at most one of each kind), and the sign-ins under way through them.

The client secret is sealed (``core/secrets.SecretBox``), as data-binding credentials
are, and never returned by the API. A sign-in under way (``OidcLogin``) keeps its
``state`` only as a SHA-256, with the nonce and the sealed PKCE verifier, and is
deleted when the callback uses it, so each ``state`` works once.
"""

from __future__ import annotations

from tortoise import fields

from ..enums import Role
from .base import TenantOwned


class IdentityProvider(TenantOwned):
    """An identity provider people of a tenant sign in with, one per kind."""

    #: oidc, feishu, dingtalk or wecom.
    kind = fields.CharField(max_length=16, default="oidc")
    #: The issuer URL, the base of the discovery document and the iss of ID tokens (oidc).
    issuer = fields.CharField(max_length=500)
    #: The app id at the provider (the WeCom corp id, which WeCom takes as the appid).
    client_id = fields.CharField(max_length=255)
    #: The client secret, sealed with the secrets key (never in clear).
    client_secret = fields.TextField()
    #: The ID token claim or provider field naming the person (email, open_id, userid).
    claim = fields.CharField(max_length=64, default="email")
    #: The person field the claim is matched against: email, code or external_id.
    match_field = fields.CharField(max_length=16, default="email")
    #: Create a person at first sign-in when no one matches (just-in-time), off by default.
    jit = fields.BooleanField(default=False)
    #: The org unit people created just in time join.
    jit_org_unit_id = fields.IntField(null=True)
    #: The role people created just in time get.
    jit_role = fields.CharEnumField(Role, max_length=16, default=Role.EMPLOYEE)
    #: Where a signed-in browser is sent, tokens in the fragment (blank: /graphql).
    return_url = fields.CharField(max_length=500, default="")
    #: The company people must belong to: Feishu tenant_key, DingTalk or WeCom corp id.
    corp_id = fields.CharField(max_length=128, default="")
    #: The WeCom app (agentid) people sign in to (blank for the other kinds).
    agent_id = fields.CharField(max_length=32, default="")
    #: The Feishu base domain: feishu.cn, or larksuite.com for Lark (blank otherwise).
    domain = fields.CharField(max_length=64, default="")
    #: One URL serving all the provider hosts (a gateway or a test server), else blank.
    base_url = fields.CharField(max_length=500, default="")
    active = fields.BooleanField(default=True)

    class Meta:
        table = "identity_provider"
        unique_together = (("tenant_id", "kind"),)


class OidcLogin(TenantOwned):
    """A sign-in sent to the identity provider and not yet back, used at most once."""

    #: The kind of provider the sign-in was sent to, so its callback alone takes it.
    kind = fields.CharField(max_length=16, default="oidc")
    #: SHA-256 of the state parameter (the browser holds the state itself).
    state_hash = fields.CharField(max_length=64, unique=True)
    #: The OpenID Connect nonce (blank for providers without ID tokens).
    nonce = fields.CharField(max_length=128)
    #: The PKCE code verifier, sealed (blank for providers without PKCE).
    code_verifier = fields.TextField()
    expires_at = fields.DatetimeField()

    class Meta:
        table = "oidc_login"
