"""The OpenID Connect client: goalgraph's edge towards a tenant's identity provider.

Everything spoken to the provider goes through authlib's Starlette client
(``StarletteOAuth2App``, on httpx2): discovery from ``{issuer}/.well-known/openid-configuration``,
the authorization URL with ``state``, ``nonce`` and a PKCE S256 challenge, the code
exchanged at the token endpoint with the code verifier and the client secret, and the
ID token verified against the provider's JWKS (signature, ``iss``, ``aud``, ``exp``,
``iat``, ``nonce``, ``at_hash``). authlib's own session storage is not used: the routes
keep state, nonce and verifier server-side (``core/identity_providers.begin_login``).

Discovery documents and key sets are cached per provider configuration for an hour; a
key id the cache does not know makes authlib fetch the key set again.
"""

from __future__ import annotations

import time
from typing import Any

from authlib.integrations.starlette_client import (
    OAuthError,
    StarletteIntegration,
    StarletteOAuth2App,
)
from joserfc.errors import JoseError

from ..core.identity_providers import ProviderIdentity
from ..core.models import IdentityProvider
from .signin.base import Authorization, SignInError

SCOPE = "openid email profile"
#: Seconds of clock difference tolerated on exp and iat.
LEEWAY = 60
#: How long a discovery document is trusted.
METADATA_SECONDS = 3600.0
TIMEOUT_SECONDS = 10.0


class OidcError(SignInError):
    """The identity provider's answer cannot be used (an error, a failed request)."""


class InvalidIdToken(OidcError):
    """The ID token fails a check: signature, issuer, audience, expiry or nonce."""


def discovery_url(issuer: str) -> str:
    return f"{issuer.rstrip('/')}/.well-known/openid-configuration"


class OidcClient:
    """authlib's client for one provider configuration."""

    code_params: tuple[str, ...] = ("code",)

    def __init__(self, provider: IdentityProvider, client_secret: str) -> None:
        self.issuer = provider.issuer.rstrip("/")
        self._app = StarletteOAuth2App(
            StarletteIntegration(f"oidc-{provider.tenant_id}"),
            name=f"oidc-{provider.tenant_id}",
            client_id=provider.client_id,
            client_secret=client_secret,
            server_metadata_url=discovery_url(self.issuer),
            client_kwargs={
                "scope": SCOPE,
                "code_challenge_method": "S256",
                "timeout": TIMEOUT_SECONDS,
            },
        )
        self.loaded_at = time.monotonic()

    async def _metadata(self) -> dict[str, Any]:
        try:
            metadata: dict[str, Any] = await self._app.load_server_metadata()
        except Exception as exc:  # any transport or JSON failure of the provider
            raise OidcError(f"discovery failed: {type(exc).__name__}") from exc
        # OpenID Connect Discovery 1.0, 4.3: the document must name the issuer asked for
        if str(metadata.get("issuer", "")).rstrip("/") != self.issuer:
            raise OidcError("the discovery document names another issuer")
        return metadata

    async def authorization(self, redirect_uri: str) -> Authorization:
        """A fresh authorization request (state, nonce and PKCE verifier made by authlib)."""
        await self._metadata()
        made = await self._app.create_authorization_url(redirect_uri)
        return Authorization(made["url"], made["state"], made["nonce"], made["code_verifier"])

    async def finish(
        self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> dict[str, Any]:
        """Exchange ``code`` and return the verified ID token's claims."""
        metadata = await self._metadata()
        try:
            token = await self._app.fetch_access_token(
                redirect_uri=redirect_uri, code=code, code_verifier=code_verifier
            )
        except OAuthError as exc:
            raise OidcError(f"the token request was refused: {exc.error}") from exc
        except Exception as exc:  # transport failures
            raise OidcError(f"the token request failed: {type(exc).__name__}") from exc
        if "id_token" not in token:
            raise InvalidIdToken("the identity provider returned no ID token")
        try:
            claims = await self._app.parse_id_token(
                token,
                nonce=nonce,
                claims_options={
                    "iss": {"essential": True, "values": [metadata["issuer"]]},
                    "aud": {"essential": True, "values": [self._app.client_id]},
                    "exp": {"essential": True},
                    "nonce": {"essential": True},
                },
                leeway=LEEWAY,
            )
        except (JoseError, ValueError, KeyError) as exc:
            raise InvalidIdToken(f"the ID token is not valid: {exc}") from exc
        except Exception as exc:  # the key set could not be fetched
            raise OidcError(f"the ID token could not be checked: {type(exc).__name__}") from exc
        return dict(claims)

    async def identify(
        self, *, code: str, redirect_uri: str, nonce: str, code_verifier: str
    ) -> ProviderIdentity:
        """The verified ID token's claims, as the sign-in routes take every provider's."""
        claims = await self.finish(
            code=code, redirect_uri=redirect_uri, code_verifier=code_verifier, nonce=nonce
        )
        return ProviderIdentity(claims=claims)


class OidcClients:
    """One client per provider configuration, kept while it is unchanged and fresh."""

    def __init__(self) -> None:
        self._clients: dict[tuple[int, int, str], OidcClient] = {}

    def get(self, provider: IdentityProvider, client_secret: str) -> OidcClient:
        key = (provider.tenant_id, provider.id, provider.updated_at.isoformat())
        client = self._clients.get(key)
        if client is None or time.monotonic() - client.loaded_at > METADATA_SECONDS:
            for old in [k for k in self._clients if k[0] == provider.tenant_id]:
                del self._clients[old]
            client = self._clients[key] = OidcClient(provider, client_secret)
        return client
