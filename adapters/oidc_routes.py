"""Single sign-on routes: ``GET /auth/{tenant}/oidc/login`` and ``/callback``.

``login`` asks the identity provider to authenticate the browser (authorization code
with PKCE S256, ``state`` and ``nonce``): the sign-in under way is kept server-side
(``core/identity_providers.begin_login``) and the browser gets the ``state`` in an
HttpOnly, SameSite=Lax cookie limited to these routes, so a callback is accepted only
from the browser that started it, once.

``callback`` checks that the ``state`` matches the cookie and a sign-in under way (used
once), exchanges the code, verifies the ID token, matches the claim to an active person
of the tenant (``core/identity_providers.match_person``), starts a session
(``core/sessions.start_session``, method ``oidc``) and redirects to the provider's return
URL, or to ``/graphql``, with ``#token=<access token>&refresh_token=<refresh token>`` in
the fragment (a fragment never reaches a server). Anything else is refused with a
bilingual page: 400 for a missing, wrong, used or expired ``state``, 403 when the
provider refused, the ID token is not valid, or the claims name no active person.
Nothing is created unless just-in-time creation is on.

Codes, tokens and secrets are never logged (the callback's query is cut out of access
log lines); refusals are logged with their reason.
"""

from __future__ import annotations

import html
import logging
import re
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ..core import identity_providers as idp
from ..core.errors import DomainError
from ..core.secrets import SecretBox, SecretError
from ..core.sessions import start_session
from ..core.settings import Settings, secret_box_key
from .oidc_client import InvalidIdToken, OidcClients, OidcError

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
}


_CALLBACK_QUERY = re.compile(r"(/oidc/callback\?)[^\s\"]*")


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


def redirect_uri(settings: Settings, slug: str) -> str:
    """The redirect URI to register at the identity provider."""
    return f"{settings.public_url.rstrip('/')}/auth/{slug}/oidc/callback"


def oidc_routes(settings: Settings) -> list[Route]:
    """The two routes, for ``core/app.py`` to mount."""
    access_log = logging.getLogger("uvicorn.access")
    if _REDACT not in access_log.filters:
        access_log.addFilter(_REDACT)
    box = SecretBox(secret_box_key(settings))
    clients = OidcClients()
    secure = settings.public_url.startswith("https://")

    def refuse(slug: str, reason: str, status: int, detail: str = "") -> HTMLResponse:
        log.warning("single sign-on refused for %s: %s %s", slug, reason, detail)
        response = refusal_page(reason, status)
        response.delete_cookie(STATE_COOKIE, path=f"/auth/{slug}/oidc")
        return response

    async def login(request: Request) -> Response:
        slug = request.path_params["tenant"]
        found = await idp.active_provider(slug)
        if found is None:
            return refuse(slug, "no_provider", 404)
        tenant, provider = found
        try:
            client = clients.get(provider, idp.client_secret(provider, box))
            made = await client.authorization(redirect_uri(settings, slug))
        except SecretError:
            return refuse(slug, "provider", 503, "client secret does not open")
        except OidcError as exc:
            return refuse(slug, "provider", 502, str(exc))
        await idp.begin_login(
            tenant, box, state=made.state, nonce=made.nonce, code_verifier=made.code_verifier
        )
        response = RedirectResponse(made.url, status_code=302)
        response.set_cookie(
            STATE_COOKIE,
            made.state,
            max_age=int(idp.LOGIN_TTL.total_seconds()),
            path=f"/auth/{slug}/oidc",
            httponly=True,
            samesite="lax",
            secure=secure,
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    async def callback(request: Request) -> Response:
        slug = request.path_params["tenant"]
        params = request.query_params
        state = params.get("state", "")
        found = await idp.active_provider(slug)
        if found is None:
            return refuse(slug, "no_provider", 404)
        tenant, provider = found
        if not state or state != request.cookies.get(STATE_COOKIE):
            return refuse(slug, "state", 400, "state missing or not this browser's")
        pending = await idp.take_login(tenant, box, state)
        if pending is None:
            return refuse(slug, "state", 400, "state unknown, used or expired")
        if "error" in params or not params.get("code"):
            return refuse(slug, "provider", 403, params.get("error", "no code")[:64])
        try:
            client = clients.get(provider, idp.client_secret(provider, box))
            claims = await client.finish(
                code=params["code"],
                redirect_uri=redirect_uri(settings, slug),
                code_verifier=pending.code_verifier,
                nonce=pending.nonce,
            )
        except SecretError:
            return refuse(slug, "provider", 503, "client secret does not open")
        except InvalidIdToken as exc:
            return refuse(slug, "token", 403, str(exc))
        except OidcError as exc:
            return refuse(slug, "provider", 403, str(exc))
        try:
            person = await idp.match_person(tenant, provider, claims)
        except idp.SignInRefused as exc:
            return refuse(slug, exc.reason, 403, str(exc))
        try:
            tokens = await start_session(tenant, person, settings, method="oidc")
        except DomainError as exc:  # deactivated between the match and the session
            return refuse(slug, idp.INACTIVE_PERSON, 403, str(exc))
        fragment = urlencode({"token": tokens.access_token, "refresh_token": tokens.refresh_token})
        target = provider.return_url or "/graphql"
        response = RedirectResponse(f"{target}#{fragment}", status_code=303)
        response.delete_cookie(STATE_COOKIE, path=f"/auth/{slug}/oidc")
        response.headers["Cache-Control"] = "no-store"
        log.info("single sign-on for %s: person %s signed in", slug, person.id)
        return response

    return [
        Route("/auth/{tenant}/oidc/login", login, methods=["GET"]),
        Route("/auth/{tenant}/oidc/callback", callback, methods=["GET"]),
    ]
