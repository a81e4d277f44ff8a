"""Single sign-on routes: ``GET /auth/{tenant}/{kind}/login`` and ``/callback`` for each
kind of provider (``oidc``, ``feishu``, ``dingtalk``, ``wecom``).

``login`` sends the browser to the provider (an OpenID Connect authorization code
request with PKCE S256, ``state`` and ``nonce``, through ``adapters/oidc_client.py``; or
the Feishu, DingTalk or WeCom authorization URL of ``adapters/signin/``): the sign-in
under way is kept server-side (``core/identity_providers.begin_login``) and the browser
gets the ``state`` in an HttpOnly, SameSite=Lax cookie limited to that kind's routes, so
a callback is accepted only from the browser that started it, once, at the same kind.

``callback`` checks that the ``state`` matches the cookie and a sign-in under way of
that kind (used once), has the provider's client exchange the code and say who signed
in (the verified ID token, or the provider's identity call), matches that identity to an
active person of the tenant of the configured company
(``core/identity_providers.match_person``), starts a session
(``core/sessions.start_session``, the method is the kind) and redirects to the
provider's return URL, or to goalgraph's page at ``/``, with ``#token=<access
token>&refresh_token=<refresh token>`` in the fragment (a fragment never reaches a
server). Anything else is refused with a bilingual page: 400 for a missing, wrong,
used or expired ``state``, 403 when the provider refused, the ID token is not valid,
the account is of another company or the identity names no active person. Nothing is
created unless just-in-time creation is on.

Codes, tokens and secrets are never logged (the callback's query is cut out of access
log lines); refusals are logged with their reason.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ..core import identity_providers as idp
from ..core.errors import DomainError
from ..core.models import IdentityProvider, Tenant
from ..core.secrets import SecretBox, SecretError
from ..core.sessions import start_session
from ..core.settings import Settings, secret_box_key
from .oidc_client import InvalidIdToken, OidcClients
from .signin import SignInClient, SignInError, redact_client_logs, vendor_client

log = logging.getLogger("goalgraph.sso")

STATE_COOKIE = "gg_oidc_state"

#: Refusal pages: (title zh-CN, title en, message zh-CN, message en).
_PAGES: dict[str, tuple[str, str, str, str]] = {
    "no_provider": (
        "未启用单点登录",
        "Single sign-on is not set up",
        "该公司没有启用单点登录。请联系管理员。",
        "This company has no single sign-on switched on. Ask your administrator.",
    ),
    "state": (
        "登录已失效",
        "This sign-in is no longer valid",
        "登录请求已过期、已使用或不是从此浏览器发起的。请重新登录。",
        "The sign-in expired, was used already, or was not started in this browser. "
        "Please sign in again.",
    ),
    "provider": (
        "身份提供方拒绝了登录",
        "The identity provider refused the sign-in",
        "身份提供方没有确认您的身份。请重新登录，或联系管理员。",
        "Your identity provider did not confirm who you are. Sign in again or ask your "
        "administrator.",
    ),
    "token": (
        "身份令牌无效",
        "The identity token is not valid",
        "身份提供方返回的令牌未通过校验。请联系管理员。",
        "The token your identity provider returned did not pass the checks. Ask your "
        "administrator.",
    ),
    idp.NO_CLAIM: (
        "缺少身份信息",
        "Your identity is missing",
        "身份提供方没有提供用于识别您的信息（邮箱或工号）。请联系管理员。",
        "Your identity provider did not send what identifies you here (email or "
        "employee number). Ask your administrator.",
    ),
    idp.UNKNOWN_PERSON: (
        "未找到您的账号",
        "No account for you here",
        "您的身份已确认，但本公司的人员名单中没有您。请联系管理员将您加入。",
        "Your identity was confirmed, but you are not among this company's people. "
        "Ask your administrator to add you.",
    ),
    idp.INACTIVE_PERSON: (
        "账号已停用",
        "Your account is deactivated",
        "您在本公司的账号已停用，无法登录。如有疑问请联系管理员。",
        "Your account at this company is deactivated and cannot sign in. Ask your "
        "administrator if this is unexpected.",
    ),
    idp.OTHER_COMPANY: (
        "不是本公司的账号",
        "This account is of another company",
        "您登录的账号属于其他企业或组织。请使用您在本公司的飞书、钉钉或企业微信账号登录。",
        "The account you signed in with belongs to another company or organisation. "
        "Sign in with your account at this company.",
    ),
}


_CALLBACK_QUERY = re.compile(r"(/(?:oidc|feishu|dingtalk|wecom)/callback\?)[^\s\"]*")


class _RedactCallbackQuery(logging.Filter):
    """Cuts the code and state out of access log lines of the callback (uvicorn logs
    the request line with its query)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _CALLBACK_QUERY.sub(r"\1…", a) if isinstance(a, str) else a for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = _CALLBACK_QUERY.sub(r"\1…", record.msg)
        return True


