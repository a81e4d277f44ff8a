"""The pages behind invitation and password reset links: a small bilingual form
(zh-CN and English) that sets the person's password, served by the app itself with no
script and nothing from elsewhere.

``GET /auth/{tenant}/invite/{secret}`` and ``GET /auth/{tenant}/reset/{secret}`` show the
form when the link is usable (or why it is not); ``POST`` to the same address sets the
password and shows the result. The secret in the address is the only credential, so the
pages are never cached, send no referrer, and the server's access log shows the
address with the secret cut out.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from ..core import accounts
from ..core.errors import DomainError, ErrorCode

#: The secret of a link in a logged request line, cut out of the server's access log.
_LINK_SECRET = re.compile(r"(/auth/[^/\s]+/(?:invite|reset)/)[^/\s?\"]+")

_TITLES = {
    accounts.INVITATION: ("设置密码", "Set your password"),
    accounts.PASSWORD_RESET: ("重设密码", "Reset your password"),
}
_REFUSALS = {
    ErrorCode.NOT_FOUND: ("此链接无效。", "This link is not valid.", 404),
    ErrorCode.LINK_USED: ("此链接已被使用。", "This link has already been used.", 410),
    ErrorCode.LINK_EXPIRED: (
        "此链接已过期,请联系管理员重新发送。",
        "This link has expired: ask an admin for a new one.",
        410,
    ),
    ErrorCode.INACTIVE: ("此账号已停用。", "This person has been deactivated.", 410),
}
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}
_STYLE = (
    "body{font-family:system-ui,'PingFang SC','Microsoft YaHei',sans-serif;max-width:28rem;"
    "margin:3rem auto;padding:0 1rem;color:#222}label{display:block;margin:.8rem 0 .2rem}"
    "input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}"
    "button{margin-top:1rem;padding:.5rem 1.2rem;font-size:1rem}.en{color:#555}"
    ".error{color:#a00}"
)


class _RedactLinkSecrets(logging.Filter):
    """Cuts link secrets out of access log lines (uvicorn logs the request line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _LINK_SECRET.sub(r"\1…", a) if isinstance(a, str) else a for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = _LINK_SECRET.sub(r"\1…", record.msg)
        return True


_REDACT = _RedactLinkSecrets()


def _page(title: tuple[str, str], body: str, status: int = 200) -> HTMLResponse:
    zh, en = title
    html = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="referrer" content="no-referrer"><title>{zh} · {en}</title>'
        f"<style>{_STYLE}</style></head><body>"
        f'<h1>{zh} <span class="en" lang="en">{en}</span></h1>{body}</body></html>'
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _form(purpose: str, email: str, problems: list[str]) -> str:
    errors = "".join(f'<p class="error" lang="en">{escape(p)}</p>' for p in problems)
    return (
        f'<p>账号 <span lang="en">Account</span>: <b>{escape(email)}</b></p>{errors}'
        '<form method="post">'
        '<label for="password">新密码 <span class="en" lang="en">New password</span></label>'
        f'<input id="password" name="password" type="password" required '
        f'minlength="{accounts.MIN_LENGTH}" maxlength="{accounts.MAX_LENGTH}" '
        'autocomplete="new-password">'
        '<label for="confirm">再次输入 <span class="en" lang="en">Repeat it</span></label>'
        '<input id="confirm" name="confirm" type="password" required autocomplete="new-password">'
        f"<p>至少 {accounts.MIN_LENGTH} 个字符,可用一句话。"
        f'<br><span class="en" lang="en">At least {accounts.MIN_LENGTH} characters: a phrase '
        "of a few words works well.</span></p>"
        '<button type="submit">保存 <span lang="en">Save</span></button></form>'
    )


def _refusal(purpose: str, error: DomainError) -> HTMLResponse:
    zh, en, status = _REFUSALS.get(error.code, ("无法完成。", str(error), 400))
    body = f'<p class="error">{zh}<br><span lang="en">{escape(en)}</span></p>'
    return _page(_TITLES[purpose], body, status)


def _endpoint(purpose: str) -> Callable[[Request], Awaitable[HTMLResponse]]:
    async def page(request: Request) -> HTMLResponse:
        tenant = str(request.path_params["tenant"])
        secret = str(request.path_params["secret"])
        try:
            link = await accounts.open_link(secret, purpose, tenant)
        except DomainError as exc:
            return _refusal(purpose, exc)
        email = link.person.email
        if request.method == "GET":
            return _page(_TITLES[purpose], _form(purpose, email, []))
        form = await request.form()
        password, confirm = str(form.get("password", "")), str(form.get("confirm", ""))
        if password != confirm:
            body = _form(purpose, email, ["the two passwords differ · 两次输入的密码不一致"])
            return _page(_TITLES[purpose], body, 422)
        setter = (
            accounts.accept_invitation
            if purpose == accounts.INVITATION
            else (accounts.reset_password)
        )
        try:
            done = await setter(secret, password, tenant)
        except DomainError as exc:
            if exc.code is ErrorCode.WEAK_PASSWORD:
                body = _form(purpose, email, [p.text() for p in exc.problems])
                return _page(_TITLES[purpose], body, 422)
            return _refusal(purpose, exc)
        body = (
            "<p>密码已设置,现在可以用以下信息登录。<br>"
            '<span lang="en">Your password is set: sign in with</span></p>'
            f'<p>公司 <span lang="en">Company</span>: <b>{escape(done.tenant.slug)}</b><br>'
            f'邮箱 <span lang="en">Email</span>: <b>{escape(done.person.email)}</b></p>'
        )
        return _page(("完成", "Done"), body)

    return page


def signin_routes() -> list[Route]:
    """The link pages, to add to the app's routes."""
    access_log = logging.getLogger("uvicorn.access")
    if _REDACT not in access_log.filters:
        access_log.addFilter(_REDACT)
    return [
        Route(
            "/auth/{tenant}/invite/{secret}",
            _endpoint(accounts.INVITATION),
            methods=["GET", "POST"],
        ),
        Route(
            "/auth/{tenant}/reset/{secret}",
            _endpoint(accounts.PASSWORD_RESET),
            methods=["GET", "POST"],
        ),
    ]
