"""Feishu/Lark sign-in: OAuth 2.0 authorization code with PKCE, then ``user_info``.

- The browser goes to ``accounts.feishu.cn/open-apis/authen/v1/authorize`` (Lark:
  ``accounts.larksuite.com``) with ``client_id`` (the App ID), ``response_type=code``,
  ``redirect_uri``, ``state``, the S256 ``code_challenge`` and, when the matched field
  needs a permission the user grants, ``scope``.
- The code is exchanged at ``open.feishu.cn/open-apis/authen/v2/oauth/token`` with a
  JSON body (``grant_type``, ``client_id``, ``client_secret``, ``code``,
  ``redirect_uri``, ``code_verifier``); the answer carries ``code`` 0 and the user
  access token, or a non-zero ``code`` with ``error`` and ``error_description``.
- ``/open-apis/authen/v1/user_info`` with that token says who signed in (``open_id``,
  ``union_id``, ``user_id``, ``email``, ``enterprise_email``, ``employee_no``, ``name``)
  and in which company (``tenant_key``), in the ``{code, msg, data}`` envelope.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx2

from ...core.identity_providers import ProviderIdentity
from .base import SignInError, VendorSignIn, http_client

#: The permission a user must grant for ``user_info`` to carry the field (none: always).
_SCOPES = {
    "employee_no": "contact:user.employee:readonly",
    "enterprise_email": "contact:user.employee:readonly",
    "user_id": "contact:user.employee_id:readonly",
    "email": "contact:user.email:readonly",
}


class FeishuSignIn(VendorSignIn):
    vendor = "feishu"
    hosts: ClassVar[dict[str, str]] = {"login": "accounts", "api": "open"}
    pkce = True

    def public_host(self, host: str) -> str:
        """``accounts.`` or ``open.`` of the configured domain (feishu.cn, larksuite.com)."""
        return f"https://{self.hosts[host]}.{self.provider.domain or 'feishu.cn'}"

    def authorize_url(self, redirect_uri: str, state: str, code_challenge: str) -> str:
        query = {
            "client_id": self.provider.client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        if scope := _SCOPES.get(self.provider.claim):
            query["scope"] = scope
        return f"{self.url('login', '/open-apis/authen/v1/authorize')}?{urlencode(query)}"

    async def identify(
        self, *, code: str, redirect_uri: str, nonce: str, code_verifier: str
    ) -> ProviderIdentity:
        async with http_client() as client:
            token = await self._user_token(client, code, redirect_uri, code_verifier)
            info = await self._user_info(client, token)
        return ProviderIdentity(claims=info, company=str(info.get("tenant_key") or ""))

    async def _user_token(
        self, client: httpx2.AsyncClient, code: str, redirect_uri: str, code_verifier: str
    ) -> str:
        _, body = await self.call(
            client,
            "POST",
            self.url("api", "/open-apis/authen/v2/oauth/token"),
            json={
                "grant_type": "authorization_code",
                "client_id": self.provider.client_id,
                "client_secret": self.secret,
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            },
        )
        token = body.get("access_token")
        if body.get("code") != 0 or not isinstance(token, str) or not token:
            error = str(body.get("error") or body.get("msg") or "")[:64]
            raise SignInError(f"feishu: the code was refused: code {body.get('code')} {error}")
        return token

    async def _user_info(self, client: httpx2.AsyncClient, token: str) -> dict[str, Any]:
        _, body = await self.call(
            client,
            "GET",
            self.url("api", "/open-apis/authen/v1/user_info"),
            headers={"Authorization": f"Bearer {token}"},
        )
        data = body.get("data")
        if body.get("code") != 0 or not isinstance(data, dict):
            message = str(body.get("msg", ""))[:120]
            raise SignInError(f"feishu: user_info refused: code {body.get('code')} {message}")
        return data
