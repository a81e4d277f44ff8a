"""The per-request context: who is calling, their tenant scope and fresh loaders.

Built for every request in ``get_context`` so nothing (loader caches above all)
is shared between requests or tenants.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from ..adapters.syncer import Syncer
from ..core.access_keys import api_key_scope, is_api_key
from ..core.errors import AuthError, ErrorCode
from ..core.i18n import Msg, current_locale, msg, negotiate
from ..core.identity import bearer_token, read_token
from ..core.policy import PolicyLookup
from ..core.ratelimit import Caller, caller_of
from ..core.scoring.engine import CycleScores
from ..core.scoring.load import load_cycle
from ..core.scoring.store import stored_scores
from ..core.settings import Settings
from ..core.tenancy import TenantScope, open_scope
from ..plugins.manager import PackManager
from ..plugins.view import TenantPacks, tenant_packs
from .cost import QueryCost
from .errors import ApiError
from .loaders import Loaders


@dataclass
class Context:
    """What every resolver may use; ``scope`` raises unless the caller is signed in."""

    request: Request | WebSocket
    response: Response | WebSocket | None
    settings: Settings
    packs: PackManager
    syncer: Syncer | None = None
    auth_error: Msg | None = None
    #: The language of the caller's messages (``choose_locale``); also the contextvar's.
    locale: str = "en"
    #: A websocket's ``connection_init`` payload (strawberry sets it): its token.
    connection_params: dict[str, object] | None = None
    #: What the operation being executed costs (``schema/cost.py``), set before it runs.
    cost: QueryCost | None = None
    _scope: TenantScope | None = None
    _loaders: Loaders | None = field(default=None, repr=False)
    _tenant_packs: asyncio.Future[TenantPacks] | None = field(default=None, repr=False)
    _cycle_scores: dict[int, asyncio.Future[CycleScores]] = field(default_factory=dict, repr=False)

    @property
    def scope(self) -> TenantScope:
        if self._scope is None:
            if isinstance(self.response, Response):
                self.response.status_code = 401
            raise ApiError(
                ErrorCode.UNAUTHENTICATED, self.auth_error or msg("auth.not_authenticated")
            )
        return self._scope

    @property
    def signed_in(self) -> TenantScope | None:
        """The caller's scope, or None when they are not signed in (never raises)."""
        return self._scope

    @property
    def caller(self) -> Caller:
        """Who the rate limits charge: the signed-in identity (never the raw token),
        else the client's address."""
        client = self.request.client
        return caller_of(self._scope, client.host if client else None)

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders(self.scope)
        return self._loaders

    async def tenant_packs(self) -> TenantPacks:
        """The caller's tenant's view of the packs, loaded once per request even when
        many resolvers ask at the same moment (they share one pending load)."""
        if self._tenant_packs is None:
            self._tenant_packs = asyncio.ensure_future(tenant_packs(self.scope, self.packs))
        return await self._tenant_packs

    async def cycle_scores(self, cycle_id: int) -> CycleScores:
        """Every score of a cycle as stored, read once per request."""
        if cycle_id not in self._cycle_scores:
            self._cycle_scores[cycle_id] = asyncio.ensure_future(self._score(cycle_id))
        return await self._cycle_scores[cycle_id]

    async def _score(self, cycle_id: int) -> CycleScores:
        cycle = await self.loaders.cycle.load(cycle_id)
        if cycle is None:
            return CycleScores()
        packs = await self.tenant_packs()
        rows = await load_cycle(self.scope, cycle, values=False)
        return await stored_scores(self.scope, cycle, rows, packs.scoring_policy)

    async def scoring_policies(self) -> PolicyLookup:
        """The tenant's pack policies, through the request's shared pack view."""
        return (await self.tenant_packs()).scoring_policy

    def forget_tenant_packs(self) -> None:
        """Enablement changed during this request: load the view again next time."""
        self._tenant_packs = None

    def forget_loaded(self) -> None:
        """Drop every cached row: a websocket's context lives as long as its connection,
        and each operation or subscription event must read the database afresh."""
        self._loaders = None
        self._tenant_packs = None
        self._cycle_scores = {}

    async def sign_in(self, token: str) -> None:
        """Open the scope of ``token``'s tenant and identity, or raise ``AuthError``:
        an API key (``gg_…``) acts as its role with no person, anything else is a JWT."""
        self._scope = None
        if is_api_key(token):
            scope: TenantScope = await api_key_scope(token)
        else:
            scope = await open_scope(read_token(token, self.settings.secret))
        scope.policy_source = self.scoring_policies
        self._scope = scope
        self.auth_error = None
        self.choose_locale()

    def choose_locale(self) -> str:
        """The caller's language, most specific first: the token's ``locale`` claim, the
        person's own setting (loaded with them by ``open_scope``), ``Accept-Language``,
        the deployment's default. Set as the current locale, so every message of the
        rest of the request renders in it, and sent back as ``Content-Language``."""
        scope = self._scope
        person = scope.actor.person if scope is not None else None
        self.locale = (
            (scope.identity.locale if scope is not None else None)
            or (person.locale if person is not None else None)
            or negotiate(self.request.headers.get("accept-language"), self.settings.default_locale)
        )
        current_locale.set(self.locale)
        if isinstance(self.response, Response):
            self.response.headers["Content-Language"] = self.locale
        return self.locale


Info = StrawberryInfo[Context, None]


async def build_context(
    request: Request | WebSocket,
    response: Response | WebSocket | None,
    settings: Settings,
    packs: PackManager,
    syncer: Syncer | None = None,
) -> Context:
    """Verify the bearer token (if any) and open the caller's tenant scope.

    A websocket is signed in later, by the token of its ``connection_init`` message
    (browsers cannot set headers on a websocket), see ``schema/subscriptions.py``.
    """
    context = Context(
        request=request, response=response, settings=settings, packs=packs, syncer=syncer
    )
    context.choose_locale()
    if isinstance(request, WebSocket):
        context.auth_error = msg("auth.send_token_in_init")
        return context
    try:
        await context.sign_in(bearer_token(request.headers.get("authorization")))
    except AuthError as exc:
        context.auth_error = exc.message
    return context
