"""DingTalk sign-in: OAuth 2.0 authorization code, then ``contact/users/me``.

- The browser goes to ``login.dingtalk.com/oauth2/auth`` with ``client_id`` (the
  Client ID, formerly AppKey), ``redirect_uri``, ``response_type=code``, ``scope=openid
  corpid`` (so the token names the company the person chose), ``prompt=consent``,
  ``state`` and ``corpId`` (the company to choose); it comes back with ``authCode``.
- The code is exchanged at ``api.dingtalk.com/v1.0/oauth2/userAccessToken`` with a JSON
  body (``clientId``, ``clientSecret``, ``code``, ``grantType``): ``accessToken`` and
  ``corpId``, or an HTTP 4xx with ``code`` and ``message``.
- ``/v1.0/contact/users/me`` with the ``x-acs-dingtalk-access-token`` header says who
  signed in (``unionId``, ``openId``, ``nick``, ``email``).
- The ``userid`` (what a directory sync stores) is the company's own: it is looked up by
  ``unionId`` at ``oapi.dingtalk.com/topapi/user/getbyunionid`` with the app's access
  token (``/gettoken``), only when the provider matches on it. A person the company's
  directory does not have, or an external contact, is not of the company.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx2

from ...core.identity_providers import ProviderIdentity
from .base import SignInError, VendorSignIn, http_client

#: getbyunionid's errcode for a unionId the company's directory does not have.
_NO_SUCH_USER = 60121
#: getbyunionid's contact_type of an external contact (0: the company's own staff).
_EXTERNAL_CONTACT = 1


class DingTalkSignIn(VendorSignIn):
    vendor = "dingtalk"
    hosts: ClassVar[dict[str, str]] = {
        "login": "https://login.dingtalk.com",
        "api": "https://api.dingtalk.com",
        "oapi": "https://oapi.dingtalk.com",
    }
    code_params = ("authCode", "code")

    def authorize_url(self, redirect_uri: str, state: str, code_challenge: str) -> str:
        query = {
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "client_id": self.provider.client_id,
            "scope": "openid corpid",
            "prompt": "consent",
            "state": state,
            "corpId": self.provider.corp_id,
        }
        return f"{self.url('login', '/oauth2/auth')}?{urlencode(query)}"

    async def identify(
        self, *, code: str, redirect_uri: str, nonce: str, code_verifier: str
    ) -> ProviderIdentity:
        async with http_client() as client:
            token, corp = await self._user_token(client, code)
            me = await self._me(client, token)
            claims: dict[str, Any] = {**me, "name": me.get("nick")}
            if corp == self.provider.corp_id and self.provider.claim == "userid":
                userid = await self._userid(client, str(me.get("unionId") or ""))
                if userid is None:
                    corp = ""  # not in the company's directory: not one of its people
                claims["userid"] = userid
        return ProviderIdentity(claims=claims, company=corp)

    async def _user_token(self, client: httpx2.AsyncClient, code: str) -> tuple[str, str]:
        status, body = await self.call(
            client,
            "POST",
            self.url("api", "/v1.0/oauth2/userAccessToken"),
            json={
                "clientId": self.provider.client_id,
                "clientSecret": self.secret,
                "code": code,
                "grantType": "authorization_code",
            },
        )
        token = body.get("accessToken")
        if status != 200 or not isinstance(token, str) or not token:
            raise SignInError(f"dingtalk: the code was refused: {self._problem(status, body)}")
        return token, str(body.get("corpId") or "")

    async def _me(self, client: httpx2.AsyncClient, token: str) -> dict[str, Any]:
        status, body = await self.call(
            client,
            "GET",
            self.url("api", "/v1.0/contact/users/me"),
            headers={"x-acs-dingtalk-access-token": token},
        )
        if status != 200 or not body.get("unionId"):
            raise SignInError(f"dingtalk: users/me refused: {self._problem(status, body)}")
        return body

    async def _userid(self, client: httpx2.AsyncClient, union_id: str) -> str | None:
        """The person's userid in the company's directory, or None when not staff there."""

        async def lookup(app_token: str) -> dict[str, Any]:
            _, body = await self.call(
                client,
                "POST",
                self.url("oapi", "/topapi/user/getbyunionid"),
                params={"access_token": app_token},
                json={"unionid": union_id},
            )
            return body

        body = await self.with_app_token(client, lookup)
        if body.get("errcode") == _NO_SUCH_USER:
            return None
        self.check_errcode(body, "getbyunionid")
        result = body.get("result")
        if not isinstance(result, dict) or result.get("contact_type") == _EXTERNAL_CONTACT:
            return None
        return str(result.get("userid") or "") or None

    async def fetch_app_token(self, client: httpx2.AsyncClient) -> tuple[str, float]:
        _, body = await self.call(
            client,
            "GET",
            self.url("oapi", "/gettoken"),
            params={"appkey": self.provider.client_id, "appsecret": self.secret},
        )
        self.check_errcode(body, "gettoken")
        return str(body["access_token"]), float(body.get("expires_in", 7200))

    @staticmethod
    def _problem(status: int, body: dict[str, Any]) -> str:
        return (
            f"HTTP {status} {str(body.get('code', ''))[:64]} {str(body.get('message', ''))[:120]}"
        )
