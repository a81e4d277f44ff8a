"""Sign-in through Feishu/Lark, DingTalk and WeCom: thin adapters beside the OpenID
Connect client (``adapters/oidc_client.py``), run by the same routes
(``adapters/oidc_routes.py``).

None of the three speaks OpenID Connect: no discovery, no ID token, no JWKS. Each
adapter supplies only what differs: the authorization URL with the provider's own
parameter names, the code exchange in its JSON shapes, and the identity call that
replaces ID token validation, returning who the provider vouches for and their company
(``core/identity_providers.ProviderIdentity``). State, single use, the cookie, the
company check, matching, just-in-time creation and the session stay in the routes and
``core/identity_providers.py``.
"""

from __future__ import annotations

from ...core import identity_providers as idp
from ...core.models import IdentityProvider
from ..org_source import TokenCache
from .base import Authorization, SignInClient, SignInError, VendorSignIn, redact_client_logs
from .dingtalk import DingTalkSignIn
from .feishu import FeishuSignIn
from .wecom import WeComSignIn

__all__ = [
    "Authorization",
    "SignInClient",
    "SignInError",
    "VendorSignIn",
    "redact_client_logs",
    "vendor_client",
]

_ADAPTERS: dict[str, type[VendorSignIn]] = {
    idp.FEISHU: FeishuSignIn,
    idp.DINGTALK: DingTalkSignIn,
    idp.WECOM: WeComSignIn,
}
#: App access tokens (DingTalk, WeCom) of the process, reused until shortly before expiry.
_TOKENS = TokenCache()


def vendor_client(provider: IdentityProvider, secret: str) -> VendorSignIn:
    """The adapter for ``provider`` (a Feishu, DingTalk or WeCom one) and its secret."""
    return _ADAPTERS[provider.kind](provider, secret, _TOKENS)