_REDACT = _RedactCallbackQuery()


def refusal_page(reason: str, status: int) -> HTMLResponse:
    """A bilingual (zh-CN, en) page saying why the sign-in was refused."""
    zh_title, en_title, zh, en = _PAGES.get(reason, _PAGES["provider"])
    body = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(zh_title)} · {html.escape(en_title)}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto">
<h1>{html.escape(zh_title)}</h1><p>{html.escape(zh)}</p>
<h1 lang="en">{html.escape(en_title)}</h1><p lang="en">{html.escape(en)}</p>
<p><small>goalgraph · {html.escape(reason)}</small></p>
</body></html>"""
    response = HTMLResponse(body, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def redirect_uri(settings: Settings, slug: str, kind: str = idp.OIDC) -> str:
    """The redirect URI to register at the identity provider of ``kind``."""
    return f"{settings.public_url.rstrip('/')}/auth/{slug}/{kind}/callback"


def oidc_routes(settings: Settings) -> list[Route]:
    """The login and callback routes of every kind, for ``core/app.py`` to mount."""
    access_log = logging.getLogger("uvicorn.access")
    if _REDACT not in access_log.filters:
        access_log.addFilter(_REDACT)
    redact_client_logs()
    flow = SignInFlow(settings)
    routes: list[Route] = []
    for kind in idp.KINDS:
        routes += [
            Route(f"/auth/{{tenant}}/{kind}/login", flow.route(flow.login, kind), methods=["GET"]),
            Route(
                f"/auth/{{tenant}}/{kind}/callback",
                flow.route(flow.callback, kind),
                methods=["GET"],
            ),
        ]
    return routes


class SignInFlow:
    """The sign-in rules every kind shares: the provider's client only supplies the
    authorization URL, the code exchange and the identity."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.box = SecretBox(secret_box_key(settings))
        self.oidc_clients = OidcClients()
        # production is served over HTTPS (behind its proxy, whatever public_url says)
        self.secure = settings.production or settings.public_url.startswith("https://")

    @staticmethod
    def route(
        handler: Callable[[Request, str], Awaitable[Response]], kind: str
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await handler(request, kind)

        return endpoint

    def client(self, provider: IdentityProvider) -> SignInClient:
        """The provider's client; SecretError when its secret does not open."""
        secret = idp.client_secret(provider, self.box)
        if provider.kind == idp.OIDC:
            return self.oidc_clients.get(provider, secret)
        return vendor_client(provider, secret)

    def refuse(
        self, slug: str, kind: str, reason: str, status: int, detail: str = ""
    ) -> HTMLResponse:
        log.warning("single sign-on refused for %s (%s): %s %s", slug, kind, reason, detail)
        response = refusal_page(reason, status)
        response.delete_cookie(STATE_COOKIE, path=f"/auth/{slug}/{kind}")
        return response

    async def login(self, request: Request, kind: str) -> Response:
        slug = request.path_params["tenant"]
        found = await idp.active_provider(slug, kind)
        if found is None:
            return self.refuse(slug, kind, "no_provider", 404)
        tenant, provider = found
        try:
            made = await self.client(provider).authorization(
                redirect_uri(self.settings, slug, kind)
            )
        except SecretError:
            return self.refuse(slug, kind, "provider", 503, "client secret does not open")
        except SignInError as exc:
            return self.refuse(slug, kind, "provider", 502, str(exc))
        await idp.begin_login(
            tenant,
            self.box,
            state=made.state,
            nonce=made.nonce,
            code_verifier=made.code_verifier,
            kind=kind,
        )
        response = RedirectResponse(made.url, status_code=302)
        response.set_cookie(
            STATE_COOKIE,
            made.state,
            max_age=int(idp.LOGIN_TTL.total_seconds()),
            path=f"/auth/{slug}/{kind}",
            httponly=True,
            samesite="lax",
            secure=self.secure,
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    async def callback(self, request: Request, kind: str) -> Response:
        slug = request.path_params["tenant"]
        found = await idp.active_provider(slug, kind)
        if found is None:
            return self.refuse(slug, kind, "no_provider", 404)
        tenant, provider = found
        state = request.query_params.get("state", "")
        if not state or state != request.cookies.get(STATE_COOKIE):
            return self.refuse(slug, kind, "state", 400, "state missing or not this browser's")
        pending = await idp.take_login(tenant, self.box, state, kind)
        if pending is None:
            return self.refuse(slug, kind, "state", 400, "state unknown, used or expired")
        try:
            identity = await self._identify(request, provider, pending)
        except _Refused as refused:
            return self.refuse(slug, kind, refused.reason, refused.status, refused.detail)
        return await self._sign_in(slug, tenant, provider, identity)

    async def _identify(
        self, request: Request, provider: IdentityProvider, pending: idp.PendingLogin
    ) -> idp.ProviderIdentity:
        """Who the provider says signed in; _Refused when it did not say."""
        params = request.query_params
        try:
            client = self.client(provider)
        except SecretError as exc:
            raise _Refused("provider", 503, "client secret does not open") from exc
        code = next((params[name] for name in client.code_params if params.get(name)), "")
        if "error" in params or not code:
            raise _Refused("provider", 403, params.get("error", "no code")[:64])
        try:
            return await client.identify(
                code=code,
                redirect_uri=redirect_uri(
                    self.settings, request.path_params["tenant"], provider.kind
                ),
                nonce=pending.nonce,
                code_verifier=pending.code_verifier,
            )
        except InvalidIdToken as exc:
            raise _Refused("token", 403, str(exc)) from exc
        except SignInError as exc:
            raise _Refused("provider", 403, str(exc)) from exc

    async def _sign_in(
        self,
        slug: str,
        tenant: Tenant,
        provider: IdentityProvider,
        identity: idp.ProviderIdentity,
    ) -> Response:
        """Match the identity to a person and start their session."""
        kind = provider.kind
        try:
            person = await idp.match_person(tenant, provider, identity)
        except idp.SignInRefused as exc:
            return self.refuse(slug, kind, exc.reason, 403, str(exc))
        try:
            tokens = await start_session(tenant, person, self.settings, method=kind)
        except DomainError as exc:  # deactivated between the match and the session
            return self.refuse(slug, kind, idp.INACTIVE_PERSON, 403, str(exc))
        fragment = urlencode({"token": tokens.access_token, "refresh_token": tokens.refresh_token})
        target = provider.return_url or "/"
        response = RedirectResponse(f"{target}#{fragment}", status_code=303)
        response.delete_cookie(STATE_COOKIE, path=f"/auth/{slug}/{kind}")
        response.headers["Cache-Control"] = "no-store"
        log.info("single sign-on (%s) for %s: person %s signed in", kind, slug, person.id)
        return response


class _Refused(Exception):
    """A callback refused before any person is looked at: the page reason and status."""

    def __init__(self, reason: str, status: int, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.status, self.detail = reason, status, detail
