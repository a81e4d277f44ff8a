"""What an operation costs, computed from its validated document before anything runs.

Depth, alias and token limits bound the *text* of a document; none of them bounds what
answering it takes. ``{ people(first: 500) { edges { node { reports { reports {
reports { id } } } } } } }`` is short and shallow, and asks for millions of rows. So
every operation is costed first (``QueryCostLimit``), in the style of GitHub's node
limit, and refused above ``GOALGRAPH_MAX_QUERY_COST``:

- **Each field costs 1** for every object it is asked of, so the cost is an estimate of
  the values the answer holds. ``__typename`` too.
- **A list multiplies what is selected inside it** by how many items it may hold:
  the field's ``first`` argument (``first`` absent: the page a connection serves by
  default, ``DEFAULT_PAGE``; more than the field accepts: its cap, ``MAX_PAGE`` or the
  field's entry in ``PAGE_CAPS``), or else the bound declared for the field in
  ``BOUNDS``. A connection's ``first`` multiplies its ``edges``, not its ``totalCount``
  or ``pageInfo``. Nested lists multiply: 100 people × 50 reports × 50 reports.
- **The goal tree is priced by levels, not by paths.** ``goalTree`` loads a whole
  tree in a fixed number of queries, and every level of it is a set of goals of that
  one tree: a level can hold more goals than the level above (``TREE_FANOUT`` per goal)
  but never more than a tree holds (``TREE_NODES``). So the edges of the goal graph
  (``children``, ``keyResults``, ``childObjectives``, ``kpiLinks``, ``feeds``) grow the
  multiplier only up to that cap (or not at all, when the objects above are already
  more, as under ``objectives(first: 500)``): a seven-level tree query costs about
  seven levels of a full tree, where plain multiplication would price it at 10⁷ nodes.
  ``TREE_NODES`` is a price, not a size: a tenant's tree of 7,000 goals still answers,
  in the same few queries, and what the limit must stop is the multiplying.
- **Fragments are expanded** where they are spread, inline fragments included, and a
  field selected twice under one response key (directly and through a fragment) is
  counted once, as execution answers it once. ``@skip`` and ``@include`` are honoured
  with the operation's variables, and variables (with their defaults) give ``first``
  its value.
- **Introspection is cheap**: ``__schema`` and ``__type`` answer from the schema in
  memory, so their fields add up without multiplying (graphql-core's introspection
  query costs 220).
- A list of scalars or enums costs 1: it multiplies nothing, so it needs no bound.

A test walks the schema and fails on a list field (or a connection field) that has no
``first`` argument and no entry in ``BOUNDS``: a new list cannot go unpriced.

The cost is kept on the request's context (``Context.cost``, a ``QueryCost``) before
the operation runs, for whatever charges requests by their cost, and every answer
reports it in ``extensions.cost``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from strawberry.extensions import SchemaExtension

from ..core.errors import ErrorCode
from ..core.i18n import msg
from .errors import ApiError
from .pagination import DEFAULT_PAGE, MAX_PAGE

#: The default of ``GOALGRAPH_MAX_QUERY_COST``.
DEFAULT_MAX_COST = 100_000

#: How many goals one goal's level below may add (children, key results, KPI links).
TREE_FANOUT = 10
#: How many goals one level of a goal tree is priced at, at most.
TREE_NODES = 100

#: The message of a refused operation (``cost`` and ``maximum`` are filled in).


@dataclass(frozen=True, slots=True)
class Tree:
    """An edge of the goal graph: its items are goals of the same tree (see above)."""


@dataclass(frozen=True, slots=True)
class Argument:
    """As many items as an argument says (``days`` of measurements), at most ``cap``."""

    name: str
    cap: int


#: How many items a list may hold per object it is asked of.
Bound = int | Tree | Argument

TREE = Tree()
#: The problems a mutation reports about its input.
PROBLEMS = 20
#: Catalogues of the deployment or the tenant: packs, policies, stages, keys.
CATALOGUE = 100
#: People or units next to one person or unit: reports, sub-units, ancestors.
NEIGHBOURS = 50
#: Rows of a report or a feed over a tenant (alerts, rankings, disconnects).
REPORT = 500
#: Rows of one file or one write (a roster file, a batch of measurements).
BATCH = 1_000

#: Every list of objects without a ``first`` argument, keyed ``Type.field``: the one
#: place a list's bound is declared.
BOUNDS: dict[str, Bound] = {
    # the goal graph
    "Query.goalTree": TREE,
    "GoalNode.children": TREE,
    "Objective.children": TREE,
    "Objective.childObjectives": TREE,
    "Objective.keyResults": TREE,
    "KeyResult.children": TREE,
    "KeyResult.kpiLinks": TREE,
    "Kpi.feeds": TREE,
    "Kpi.children": 0,  # KPIs are leaves
    "Kpi.recentMeasurements": Argument("days", 366),
    "GoalProgress.changes": TREE_NODES,
    # org and people
    "OrgUnit.children": NEIGHBOURS,
    "OrgUnit.ancestors": NEIGHBOURS,
    "Person.reports": NEIGHBOURS,
    "Person.dottedLineManagers": NEIGHBOURS,
    # catalogues
    "Query.packs": CATALOGUE,
    "Query.kpiTemplates": CATALOGUE,
    "Query.okrTemplates": CATALOGUE,
    "Query.scoringPolicies": CATALOGUE,
    "Query.lifecycleStages": CATALOGUE,
    "Query.adapters": CATALOGUE,
    "Query.orgSources": CATALOGUE,
    "Query.dataBindings": CATALOGUE,
    "Query.scimCredentials": CATALOGUE,
    "Query.apiKeys": CATALOGUE,
    "Query.identityProviders": CATALOGUE,
    "DataAdapterInfo.metrics": CATALOGUE,
    "OkrTemplate.keyResults": CATALOGUE,
    "Tenant.weightings": CATALOGUE,
    # reports and insights
    "Query.ranking": REPORT,
    "Query.alerts": REPORT,
    "Query.recommendations": REPORT,
    "Query.adjustments": REPORT,
    "Query.disconnects": REPORT,
    "Query.trainingRecords": REPORT,
    "CrossReport.rows": REPORT,
    "CrossReport.disconnects": REPORT,
    "CrossReportRow.laggingKpis": PROBLEMS,
    "CrossReportRow.disconnects": PROBLEMS,
    "Scorecard.objectives": REPORT,
    "Scorecard.keyResults": REPORT,
    "Scorecard.kpis": REPORT,
    "WeightingSimulation.people": REPORT,
    "WeightingSimulation.units": REPORT,
    # what mutations answer
    "DeactivatePersonPayload.openGoals": REPORT,
    "RecordMeasurementsPayload.measurements": BATCH,
    "RollForwardPayload.objectives": BATCH,
    "RosterImportPayload.changes": BATCH,
    "RosterImportPayload.problems": BATCH,
    "RosterChange.fields": PROBLEMS,
    "AdjustmentPayload.errors": PROBLEMS,
    "CheckInPayload.errors": PROBLEMS,
    "CreateApiKeyPayload.errors": PROBLEMS,
    "CreateScimCredentialPayload.errors": PROBLEMS,
    "CyclePayload.errors": PROBLEMS,
    "DataBindingPayload.errors": PROBLEMS,
    "DeactivatePersonPayload.errors": PROBLEMS,
    "IdentityProviderPayload.errors": PROBLEMS,
    "IssuedLinkPayload.errors": PROBLEMS,
    "KeyResultPayload.errors": PROBLEMS,
    "KpiLinkPayload.errors": PROBLEMS,
    "KpiPayload.errors": PROBLEMS,
    "ObjectivePayload.errors": PROBLEMS,
    "OrgUnitPayload.errors": PROBLEMS,
    "PackPayload.errors": PROBLEMS,
    "PasswordSetPayload.errors": PROBLEMS,
    "PersonPayload.errors": PROBLEMS,
    "ReassignGoalsPayload.errors": PROBLEMS,
    "RecommendationPayload.errors": PROBLEMS,
    "RecordMeasurementsPayload.errors": BATCH,
    "RevokeApiKeyPayload.errors": PROBLEMS,
    "RevokeScimCredentialPayload.errors": PROBLEMS,
    "RollForwardPayload.errors": PROBLEMS,
    "RosterImportPayload.errors": PROBLEMS,
    "SessionPayload.errors": PROBLEMS,
    "SignOutPayload.errors": PROBLEMS,
    "SyncRunPayload.errors": PROBLEMS,
    "TenantPayload.errors": PROBLEMS,
    "UnlinkKpiPayload.errors": PROBLEMS,
}

#: Fields whose ``first`` accepts more than a connection's ``MAX_PAGE``.
PAGE_CAPS: dict[str, int] = {"SyncRun.rejectedRows": 1_000}

_INTROSPECTION = frozenset({"__schema", "__type"})


@dataclass(frozen=True, slots=True)
class QueryCost:
    """One operation's cost and the maximum it was held to; the request's context
    keeps it (``Context.cost``) for whatever charges requests by their cost."""

    requested: int
    maximum: int

    def as_extension(self) -> dict[str, int]:
        return {"requested": self.requested, "maximum": self.maximum}


class QueryTooCostly(ApiError):
    """The refusal of an operation above the maximum: the one error of its answer."""

    def __init__(self, cost: QueryCost) -> None:
        message = msg("limits.too_costly", cost=cost.requested, maximum=cost.maximum)
        super().__init__(ErrorCode.QUERY_TOO_COSTLY, message)
        self.extensions = {
            **(self.extensions or {}),
            "cost": cost.requested,
            "maxCost": cost.maximum,
        }


def is_list(field: GraphQLField) -> bool:
    return isinstance(get_nullable_type(field.type), GraphQLList)  # type: ignore[arg-type]


def is_connection(type_: GraphQLNamedType) -> bool:
    """A Relay connection: its ``edges`` are the page its field's ``first`` asks for."""
    return (
        isinstance(type_, GraphQLObjectType)
        and "edges" in type_.fields
        and "pageInfo" in type_.fields
    )


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: dict[str, Any] | None = None,
) -> int | None:
    """The cost of the operation ``operation_name`` names (or the only one), or None
    when there is no such operation or its variables do not fit (execution then
    reports it, and nothing would run anyway)."""
    operation = _operation(document, operation_name)
    if operation is None:
        return None
    root = schema.get_root_type(operation.operation)
    if root is None:
        return None
    values = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if not isinstance(values, VariableValues):
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return _Walk(schema, fragments, values).selections(root, (operation.selection_set,), 1, None)


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


