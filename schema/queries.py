"""Read side of the API: the goal tree, lookups and paginated lists."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry import relay

from ..core import models
from ..core.errors import DomainError, ErrorCode
from ..core.graph import load_goal_graph
from ..core.i18n import msg
from ..core.scoring.graph_scores import graph_progress, score_graph
from .access_key_queries import AccessKeyQueries
from .context import Info
from .ids import decode, decode_optional
from .insight_queries import InsightQueries
from .mutations.identity_providers import IdentityProviderQueries
from .org_queries import OrgQueries
from .pack_queries import PackQueries
from .pagination import Connection, paginate
from .score_queries import ScoreQueries, SimulationQueries
from .sync_queries import SyncQueries
from .tree import LoadedTree, TreeView
from .types.enums import GoalStatus
from .types.goals import GoalNode, KeyResult, Kpi, Measurement, Objective
from .types.org import Cycle, OrgUnit, Person, Tenant, Viewer

#: Concrete types ``node(id:)`` resolves.
NODE_TYPES = frozenset(
    {
        "Objective",
        "KeyResult",
        "Kpi",
        "Measurement",
        "OrgUnit",
        "Person",
        "Cycle",
        "DataBinding",
        "SyncRun",
    }
)


def _status(status: GoalStatus | None) -> GoalStatus:
    return status if status is not None else GoalStatus.ACTIVE


@strawberry.type
class Query(
    PackQueries,
    ScoreQueries,
    SimulationQueries,
    SyncQueries,
    InsightQueries,
    OrgQueries,
    AccessKeyQueries,
    IdentityProviderQueries,
):
    @strawberry.field(description="Any object by its global id; null if not yours or absent.")
    async def node(self, info: Info, id: relay.GlobalID) -> relay.Node | None:
        info.context.scope  # noqa: B018 - unauthenticated callers get the 401 error
        if id.type_name not in NODE_TYPES:
            return None  # unknown or abstract (an interface): nothing has that id
        return await id.resolve_node(info, required=False)

    @strawberry.field(description="The caller: tenant, person and role.")
    def viewer(self, info: Info) -> Viewer:
        scope = info.context.scope
        person = scope.actor.person
        return Viewer(
            tenant=Tenant.from_row(scope.tenant),
            role=scope.role,
            person=Person.from_row(person) if person else None,
            token_expires_at=scope.identity.expires_at,
        )

    @strawberry.field(description="The caller's tenant: stage and weightings.")
    def tenant(self, info: Info) -> Tenant:
        return Tenant.from_row(info.context.scope.tenant)

    @strawberry.field(
        description="The nested goal graph: objectives, aligned objectives, key results and "
        "the KPIs feeding them. Without rootId, the tenant's top-level objectives "
        "(of cycleId, if given). depth counts node levels (1 = the roots alone)."
    )
    async def goal_tree(
        self,
        info: Info,
        root_id: relay.GlobalID | None = None,
        cycle_id: relay.GlobalID | None = None,
        depth: int | None = None,
    ) -> list[GoalNode]:
        scope = info.context.scope
        if depth is not None and depth < 1:
            raise DomainError.single(ErrorCode.OUT_OF_RANGE, msg("error.depth_min"), "depth")
        root = decode_optional(root_id, "Objective", "rootId")
        cycle = decode_optional(cycle_id, "Cycle", "cycleId")
        graph = await load_goal_graph(scope, [root] if root is not None else None, cycle)
        owners = await info.context.loaders.prime_graph(graph)
        policies = (await info.context.tenant_packs()).scoring_policy
        scores = await score_graph(scope, graph, policies)
        tree = LoadedTree.build(graph, graph_progress(graph), scores, owners, policies)
        view = TreeView(tree, depth)
        return [Objective.from_row(graph.objectives[r], view) for r in graph.roots]

    @strawberry.field
    async def objective(self, info: Info, id: relay.GlobalID) -> Objective | None:
        row = await info.context.loaders.objective.load(decode(id, "Objective", "id"))
        return Objective.from_row(row) if row else None

    @strawberry.field
    async def key_result(self, info: Info, id: relay.GlobalID) -> KeyResult | None:
        row = await info.context.loaders.key_result.load(decode(id, "KeyResult", "id"))
        return KeyResult.from_row(row) if row else None

    @strawberry.field
    async def kpi(self, info: Info, id: relay.GlobalID) -> Kpi | None:
        row = await info.context.loaders.kpi.load(decode(id, "Kpi", "id"))
        return Kpi.from_row(row) if row else None

    @strawberry.field
    async def org_unit(self, info: Info, id: relay.GlobalID) -> OrgUnit | None:
        row = await info.context.loaders.org_unit.load(decode(id, "OrgUnit", "id"))
        return OrgUnit.from_row(row) if row else None

    @strawberry.field(description="Cycles, newest first is up to the client: ordered by id.")
    async def cycles(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        include_closed: bool = True,
    ) -> Connection[Cycle]:
        qs = info.context.scope.query(models.Cycle)
        qs = qs if include_closed else qs.filter(closed_at__isnull=True)
        return await paginate(qs, Cycle.from_row, first, after)

    @strawberry.field(description="Objectives, filtered by cycle, owner or status.")
    async def objectives(
        self,
        info: Info,
        cycle_id: relay.GlobalID | None = None,
        owner_unit_id: relay.GlobalID | None = None,
        owner_person_id: relay.GlobalID | None = None,
        status: GoalStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Objective]:
        qs = info.context.scope.query(models.Objective).filter(status=_status(status))
        if cycle_id is not None:
            qs = qs.filter(cycle_id=decode(cycle_id, "Cycle", "cycleId"))
        if owner_unit_id is not None:
            qs = qs.filter(owner_unit_id=decode(owner_unit_id, "OrgUnit", "ownerUnitId"))
        if owner_person_id is not None:
            qs = qs.filter(owner_person_id=decode(owner_person_id, "Person", "ownerPersonId"))
        return await paginate(qs, Objective.from_row, first, after)

    @strawberry.field(description="Key results, optionally of one objective.")
    async def key_results(
        self,
        info: Info,
        objective_id: relay.GlobalID | None = None,
        status: GoalStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[KeyResult]:
        qs = info.context.scope.query(models.KeyResult).filter(status=_status(status))
        if objective_id is not None:
            qs = qs.filter(objective_id=decode(objective_id, "Objective", "objectiveId"))
        return await paginate(qs, KeyResult.from_row, first, after)

    @strawberry.field(description="KPIs, filtered by owner, metric code or status.")
    async def kpis(
        self,
        info: Info,
        owner_unit_id: relay.GlobalID | None = None,
        owner_person_id: relay.GlobalID | None = None,
        metric_code: str | None = None,
        status: GoalStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Kpi]:
        qs = info.context.scope.query(models.Kpi).filter(status=_status(status))
        if owner_unit_id is not None:
            qs = qs.filter(owner_unit_id=decode(owner_unit_id, "OrgUnit", "ownerUnitId"))
        if owner_person_id is not None:
            qs = qs.filter(owner_person_id=decode(owner_person_id, "Person", "ownerPersonId"))
        if metric_code is not None:
            qs = qs.filter(metric_code=metric_code)
        return await paginate(qs, Kpi.from_row, first, after)

    @strawberry.field(description="A KPI's measurements in a date range (empty if not visible).")
    async def measurements(
        self,
        info: Info,
        kpi_id: relay.GlobalID,
        since: date | None = None,
        until: date | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Measurement]:
        scope = info.context.scope
        kpi = await scope.get(models.Kpi, decode(kpi_id, "Kpi", "kpiId"), "kpiId")
        qs = scope.query(models.Measurement).filter(kpi_id=kpi.id)
        visible = await info.context.loaders.values_visible.load(
            (kpi.owner_unit_id, kpi.owner_person_id)
        )
        if not visible:
            qs = qs.filter(id__lt=0)
        if since is not None:
            qs = qs.filter(period_start__gte=since)
        if until is not None:
            qs = qs.filter(period_start__lte=until)
        return await paginate(qs, Measurement.from_row, first, after)
