"""What the Feishu, DingTalk and WeCom sign-in adapters share: the interface the routes
call, a fresh ``state`` (and a PKCE verifier where the provider takes one), where each
host is (the provider's public one, or the configured ``base_url`` serving them all),
and JSON calls whose failures become ``SignInError`` without a secret, code or token
in the message.

DingTalk's and WeCom's older APIs take the app secret, the app token and the code in
the query string; httpx2 logs each request's URL at INFO, so ``redact_client_logs``
cuts the query out of those lines."""

from __future__ import annotations

import hashlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import httpx2
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from ...core.identity_providers import ProviderIdentity
from ...core.models import IdentityProvider
from ..org_source import TokenCache

TIMEOUT_SECONDS = 10.0
#: The errcodes DingTalk's and WeCom's older APIs give for an invalid or expired app token.
EXPIRED_TOKEN = frozenset({40014, 42001})


class SignInError(Exception):
    """The identity provider's answer cannot be used (an error, a failed request)."""


@dataclass(frozen=True, slots=True)
class Authorization:
    """Where to send the browser, and what the callback needs to finish."""

    url: str
    state: str
    nonce: str
    code_verifier: str


class SignInClient(Protocol):
    """What the sign-in routes ask of a provider's client."""

    #: The query parameters the provider returns the code in, the first present wins.
    code_params: tuple[str, ...]

    async def authorization(self, redirect_uri: str) -> Authorization: ...

    async def identify(
        self, *, code: str, redirect_uri: str, nonce: str, code_verifier: str
    ) -> ProviderIdentity: ...


class VendorSignIn(ABC):
    """One provider configuration of a vendor (see the module docstring)."""

    vendor: ClassVar[str]
    #: The provider's public hosts by role; ``base_url`` replaces all of them.
    hosts: ClassVar[dict[str, str]]
    code_params: tuple[str, ...] = ("code",)
    #: Whether the provider takes a PKCE S256 challenge and verifier.
    pkce: ClassVar[bool] = False

    def __init__(self, provider: IdentityProvider, secret: str, tokens: TokenCache) -> None:
        self.provider = provider
        self.secret = secret
        self.tokens = tokens

    def public_host(self, host: str) -> str:
        return self.hosts[host]

    def url(self, host: str, path: str) -> str:
        """``path`` on the provider's ``host`` (a key of ``hosts``)."""
        base = self.provider.base_url or self.public_host(host)
        return f"{base.rstrip('/')}{path}"

    async def authorization(self, redirect_uri: str) -> Authorization:
        state = generate_token(43)
        verifier = generate_token(64) if self.pkce else ""
        challenge = create_s256_code_challenge(verifier) if self.pkce else ""
        url = self.authorize_url(redirect_uri, state, challenge)
        return Authorization(url, state, "", verifier)

    @abstractmethod
    def authorize_url(self, redirect_uri: str, state: str, code_challenge: str) -> str:
        """Where the browser signs in, in the provider's own parameter names."""

    @abstractmethod
    async def identify(
        self, *, code: str, redirect_uri: str, nonce: str, code_verifier: str
    ) -> ProviderIdentity:
        """Exchange ``code`` and ask the provider who signed in, and of which company."""

    # -- the app's own access token (DingTalk's userid lookup, WeCom) ------------------

    async def fetch_app_token(self, client: httpx2.AsyncClient) -> tuple[str, float]:
        """A new app access token and its lifetime in seconds."""
        raise NotImplementedError

    async def with_app_token(
        self,
        client: httpx2.AsyncClient,
        request: Callable[[str], Awaitable[dict[str, Any]]],
    ) -> dict[str, Any]:
        """``request`` made with the app's cached token, once more with a new token when
        the provider says the cached one expired."""
        key = self.token_key()
        for fresh in (False, True):
            token = None if fresh else self.tokens.get(key)
            if token is None:
                token, expires_in = await self.fetch_app_token(client)
                self.tokens.put(key, token, expires_in)
            body = await request(token)
            if body.get("errcode") not in EXPIRED_TOKEN:
                return body
            self.tokens.drop(key)
        return body

    def check_errcode(self, body: dict[str, Any], what: str) -> None:
        """Refuse an answer in the ``errcode``/``errmsg`` envelope that is not 0."""
        errcode = body.get("errcode")
        if errcode != 0:
            message = str(body.get("errmsg", ""))[:120]
            raise SignInError(f"{self.vendor}: {what} refused: errcode {errcode} {message}")

    def token_key(self) -> tuple[str, ...]:
        """The key of this app's access token in the token cache (never the secret)."""
        digest = hashlib.sha256(self.secret.encode()).hexdigest()[:16]
        return (self.vendor, self.url("api", ""), self.provider.client_id, digest)

    async def call(
        self, client: httpx2.AsyncClient, method: str, url: str, **kwargs: Any
    ) -> tuple[int, dict[str, Any]]:
        """The HTTP status and JSON object of a request; SignInError when it fails or
        the answer is not a JSON object."""
        try:
            response = await client.request(method, url, **kwargs)
        except httpx2.HTTPError as exc:
            raise SignInError(f"{self.vendor}: the request failed: {type(exc).__name__}") from exc
        try:
            body = response.json()
        except ValueError as exc:
            raise SignInError(
                f"{self.vendor}: HTTP {response.status_code} without a JSON body"
            ) from exc
        if not isinstance(body, dict):
            raise SignInError(f"{self.vendor}: HTTP {response.status_code}, not a JSON object")
        return response.status_code, body


class _RedactQuery(logging.Filter):
    """Cuts the query out of the URLs httpx2 logs (it logs ``request.url`` as an argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                f"{a.copy_with(query=None)}?…" if isinstance(a, httpx2.URL) and a.query else a
                for a in record.args
            )
        return True


_REDACT = _RedactQuery()


def redact_client_logs() -> None:
    """Keep secrets, tokens and codes sent in query strings out of httpx2's log lines."""
    client_log = logging.getLogger("httpx2")
    if _REDACT not in client_log.filters:
        client_log.addFilter(_REDACT)


def http_client() -> httpx2.AsyncClient:
    """A client for one sign-in's calls (no redirects followed, bounded time)."""
    return httpx2.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False)
