"""A real OpenID Connect provider on 127.0.0.1 for the single sign-on tests, built on
authlib's server side (``AuthorizationServer``, ``AuthorizationCodeGrant``, the
``CodeChallenge`` PKCE extension and the ``OpenIDCode`` extension) on a small aiohttp
app: discovery, a JWKS with an RSA key, an authorization endpoint that approves the
configured user at once (no login form: the test decides who is signed in), and a token
endpoint that authenticates the client, checks the PKCE verifier, uses each code once
and signs the ID token.

Knobs for the refusal tests: ``user`` (the claims of who signs in), ``audience`` (the ID
token's ``aud``, normally the client id), ``id_token_age`` (seconds the ID token
expired ago, 0 for a fresh one).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiohttp import web
from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin, OpenIDCode, UserInfo
from joserfc.jwk import KeySet, RSAKey


@dataclass
class Client(ClientMixin):
    client_id: str
    #: kept out of the repr, which authlib's server logs at DEBUG
    client_secret: str = field(repr=False)
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        allowed = {"openid", "email", "profile"}
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in {"client_secret_basic", "client_secret_post"}

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: dict[str, Any]
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str] | None:
        return None


class Request(OAuth2Request):
    def __init__(
        self, method: str, uri: str, headers: Any, args: dict[str, str], form: dict[str, str]
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self._args, self._form = args, form
        self.payload = BasicOAuth2Payload({**args, **form})

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class OidcProvider:
    """The provider's state and its aiohttp app; ``start()`` serves it on 127.0.0.1."""

    def __init__(self, client_id: str, client_secret: str, redirect_uris: list[str]) -> None:
        self.client = Client(client_id, client_secret, redirect_uris)
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"})
        self.codes: dict[str, Code] = {}
        self.user: dict[str, Any] = {"sub": "u-1", "email": "", "name": ""}
        self.audience: str | None = None
        self.id_token_age = 0
        #: What each authorization request and token request carried (for assertions).
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.issuer = ""
        self._runner: web.AppRunner | None = None
        self.server = self._server()

    # -- authlib's server, wired to this provider ------------------------------------

    def _server(self) -> AuthorizationServer:
        provider = self

        class Server(AuthorizationServer):
            def query_client(self, client_id: str) -> Client | None:
                return provider.client if client_id == provider.client.client_id else None

            def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
                return None

            def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
                return None

            def create_oauth2_request(self, request: Any) -> OAuth2Request:
                assert isinstance(request, OAuth2Request)
                return request

            def handle_response(self, status: int, body: Any, headers: Any) -> web.Response:
                if isinstance(body, dict):
                    plain = {k: v for k, v in headers if k.lower() != "content-type"}
                    return web.json_response(body, status=status, headers=plain)
                return web.Response(status=status, text=body or "", headers=dict(headers))

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = [
                "client_secret_basic",
                "client_secret_post",
            ]

            def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
                data = request.payload.data
                provider.codes[code] = Code(
                    code=code,
                    client_id=request.client.get_client_id(),
                    redirect_uri=data.get("redirect_uri", ""),
                    scope=request.scope or "",
                    user=dict(request.user),
                    nonce=data.get("nonce"),
                    code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                )

            def query_authorization_code(self, code: str, client: Client) -> Code | None:
                found = provider.codes.get(code)
                if found is not None and found.client_id == client.client_id:
                    return found
                return None

            def delete_authorization_code(self, authorization_code: Code) -> None:
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: Code) -> dict[str, Any]:
                return authorization_code.user

        class Pkce(CodeChallenge):
            SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

            def get_authorization_code_challenge(self, authorization_code: Code) -> str | None:
                return authorization_code.code_challenge

            def get_authorization_code_challenge_method(
                self, authorization_code: Code
            ) -> str | None:
                return authorization_code.code_challenge_method

        class IdToken(OpenIDCode):
            def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
                return any(c.nonce == nonce for c in provider.codes.values())

            def resolve_client_private_key(self, client: Client) -> KeySet:
                return KeySet([provider.key])

            def get_client_algorithm(self, client: Client) -> str:
                return "RS256"

            def get_encode_header(self, client: Client) -> dict[str, str]:
                return {"alg": "RS256", "kid": "test-key"}

            def get_client_claims(self, client: Client) -> dict[str, Any]:
                now = int(time.time()) - provider.id_token_age
                expires = now + 300 if not provider.id_token_age else now
                return {
                    "iss": provider.issuer,
                    "aud": [provider.audience or client.get_client_id()],
                    "iat": now - 1 if provider.id_token_age else now,
                    "exp": expires,
                }

            def generate_user_info(self, user: dict[str, Any], scope: str) -> UserInfo:
                return UserInfo(user)

        server = Server()
        server.register_token_generator("default", BearerTokenGenerator(self._access_token))
        server.register_grant(CodeGrant, [Pkce(required=True), IdToken(require_nonce=True)])
        return server

    @staticmethod
    def _access_token(client: Client, grant_type: str, user: Any, scope: str) -> str:
        return secrets.token_urlsafe(24)

    # -- HTTP ------------------------------------------------------------------------

    async def _request(self, request: web.Request) -> Request:
        form = dict(await request.post()) if request.method == "POST" else {}
        return Request(
            request.method,
            f"{self.issuer}{request.path_qs}",
            dict(request.headers),
            dict(request.query),
            {k: str(v) for k, v in form.items()},
        )

    async def discovery(self, _: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "scopes_supported": ["openid", "email", "profile"],
            }
        )

    async def jwks(self, _: web.Request) -> web.Response:
        return web.json_response(KeySet([self.key]).as_dict(private=False))

    async def authorize(self, request: web.Request) -> web.Response:
        oauth_request = await self._request(request)
        self.authorize_requests.append(dict(request.query))
        grant = self.server.get_consent_grant(oauth_request, end_user=self.user)
        response: web.Response = self.server.create_authorization_response(
            oauth_request, grant_user=self.user, grant=grant
        )
        return response

    async def token(self, request: web.Request) -> web.Response:
        oauth_request = await self._request(request)
        self.token_requests.append(dict(oauth_request.form))
        response: web.Response = self.server.create_token_response(oauth_request)
        return response

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self.discovery)
        app.router.add_get("/jwks", self.jwks)
        app.router.add_get("/authorize", self.authorize)
        app.router.add_post("/token", self.token)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.issuer = f"http://127.0.0.1:{port}"
        return self.issuer

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
