"""Live updates over GraphQL subscriptions (graphql-transport-ws only).

A websocket signs in once, with the token in its ``connection_init`` payload; the
connection is refused without a valid one, so no operation ever runs unsigned. Its
context then holds that token's tenant scope for the connection's life, and every
subscription listens to that tenant's events only (``core/events.py``).

Events name ids, never values: on each one a subscription reads what it shows fresh
from the database through the caller's scope, so a subscriber sees committed values
only, and only those its role may see.

A ``RESYNC`` event (the bus may have missed events: its listening connection came back,
or an event was too large to send) is passed on as ``resync: true``, the client's cue to
refetch what it shows rather than trust that it saw every change.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import strawberry
from starlette.websockets import WebSocket
from strawberry import relay
from strawberry.exceptions import ConnectionRejectionError
from strawberry.extensions import SchemaExtension
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage

from ..core import events, metrics, models
from ..core.enums import Role
from ..core.errors import AuthError
from ..core.graph import GoalGraph, load_goal_graph
from ..core.i18n import current_locale, msg, text
from ..core.identity import bearer_token
from ..core.insights.visibility import can_see_alert
from ..core.progress import kpi_progress
from ..core.ratelimit import LocalBucket, Rule
from ..core.scoring.graph_scores import graph_progress, score_graph
from ..core.scoring.resolve import explain_value
from ..core.tenancy import TenantScope
from .context import Context, Info
from .ids import decode, encode
from .tree import LoadedTree, TreeView
from .types.goals import GoalNode, KeyResult, Kpi, Objective

# --- signing a connection in -------------------------------------------------------


def connection_token(params: Mapping[str, object] | None) -> str:
    """The token of a ``connection_init`` payload: ``Authorization: Bearer <token>``
    (either case), or a bare ``token``; raises ``AuthError`` when there is none."""
    params = params or {}
    for key in ("Authorization", "authorization"):
        value = params.get(key)
        if isinstance(value, str):
            return bearer_token(value)
    token = params.get("token")
    if isinstance(token, str) and token.strip():
        return token.strip()
    raise AuthError(msg("auth.connection_init_token"))


async def authenticate_connection(context: Context) -> None:
    """Sign the websocket in with its ``connection_init`` token, or refuse it.

    Refusing closes the socket (4403) before ``connection_ack``; strawberry then
    closes any ``subscribe`` sent anyway (4401), so no resolver runs without a scope.
    """
    try:
        await context.sign_in(connection_token(context.connection_params))
    except AuthError as exc:
        # in the language of the upgrade request (its Accept-Language), as no token is good
        message = text(exc.message, context.locale)
        raise ConnectionRejectionError({"message": message}) from exc


#: Why a websocket that sends subscribe messages too fast is closed (code 4429).
TOO_MANY_SUBSCRIBES = "Too many subscribe messages: slow down"


class LimitedTransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with subscribe messages rate-limited per connection.

    The operations a connection may run at once are capped by strawberry itself (the
    view's ``max_subscriptions_per_connection``, answered with an ``error`` message);
    this bucket stops a client that opens and completes subscriptions in a loop, each
    of which costs a query of its root. Past it the connection is closed with 4429, as
    the protocol closes a second ``connection_init``. Each subscription is also charged
    to the caller's and the tenant's rate limits when it starts, as any operation is.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = self.context.settings
        self.subscribes = LocalBucket(Rule(settings.ws_subscribe_rate, settings.ws_subscribe_burst))

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and self.subscribes.take() > 0:
            await self.websocket.close(code=4429, reason=TOO_MANY_SUBSCRIBES)
            return
        await super().handle_subscribe(message)


class FreshReads(SchemaExtension):
    """Each operation on a websocket reads the database afresh: the connection's
    context (and its loaders' caches) outlives the operations sent over it."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context) and isinstance(context.request, WebSocket):
            context.forget_loaded()
            # the connection's language (its token's, its person's, its upgrade
            # request's), whichever task graphql-core runs this operation in
            current_locale.set(context.locale)
        yield


# --- goalProgress ------------------------------------------------------------------


@strawberry.type(description="One changed goal with its progress and score as now stored.")
class GoalChange:
    node: GoalNode
    progress: float | None = strawberry.field(
        description="As GoalNode.progress (null for a KPI whose values are hidden)."
    )
    score: float | None = strawberry.field(
        description="As GoalNode.score (null for a KPI whose values are hidden)."
    )


@strawberry.type(description="What one committed write changed under a subscribed root.")
class GoalProgress:
    changes: list[GoalChange] = strawberry.field(
        description="The changed goals of the subtree: KPIs, key results, then objectives "
        "from the bottom up to the root."
    )
    weighting_changed: bool = strawberry.field(
        description="The lifecycle stage or an OKR/KPI weighting changed: scorecards weigh "
        "differently from now on (node progress and grades do not include the shares)."
    )
    resync: bool = strawberry.field(
        default=False,
        description="Changes may have been missed (the server's live-update connection "
        "was interrupted, or a change was too large to describe): refetch the tree. "
        "Sent with no changes.",
    )


def _ids(value: object) -> set[int]:
    return {i for i in value if isinstance(i, int)} if isinstance(value, list) else set()


def _touched(
    graph: GoalGraph, kpi_ids: set[int], key_result_ids: set[int]
) -> tuple[list[int], list[int], list[int]]:
    """The KPIs, key results and objectives of ``graph`` whose numbers a change of
    ``kpi_ids`` and ``key_result_ids`` moves: those, what they feed, and every
    objective above up to the root."""
    kpis = sorted(kpi_ids & graph.kpis.keys())
    key_results = key_result_ids & graph.key_results.keys()
    key_results |= {
        link.key_result_id
        for links in graph.links_of.values()
        for link in links
        if link.kpi_id in kpi_ids
    }
    objectives: set[int] = set()
    for key_result in key_results:
        objective: int | None = graph.key_results[key_result].objective_id
        while (
            objective is not None and objective in graph.objectives and objective not in objectives
        ):
            objectives.add(objective)
            objective = graph.objectives[objective].parent_id
    bottom_up = sorted(objectives, key=lambda o: (-graph.objectives[o].depth, o))
    return kpis, sorted(key_results), bottom_up


def _objective_change(tree: LoadedTree, view: TreeView, row: models.Objective) -> GoalChange:
    scores = tree.scores.get(row.cycle_id)
    return GoalChange(
        node=Objective.from_row(row, view),
        progress=tree.progress.objectives.get(row.id),
        score=scores.objectives.get(row.id) if scores else None,
    )


def _key_result_change(tree: LoadedTree, view: TreeView, row: models.KeyResult) -> GoalChange:
    scores = tree.scores.get(tree.graph.objectives[row.objective_id].cycle_id)
    return GoalChange(
        node=KeyResult.from_row(row, view),
        progress=tree.progress.key_results.get(row.id),
        score=scores.key_results.get(row.id) if scores else None,
    )


def _kpi_change(tree: LoadedTree, view: TreeView, row: models.Kpi) -> GoalChange:
    """A KPI's numbers only for callers who may see its values (as ``Kpi`` answers)."""
    node = Kpi.from_row(row, view)
    if not tree.visible.get((row.owner_unit_id, row.owner_person_id), False):
        return GoalChange(node=node, progress=None, score=None)
    explanation, _ = explain_value(row, row.current_value, tree.policies)
    return GoalChange(
        node=node,
        progress=kpi_progress(row),
        score=explanation.score if explanation else None,
    )


async def progress_update(
    context: Context, root_id: int, event: events.Event
) -> GoalProgress | None:
    """The changes ``event`` made under ``root_id``, read fresh; None if it touched
    nothing there. A constant number of queries: the subtree, its owners and
    visibility, the tenant's packs, its cycles' stored scores."""
    weighting = event.payload.get("weighting") is True
    context.forget_loaded()
    scope = context.scope
    graph = await load_goal_graph(scope, [root_id])
    kpis, key_results, objectives = _touched(
        graph, _ids(event.payload.get("kpis")), _ids(event.payload.get("key_results"))
    )
    if not (kpis or key_results or objectives or weighting):
        return None
    owners = await context.loaders.prime_graph(graph)
    policies = await context.scoring_policies()
    scores = await score_graph(scope, graph, policies)
    tree = LoadedTree.build(graph, graph_progress(graph), scores, owners, policies)
    view = TreeView(tree)
    changes = [_kpi_change(tree, view, graph.kpis[k]) for k in kpis]
    changes += [_key_result_change(tree, view, graph.key_results[k]) for k in key_results]
    changes += [_objective_change(tree, view, graph.objectives[o]) for o in objectives]
    return GoalProgress(changes=changes, weighting_changed=weighting)


# --- alerts ------------------------------------------------------------------------


@strawberry.type(description="A new alert the caller may see; load it by id for its details.")
class AlertEvent:
    alert_id: strawberry.ID | None = strawberry.field(
        description="The new alert; null on a resync, which names no alert."
    )
    kind: str = strawberry.field(description="The alert's kind; `resync` on a resync.")
    resync: bool = strawberry.field(
        default=False,
        description="Alerts may have been missed (the server's live-update connection "
        "was interrupted, or a change was too large to describe): refetch the alerts.",
    )


#: What a resync tells an ``alerts`` subscriber.
ALERTS_RESYNC = AlertEvent(alert_id=None, kind=events.RESYNC, resync=True)


def visible_alert(scope: TenantScope, payload: Mapping[str, Any]) -> bool:
    """Whether the caller may see the alert an event announces, by the same rule as the
    ``alerts`` query: the payload says whom it concerns (``owner_unit_path``, the org
    path of the KPI's owner, and ``owner_person_id`` for an individual's KPI)."""
    owner_path = payload.get("owner_unit_path")
    person = payload.get("owner_person_id")
    if not isinstance(owner_path, str):
        return scope.role in (Role.ADMIN, Role.CONSULTANT)
    return can_see_alert(scope, owner_path, person if isinstance(person, int) else None)


def _alert_event(payload: Mapping[str, Any]) -> AlertEvent | None:
    alert_id = payload.get("alert_id")
    if not isinstance(alert_id, int):
        return None
    return AlertEvent(
        alert_id=strawberry.ID(str(encode("Alert", alert_id))), kind=str(payload.get("kind", ""))
    )


# --- the root type -----------------------------------------------------------------


def _expired(scope: TenantScope) -> bool:
    """A connection may outlive its token: its subscriptions end with the token."""
    expires = scope.identity.expires_at
    return expires is not None and expires <= datetime.now(UTC)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Progress and scores under rootId as they change: after each committed "
        "write that moves a goal of the subtree (or the weighting), its changed goals."
    )
    async def goal_progress(
        self, info: Info, root_id: relay.GlobalID
    ) -> AsyncGenerator[GoalProgress, None]:
        scope = info.context.scope
        root = await scope.get(models.Objective, decode(root_id, "Objective", "rootId"), "rootId")
        async with (
            metrics.subscription_active("goalProgress"),
            events.bus().subscribe(scope.tenant_id, [events.PROGRESS]) as stream,
        ):
            async for event in stream:
                if _expired(scope):
                    return
                if event.topic == events.RESYNC:
                    yield GoalProgress(changes=[], weighting_changed=False, resync=True)
                    continue
                update = await progress_update(info.context, root.id, event)
                if update is not None:
                    yield update

    @strawberry.subscription(description="New alerts within the caller's scope.")
    async def alerts(self, info: Info) -> AsyncGenerator[AlertEvent, None]:
        scope = info.context.scope
        async with (
            metrics.subscription_active("alerts"),
            events.bus().subscribe(scope.tenant_id, [events.ALERT]) as stream,
        ):
            async for event in stream:
                if _expired(scope):
                    return
                if event.topic == events.RESYNC:
                    yield ALERTS_RESYNC
                    continue
                alert = _alert_event(event.payload)
                if alert is not None and visible_alert(scope, event.payload):
                    yield alert
