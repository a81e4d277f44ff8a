"""Feishu, DingTalk and WeCom sign-in on 127.0.0.1, speaking each provider's own
paths, parameters, JSON shapes and error envelopes, one aiohttp server per provider
(all of a provider's hosts on one port, as the ``baseUrl`` setting expects).

The authorization page approves at once whoever ``person`` is (the test decides who
signs in): it checks the app and the redirect URI, issues a single-use code bound to
that person, their company, the redirect URI and (Feishu) the PKCE challenge, and
redirects back with it and the ``state``. The code exchange and the identity call check
the app's credentials, the code, the verifier and the tokens as the providers do.

- Feishu: ``/open-apis/authen/v1/authorize``, ``/open-apis/authen/v2/oauth/token`` (JSON
  body, ``code`` 0 or HTTP 400 with ``code``, ``error``, ``error_description``),
  ``/open-apis/authen/v1/user_info`` (``{code, msg, data}``, ``tenant_key``).
- DingTalk: ``/oauth2/auth`` (back with ``authCode``), ``/v1.0/oauth2/userAccessToken``
  (``accessToken``, ``corpId``; errors HTTP 4xx ``{code, message, requestid}``),
  ``/v1.0/contact/users/me``, ``/gettoken`` and ``/topapi/user/getbyunionid``
  (``{errcode, errmsg, result}``; 60121 for someone the corp's directory lacks).
- WeCom: ``/wwlogin/sso/login``, ``/cgi-bin/gettoken``, ``/cgi-bin/auth/getuserinfo``
  (``userid`` for a member, ``CorpId/userid`` for a linked corporation's, ``openid``
  for a visitor).

Knobs: ``person`` (the vendor's fields of who signs in), ``company`` (their Feishu
tenant_key or corp id), ``visitor`` (WeCom: not a member at all), ``fail_identity``
(the identity call answers with the provider's error envelope), ``expire_app_tokens()``
(every app token issued so far stops working).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import urlencode

from aiohttp import web

SECRET = "app-secret-9d1c57e2"


@dataclass
class Code:
    person: dict[str, Any]
    company: str
    redirect_uri: str
    challenge: str
    visitor: bool


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(payload, ensure_ascii=False),
        status=status,
        content_type="application/json",
    )


@dataclass
class FakeSignIn:
    """One provider's app and its people; ``start()`` serves it on 127.0.0.1."""

    vendor: str
    app_id: str
    corp: str
    agent_id: str = "1000002"
    app_secret: str = SECRET
    person: dict[str, Any] = field(default_factory=dict)
    company: str = ""
    visitor: bool = False
    fail_identity: bool = False
    url: str = ""
    #: What each authorization request and code exchange carried (for assertions).
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    app_token_requests: int = 0
    codes: dict[str, Code] = field(default_factory=dict)
    _user_tokens: dict[str, Code] = field(default_factory=dict)
    app_tokens: set[str] = field(default_factory=set)
    _runner: web.AppRunner | None = None

    def __post_init__(self) -> None:
        self.company = self.company or self.corp

    def expire_app_tokens(self) -> None:
        self.app_tokens.clear()

    # -- the authorization page, every provider ---------------------------------------

    def _approve(self, request: web.Request, redirect_uri: str, code_param: str) -> NoReturn:
        query = dict(request.query)
        self.authorize_requests.append(query)
        code = secrets.token_urlsafe(16)
        self.codes[code] = Code(
            dict(self.person),
            self.company,
            redirect_uri,
            query.get("code_challenge", ""),
            self.visitor,
        )
        back = urlencode({code_param: code, "state": query.get("state", "")})
        raise web.HTTPFound(f"{redirect_uri}?{back}")

    def _take_code(self, code: str) -> Code | None:
        return self.codes.pop(code, None)

    def _app_token(self) -> str:
        self.app_token_requests += 1
        token = f"{self.vendor}-app-{secrets.token_hex(6)}"
        self.app_tokens.add(token)
        return token

    # -- Feishu ---------------------------------------------------------------------------

    async def feishu_authorize(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("client_id") != self.app_id or q.get("response_type") != "code":
            return web.Response(text="20029 redirect_uri or client_id invalid", status=400)
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return web.Response(text="PKCE required by this test app", status=400)
        return self._approve(request, q["redirect_uri"], "code")

    @staticmethod
    def _feishu_error(code: int, error: str, description: str) -> web.Response:
        return _json({"code": code, "error": error, "error_description": description}, 400)

    async def feishu_token(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.token_requests.append(body)
        if body.get("grant_type") != "authorization_code":
            return self._feishu_error(20036, "unsupported_grant_type", "not supported")
        if (body.get("client_id"), body.get("client_secret")) != (self.app_id, self.app_secret):
            return self._feishu_error(20002, "invalid_client", "The client secret is invalid.")
        found = self._take_code(str(body.get("code", "")))
        if found is None:
            return self._feishu_error(
                20003,
                "invalid_grant",
                "The authorization code is not found. Please note that an authorization "
                "code can only be used once.",
            )
        if body.get("redirect_uri") != found.redirect_uri:
            return self._feishu_error(20071, "invalid_grant", "redirect_uri mismatch")
        if _s256(str(body.get("code_verifier", ""))) != found.challenge:
            return self._feishu_error(20049, "invalid_grant", "PKCE code challenge failed.")
        token = f"u-{secrets.token_urlsafe(16)}"
        self._user_tokens[token] = found
        return _json(
            {
                "code": 0,
                "access_token": token,
                "expires_in": 7200,
                "token_type": "Bearer",
                "scope": "auth:user.id:read",
            }
        )

    async def feishu_user_info(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        found = self._user_tokens.get(token)
        if found is None:
            return _json({"code": 20005, "msg": "The user access token passed is invalid"})
        if self.fail_identity:
            return _json({"code": 20021, "msg": "User resigned"})
        return _json(
            {"code": 0, "msg": "success", "data": {**found.person, "tenant_key": found.company}}
        )

    # -- DingTalk -------------------------------------------------------------------------

    async def dingtalk_authorize(self, request: web.Request) -> web.Response:
        q = request.query
        scopes = q.get("scope", "").split()
        if q.get("client_id") != self.app_id or "openid" not in scopes:
            return web.Response(text="无效的应用", status=400)
        return self._approve(request, q["redirect_uri"], "authCode")

    @staticmethod
    def _dingtalk_error(status: int, code: str, message: str) -> web.Response:
        return _json({"requestid": secrets.token_hex(8), "code": code, "message": message}, status)

    async def dingtalk_user_token(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.token_requests.append(body)
        if (body.get("clientId"), body.get("clientSecret")) != (self.app_id, self.app_secret):
            return self._dingtalk_error(400, "invalidClientSecret", "应用密钥不正确")
        found = self._take_code(str(body.get("code", "")))
        if found is None or body.get("grantType") != "authorization_code":
            return self._dingtalk_error(400, "invalidAuthCode", "不合法的临时授权码")
        token = secrets.token_hex(16)
        self._user_tokens[token] = found
        return _json(
            {
                "accessToken": token,
                "refreshToken": secrets.token_hex(16),
                "expireIn": 7200,
                "corpId": found.company,
            }
        )

    async def dingtalk_me(self, request: web.Request) -> web.Response:
        found = self._user_tokens.get(request.headers.get("x-acs-dingtalk-access-token", ""))
        if found is None:
            return self._dingtalk_error(401, "InvalidAuthentication", "不合法的access_token")
        if self.fail_identity:
            return self._dingtalk_error(
                403, "Forbidden.AccessDenied.AccessTokenPermissionDenied", "没有调用该接口的权限"
            )
        p = found.person
        return _json(
            {
                "nick": p.get("nick", ""),
                "unionId": p["unionId"],
                "openId": p.get("openId", ""),
                "email": p.get("email", ""),
                "mobile": p.get("mobile", ""),
                "stateCode": "86",
                "avatarUrl": "",
            }
        )

    async def dingtalk_gettoken(self, request: web.Request) -> web.Response:
        q = request.query
        if (q.get("appkey"), q.get("appsecret")) != (self.app_id, self.app_secret):
            return _json({"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"})
        token = self._app_token()
        return _json({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})

    async def dingtalk_getbyunionid(self, request: web.Request) -> web.Response:
        if request.query.get("access_token") not in self.app_tokens:
            return _json({"errcode": 40014, "errmsg": "不合法的access_token"})
        union_id = (await request.json()).get("unionid")
        member = next(
            (
                c.person
                for c in self._user_tokens.values()
                if c.person.get("unionId") == union_id and c.company == self.corp
            ),
            None,
        )
        if member is None:
            return _json({"errcode": 60121, "errmsg": "找不到该用户", "request_id": "r1"})
        result = {"contact_type": 0, "userid": member["userid"]}
        return _json({"errcode": 0, "errmsg": "ok", "result": result, "request_id": "r1"})

    # -- WeCom ----------------------------------------------------------------------------

    async def wecom_authorize(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("login_type") != "CorpApp" or q.get("appid") != self.corp:
            return web.Response(text="参数错误", status=400)
        if q.get("agentid") != self.agent_id:
            return web.Response(text="应用不存在", status=400)
        return self._approve(request, q["redirect_uri"], "code")

    async def wecom_gettoken(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("corpid") != self.corp:
            return _json({"errcode": 40013, "errmsg": "invalid corpid"})
        if q.get("corpsecret") != self.app_secret:
            return _json({"errcode": 40001, "errmsg": "invalid credential"})
        token = self._app_token()
        return _json({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})

    async def wecom_getuserinfo(self, request: web.Request) -> web.Response:
        q = request.query
        self.token_requests.append(dict(q))
        if q.get("access_token") not in self.app_tokens:
            return _json({"errcode": 42001, "errmsg": "access_token expired"})
        if self.fail_identity:
            return _json({"errcode": 60020, "errmsg": "not allow to access from your ip"})
        found = self._take_code(q.get("code", ""))
        if found is None:
            return _json({"errcode": 40029, "errmsg": "invalid code"})
        if found.visitor:
            return _json({"errcode": 0, "errmsg": "ok", "openid": "oVisitor123"})
        userid = found.person["userid"]
        if found.company != self.corp:
            userid = f"{found.company}/{userid}"
        return _json({"errcode": 0, "errmsg": "ok", "userid": userid, "user_ticket": "t-1"})

    # -- serving --------------------------------------------------------------------------

    def _routes(self, app: web.Application) -> None:
        add_get, add_post = app.router.add_get, app.router.add_post
        if self.vendor == "feishu":
            add_get("/open-apis/authen/v1/authorize", self.feishu_authorize)
            add_post("/open-apis/authen/v2/oauth/token", self.feishu_token)
            add_get("/open-apis/authen/v1/user_info", self.feishu_user_info)
        elif self.vendor == "dingtalk":
            add_get("/oauth2/auth", self.dingtalk_authorize)
            add_post("/v1.0/oauth2/userAccessToken", self.dingtalk_user_token)
            add_get("/v1.0/contact/users/me", self.dingtalk_me)
            add_get("/gettoken", self.dingtalk_gettoken)
            add_post("/topapi/user/getbyunionid", self.dingtalk_getbyunionid)
        else:
            add_get("/wwlogin/sso/login", self.wecom_authorize)
            add_get("/cgi-bin/gettoken", self.wecom_gettoken)
            add_get("/cgi-bin/auth/getuserinfo", self.wecom_getuserinfo)

    async def start(self) -> str:
        app = web.Application()
        self._routes(app)
        # no access log: what the provider logs is not goalgraph's to keep clean
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
