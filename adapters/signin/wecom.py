"""WeCom sign-in: web login, then ``auth/getuserinfo`` with the app's access token.

- The browser goes to ``login.work.weixin.qq.com/wwlogin/sso/login`` with
  ``login_type=CorpApp``, ``appid`` (the corp id), ``agentid`` (the app),
  ``redirect_uri`` and ``state``; it comes back with ``code``. There is no token per
  person, no PKCE and no nonce.
- The app's access token comes from ``qyapi.weixin.qq.com/cgi-bin/gettoken`` (``corpid``,
  ``corpsecret``; cached until shortly before it expires, fetched again once when WeCom
  says it expired), and ``/cgi-bin/auth/getuserinfo`` (``access_token``, ``code``) turns
  the code into the person's ``userid``, in the ``{errcode, errmsg}`` envelope.
- Only a member of the corporation gets a ``userid``: a visitor gets an ``openid``
  instead, and a member of a linked corporation a ``userid`` of the form
  ``CorpId/userid``. Neither is one of the company's people.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx2

from ...core.identity_providers import ProviderIdentity
from .base import VendorSignIn, http_client


class WeComSignIn(VendorSignIn):
    vendor = "wecom"
    hosts: ClassVar[dict[str, str]] = {
        "login": "https://login.work.weixin.qq.com",
        "api": "https://qyapi.weixin.qq.com",
    }

    def authorize_url(self, redirect_uri: str, state: str, code_challenge: str) -> str:
        query = {
            "login_type": "CorpApp",
            "appid": self.provider.corp_id,
            "agentid": self.provider.agent_id,
            "redirect_uri": redirect_uri,
            "state": state,
        }
        return f"{self.url('login', '/wwlogin/sso/login')}?{urlencode(query)}"

    async def identify(
        self, *, code: str, redirect_uri: str, nonce: str, code_verifier: str
    ) -> ProviderIdentity:
        async with http_client() as client:

            async def getuserinfo(app_token: str) -> dict[str, Any]:
                _, body = await self.call(
                    client,
                    "GET",
                    self.url("api", "/cgi-bin/auth/getuserinfo"),
                    params={"access_token": app_token, "code": code},
                )
                return body

            body = await self.with_app_token(client, getuserinfo)
        self.check_errcode(body, "auth/getuserinfo")
        return self._identity(str(body.get("userid") or ""))

    def _identity(self, userid: str) -> ProviderIdentity:
        """Whose the userid is: the corporation's own member, a linked corporation's
        (``CorpId/userid``), or no member at all (no userid)."""
        if not userid:
            return ProviderIdentity(claims={}, company="")
        corp, _, own = userid.rpartition("/")
        if corp:
            return ProviderIdentity(claims={"userid": own}, company=corp)
        return ProviderIdentity(claims={"userid": userid}, company=self.provider.corp_id)

    async def fetch_app_token(self, client: httpx2.AsyncClient) -> tuple[str, float]:
        _, body = await self.call(
            client,
            "GET",
            self.url("api", "/cgi-bin/gettoken"),
            params={"corpid": self.provider.corp_id, "corpsecret": self.secret},
        )
        self.check_errcode(body, "gettoken")
        return str(body["access_token"]), float(body.get("expires_in", 7200))