#: Fields selected under one response key on one type, gathered from every selection
#: set of the place (fragments expanded).
_Grouped = dict[tuple[str, str], tuple[GraphQLNamedType, list[FieldNode]]]


class _Walk:
    """One costing of one operation; each place is costed once per multiplier, so a
    fragment spread in many places does not make costing itself expensive."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self._memo: dict[tuple[Any, ...], int] = {}

    def selections(
        self,
        parent: GraphQLNamedType,
        selection_sets: tuple[SelectionSetNode, ...],
        multiplier: int,
        page: int | None,
        introspection: bool = False,
    ) -> int:
        """The cost of the fields selected under ``parent`` by ``selection_sets``, each
        asked of ``multiplier`` objects; ``page``: the ``first`` of the connection
        field above, for its ``edges``."""
        key = (parent.name, tuple(map(id, selection_sets)), multiplier, page, introspection)
        found = self._memo.get(key)
        if found is None:
            grouped: _Grouped = {}
            for selection_set in selection_sets:
                self._gather(parent, selection_set, grouped, set())
            found = sum(
                self._field(owner, nodes, multiplier, page, introspection)
                for owner, nodes in grouped.values()
            )
            self._memo[key] = found
        return found

    def _gather(
        self,
        parent: GraphQLNamedType,
        selection_set: SelectionSetNode,
        grouped: _Grouped,
        spread: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                response_key = (selection.alias or selection.name).value
                entry = grouped.setdefault((parent.name, response_key), (parent, []))
                entry[1].append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                self._gather(inner or parent, selection.selection_set, grouped, spread)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spread:
                    continue
                spread.add(name)
                inner = self.schema.get_type(fragment.type_condition.name.value)
                self._gather(inner or parent, fragment.selection_set, grouped, spread)

    def _included(self, selection: Any) -> bool:
        for directive in selection.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                continue
            definition = GraphQLSkipDirective if name == "skip" else GraphQLIncludeDirective
            value = get_argument_values(definition, directive, self.variables)["if"]
            if (name == "skip") == bool(value):
                return False
        return True

    def _field(
        self,
        owner: GraphQLNamedType,
        nodes: list[FieldNode],
        multiplier: int,
        page: int | None,
        introspection: bool,
    ) -> int:
        name = nodes[0].name.value
        field = self._definition(owner, name)
        own = 1 if introspection else multiplier
        subs = tuple(n.selection_set for n in nodes if n.selection_set is not None)
        if field is None or not subs:
            return own
        inner = get_named_type(field.type)
        if introspection or name in _INTROSPECTION:
            return own + self.selections(inner, subs, 1, None, introspection=True)
        key = f"{owner.name}.{name}"
        arguments = get_argument_values(field, nodes[0], self.variables)
        if is_connection(inner):
            return own + self.selections(inner, subs, multiplier, _page(key, arguments))
        if is_list(field):
            items = _items(key, field, arguments, multiplier, page)
            return own + self.selections(inner, subs, items, None)
        return own + self.selections(inner, subs, multiplier, None)

    def _definition(self, owner: GraphQLNamedType, name: str) -> GraphQLField | None:
        if name == "__schema":
            return SchemaMetaFieldDef
        if name == "__type":
            return TypeMetaFieldDef
        if isinstance(owner, GraphQLObjectType | GraphQLInterfaceType):
            return owner.fields.get(name)
        return None


def _page(key: str, arguments: dict[str, Any]) -> int:
    """The items a ``first`` asks for: the default page when absent, the field's cap
    when above it (the field refuses it; the cost should not be the reason)."""
    first = arguments.get("first")
    if first is None:
        return DEFAULT_PAGE
    return max(0, min(int(first), PAGE_CAPS.get(key, MAX_PAGE)))


def _items(
    key: str, field: GraphQLField, arguments: dict[str, Any], multiplier: int, page: int | None
) -> int:
    """How many objects a list field asked of ``multiplier`` objects answers."""
    if "first" in field.args:
        return multiplier * _page(key, arguments)
    bound = BOUNDS.get(key)
    if isinstance(bound, Tree):
        return min(multiplier * TREE_FANOUT, max(multiplier, TREE_NODES))
    if isinstance(bound, Argument):
        value = arguments.get(bound.name)
        return multiplier * max(0, min(int(value if value is not None else bound.cap), bound.cap))
    if isinstance(bound, int):
        return multiplier * bound
    # a connection's edges, or a list the schema walk would have caught
    return multiplier * (page if page is not None else DEFAULT_PAGE)


def unbounded_lists(schema: GraphQLSchema) -> Iterator[str]:
    """``Type.field`` of every list of objects (or connection) with no ``first``
    argument and no declared bound: what the schema walk test refuses."""
    for type_ in schema.type_map.values():
        if type_.name.startswith("__") or not isinstance(
            type_, GraphQLObjectType | GraphQLInterfaceType
        ):
            continue
        for name, field in type_.fields.items():
            inner = get_named_type(field.type)
            key = f"{type_.name}.{name}"
            if "first" in field.args or key in BOUNDS:
                continue
            if is_connection(type_) and name == "edges":
                continue  # the page the connection's own field asks for with first
            if is_connection(inner) or (is_list(field) and not is_leaf_type(inner)):
                yield key


class QueryCostLimit(SchemaExtension):
    """Costs each operation once it is validated and refuses it above ``maximum``
    before anything runs; every answer reports its cost.

    The cost is computed in ``on_validate``, right after the validation cache (an
    earlier extension) has validated the document, so that extensions after this one
    (the rate limits of ``schema/view.py``) find it on the context. A refusal is then a
    pre-execution error: strawberry answers it with ``data: null`` and executes
    nothing, neither the query transaction nor the tree's fast path. Without the
    validation cache the document is costed in ``on_execute`` instead, before every
    later extension's ``on_execute``.
    """

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.cost: QueryCost | None = None

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        if execution.pre_execution_errors == []:  # validated, and valid
            refusal = self._costed()
            if refusal is not None:
                execution.pre_execution_errors = [refusal]
        yield

    def on_execute(self) -> Iterator[None]:
        if self.cost is None:
            refusal = self._costed()
            if refusal is not None:
                raise refusal
        yield

    def _costed(self) -> QueryTooCostly | None:
        """Cost the operation (kept on the context), and its refusal when too costly."""
        execution = self.execution_context
        document = execution.graphql_document
        if document is None:
            return None
        requested = operation_cost(
            execution.schema._schema, document, execution.operation_name, execution.variables
        )
        if requested is None:
            return None
        self.cost = QueryCost(requested, self.maximum)
        _remember(execution.context, self.cost)
        return QueryTooCostly(self.cost) if requested > self.maximum else None

    def get_results(self) -> dict[str, Any]:
        return {} if self.cost is None else {"cost": self.cost.as_extension()}


def _remember(context: Any, cost: QueryCost) -> None:
    """Keep the cost on the request's context; one without a ``cost`` attribute (a test's
    bare ``None``) is left alone."""
    if hasattr(context, "cost"):
        context.cost = cost
