"""``goalTree`` answered without a GraphQL executor per field, with the same answer.

A goal tree of 10,000 nodes is some 100,000 fields, and graphql-core spends far longer
resolving them one by one (an ``Info``, argument handling, an is-awaitable check and a
completion step each) than the answers cost. Inside a loaded tree every goal field
already answers synchronously from memory (``schema/tree.py``), so this module runs the
operation directly: strawberry still parses and validates the document, then
``TreeFastPath`` checks whether the operation is covered, calls the same ``goalTree``
resolver (after the same role check), and walks the selection over the objects it
returned, calling each field's own resolver and serialising each leaf with the schema's
own scalar and enum types. The walk replaces only graphql-core's per-field machinery;
every value comes from the code that standard execution would have called.

An operation is covered when it is a query with ``goalTree`` root fields, and every
field it selects below them, on every type it may meet, is a plain attribute or a
synchronous resolver without arguments or field extensions. Other root fields beside
the tree (a team's scorecard and ranking) are answered by standard execution of the
document without the tree, and the answers merged in the operation's order.
Anything else, and anything unexpected while answering (a resolver that returns an
awaitable, a null in a non-null place, an error), falls back to standard execution,
which then answers exactly as if this module did not exist. A differential test
compares the two paths over generated selections.
"""

from __future__ import annotations

import inspect
import logging
import types
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
)
from graphql.execution import ExecutionResult
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from strawberry import relay
from strawberry.extensions import SchemaExtension
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

from ..core.roles import matrix
from .context import Context
from .role_guard import refusal

log = logging.getLogger("goalgraph.fast_tree")

ROOT_FIELD = "goalTree"
_BACKREF = "strawberry-definition"

#: How a field's value is read from its parent object.
Getter = Callable[[Any, "_Info"], Any]
#: How a resolved value becomes its answer.
Complete = Callable[[Any], Any]
FieldNodes = tuple[FieldNode, ...]
#: The answer of one object type at one place: (response key, getter, completer).
Plan = list[tuple[str, Getter | None, Complete]]


class _Abort(Exception):
    """The fast path does not answer this operation: standard execution does."""


@dataclass(frozen=True, slots=True)
class _Info:
    """What tree resolvers read of ``info``: the request's context (a resolver reaching
    for anything else fails, and the operation falls back)."""

    context: Context


class TreeProjector:
    """Covering checks and field getters for one schema, built once per field."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self._getters: dict[tuple[str, str], Getter | None] = {}

    # -- what is covered ---------------------------------------------------------------

    def getter(self, parent: GraphQLObjectType, name: str) -> Getter | None:
        """How to read ``parent.name`` synchronously, or None when it cannot be."""
        key = (parent.name, name)
        if key not in self._getters:
            self._getters[key] = _build_getter(parent, parent.fields[name])
        return self._getters[key]

    def covers(
        self,
        selection_set: SelectionSetNode,
        parent: Any,
        fragments: dict[str, FragmentDefinitionNode],
        memo: dict[tuple[int, str], bool] | None = None,
    ) -> bool:
        """Whether every field selected under ``parent``, on every object type it may
        be, has a synchronous getter (fields on the way down included); each selection
        set is checked once per type (validation has already refused fragment cycles)."""
        memo = {} if memo is None else memo
        named = get_named_type(parent)
        key = (id(selection_set), named.name)
        if key not in memo:
            memo[key] = True  # a selection met again on the way down is being checked
            memo[key] = all(
                self._selection_covered(selection, named, fragments, memo)
                for selection in selection_set.selections
            )
        return memo[key]

    def _selection_covered(
        self,
        selection: Any,
        named: Any,
        fragments: dict[str, FragmentDefinitionNode],
        memo: dict[tuple[int, str], bool],
    ) -> bool:
        if isinstance(selection, FieldNode):
            return self._field_covered(selection, named, fragments, memo)
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            inner = self.schema.get_type(condition.name.value) if condition else named
            return inner is not None and self.covers(
                selection.selection_set, inner, fragments, memo
            )
        if isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            inner = fragment and self.schema.get_type(fragment.type_condition.name.value)
            return (
                fragment is not None
                and inner is not None
                and self.covers(fragment.selection_set, inner, fragments, memo)
            )
        return False

    def _field_covered(
        self,
        node: FieldNode,
        named: Any,
        fragments: dict[str, FragmentDefinitionNode],
        memo: dict[tuple[int, str], bool],
    ) -> bool:
        name = node.name.value
        if name == "__typename":
            return True
        if name.startswith("__"):
            return False
        for object_type in self._object_types(named):
            field = object_type.fields.get(name)
            if field is None:
                continue  # asked for on another type of the interface or union
            if self.getter(object_type, name) is None:
                return False
            if node.selection_set is not None and not self.covers(
                node.selection_set, field.type, fragments, memo
            ):
                return False
        return True

    def _object_types(self, named: Any) -> list[GraphQLObjectType]:
        if isinstance(named, GraphQLObjectType):
            return [named]
        if is_abstract_type(named):
            return list(self.schema.get_possible_types(named))
        return []

    # -- answering ---------------------------------------------------------------------

    def completer(self, run: _Run, type_: GraphQLOutputType, nodes: FieldNodes) -> Complete:
        """How to turn a resolved value of ``type_`` into its JSON answer, built once
        per place in the selection; it raises ``_Abort`` where standard execution
        would report an error (a null in a non-null place) or have to await."""
        if isinstance(type_, GraphQLNonNull):
            inner = self.completer(run, type_.of_type, nodes)

            def non_null(value: Any) -> Any:
                completed = inner(value)
                if completed is None:
                    raise _Abort
                return completed

            return non_null
        if isinstance(type_, GraphQLList):
            item = self.completer(run, type_.of_type, nodes)

            def items(value: Any) -> Any:
                if value is None:
                    return None
                _settled(value)
                return [item(v) for v in value]

            return items
        if is_leaf_type(type_):
            serialize = type_.serialize  # type: ignore[union-attr]

            def leaf(value: Any) -> Any:
                if value is None:
                    return None
                _settled(value)
                serialized = serialize(value)
                if serialized is None:
                    raise _Abort
                return serialized

            return leaf
        if isinstance(type_, GraphQLObjectType):
            object_type = type_

            def known(value: Any) -> Any:
                if value is None:
                    return None
                _settled(value)
                return self._object(run, value, object_type, nodes)

            return known

        def abstract(value: Any) -> Any:
            if value is None:
                return None
            _settled(value)
            return self._object(run, value, self._runtime_type(type_, value), nodes)

        return abstract

    def _runtime_type(self, type_: GraphQLOutputType, value: Any) -> GraphQLObjectType:
        definition = getattr(type(value), "__strawberry_definition__", None)
        runtime = self.schema.get_type(definition.name) if definition is not None else None
        if not isinstance(runtime, GraphQLObjectType) or not self.schema.is_sub_type(
            type_,  # type: ignore[arg-type]
            runtime,
        ):
            raise _Abort
        return runtime

    def _object(
        self, run: _Run, obj: Any, object_type: GraphQLObjectType, nodes: FieldNodes
    ) -> dict[str, Any]:
        info = run.info
        out: dict[str, Any] = {}
        for key, getter, complete in run.plan(object_type, nodes):
            out[key] = object_type.name if getter is None else complete(getter(obj, info))
        return out

    def plan(self, run: _Run, object_type: GraphQLObjectType, nodes: FieldNodes) -> Plan:
        """What to answer for each response key of ``object_type`` under ``nodes``:
        the getter and completer of each field (no getter: ``__typename``)."""
        entries: Plan = []
        for key, field_nodes in run.collect(object_type, nodes).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                entries.append((key, None, _identity))
                continue
            getter = self.getter(object_type, name)
            if getter is None:
                raise _Abort
            field_type = object_type.fields[name].type
            entries.append((key, getter, self.completer(run, field_type, field_nodes)))
        return entries


#: Types whose values are never awaitable, learnt as they are met (a handful).
_SETTLED_TYPES: set[type] = {str, int, float, bool, list, tuple, dict}


def _settled(value: Any) -> None:
    """Refuse an awaitable: a resolver that must wait is standard execution's."""
    kind = type(value)
    if kind in _SETTLED_TYPES:
        return
    if inspect.isawaitable(value):
        if inspect.iscoroutine(value):
            value.close()
        raise _Abort
    if not hasattr(kind, "__await__") and not issubclass(kind, types.GeneratorType):
        _SETTLED_TYPES.add(kind)


def _identity(value: Any) -> Any:
    return value


def _build_getter(parent: GraphQLObjectType, field: GraphQLField) -> Getter | None:
    definition = (field.extensions or {}).get(_BACKREF)
    if not isinstance(definition, StrawberryField):
        return None
    if definition.extensions or definition.arguments:
        return None
    resolver = definition.base_resolver
    if resolver is None:
        attribute = definition.python_name
        return lambda obj, _info: getattr(obj, attribute)
    if definition.python_name == "_id" and _plain_node(parent):
        return _node_id_getter(parent.name)
    if resolver.is_async:
        return None
    func: Callable[..., Any] = resolver.wrapped_func  # type: ignore[assignment]
    takes_self = resolver.self_parameter is not None
    named: list[str] = [
        p.name
        for p in (resolver.root_parameter, resolver.parent_parameter)
        if p is not None  # type: ignore[misc]
    ]
    info_name = resolver.info_parameter.name if resolver.info_parameter else None

    def call(obj: Any, info: _Info) -> Any:
        kwargs: dict[str, Any] = dict.fromkeys(named, obj)
        if info_name is not None:
            kwargs[info_name] = info
        return func(obj, **kwargs) if takes_self else func(**kwargs)

    return call


def _plain_node(parent: GraphQLObjectType) -> bool:
    """Whether the node type's id is relay's default (its type name and id attribute)."""
    definition = (parent.extensions or {}).get(_BACKREF)
    origin = getattr(definition, "origin", None)
    if not (isinstance(origin, type) and issubclass(origin, relay.Node)):
        return False
    plain_id: Any = relay.Node.__dict__["resolve_id"]
    plain_typename: Any = relay.Node.__dict__["resolve_typename"]
    return _inherited(origin, "resolve_id", plain_id) and _inherited(
        origin, "resolve_typename", plain_typename
    )


def _inherited(cls: type, name: str, original: Any) -> bool:
    """Whether ``cls`` uses relay's own ``name`` (no class on the way overrides it)."""
    return next(c.__dict__[name] for c in cls.__mro__ if name in c.__dict__) is original


def _node_id_getter(type_name: str) -> Getter:
    """Relay's ``id``: the type's name and the row id, as ``Node._id`` builds it."""

    def node_id(obj: Any, _info: _Info) -> relay.GlobalID:
        attribute: str = type(obj).resolve_id_attr()
        return relay.GlobalID(type_name=type_name, node_id=str(getattr(obj, attribute)))

    return node_id


class _Run:
    """One operation being answered: its fragments, variables and collected fields."""

    def __init__(
        self,
        projector: TreeProjector,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues,
        info: _Info,
    ) -> None:
        self.projector = projector
        self.operation = operation
        self.fragments = fragments
        self.variables = variables
        self.info = info
        self._collected: dict[tuple[str, tuple[int, ...]], dict[str, FieldNodes]] = {}
        self._plans: dict[tuple[str, tuple[int, ...]], Plan] = {}

    def plan(self, object_type: GraphQLObjectType, nodes: FieldNodes) -> Plan:
        """``TreeProjector.plan``, once per type and place in the selection."""
        key = (object_type.name, tuple(id(n) for n in nodes))
        found = self._plans.get(key)
        if found is None:
            found = self._plans[key] = self.projector.plan(self, object_type, nodes)
        return found

    def collect(
        self, object_type: GraphQLObjectType, nodes: tuple[FieldNode, ...]
    ) -> dict[str, tuple[FieldNode, ...]]:
        """The fields selected on ``object_type`` under ``nodes``, by response key
        (fragments expanded, ``@skip``/``@include`` applied), once per type and place."""
        key = (object_type.name, tuple(id(n) for n in nodes))
        found = self._collected.get(key)
        if found is None:
            grouped: dict[str, list[FieldNode]] = {}
            for node in nodes:
                if node.selection_set is not None:
                    self._gather(object_type, node.selection_set, grouped, set())
            found = self._collected[key] = {k: tuple(v) for k, v in grouped.items()}
        return found

    def _gather(
        self,
        object_type: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if self._applies(selection.type_condition, object_type):
                    self._gather(object_type, selection.selection_set, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if name in visited or fragment is None:
                    continue
                visited.add(name)
                if self._applies(fragment.type_condition, object_type):
                    self._gather(object_type, fragment.selection_set, grouped, visited)

    def _applies(self, condition: Any, object_type: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        wanted = self.projector.schema.get_type(condition.name.value)
        if wanted is object_type:
            return True
        return isinstance(wanted, GraphQLAbstractType) and self.projector.schema.is_sub_type(
            wanted, object_type
        )

    def _included(self, selection: Any) -> bool:
        for directive in selection.directives or ():
            name = directive.name.value
            if name in ("skip", "include"):
                definition = GraphQLSkipDirective if name == "skip" else GraphQLIncludeDirective
                value = get_argument_values(definition, directive, self.variables)["if"]
                if (name == "skip") == bool(value):
                    return False
            else:
                raise _Abort  # a directive this walk does not know
        return True


_projectors: weakref.WeakKeyDictionary[GraphQLSchema, TreeProjector] = weakref.WeakKeyDictionary()


def projector_for(schema: GraphQLSchema) -> TreeProjector:
    found = _projectors.get(schema)
    if found is None:
        found = _projectors[schema] = TreeProjector(schema)
    return found


@dataclass
class _Answer:
    """The tree's root fields answered; ``rest`` (when other root fields were asked
    too) is the document without them, for standard execution to answer."""

    keys: list[str]
    tree: dict[str, Any]
    rest: DocumentNode | None = None

    def merged(self, data: dict[str, Any]) -> dict[str, Any]:
        """Both answers, in the order the operation asked for them."""
        return {key: self.tree[key] if key in self.tree else data[key] for key in self.keys}


class TreeFastPath(SchemaExtension):
    """Answers covered ``goalTree`` root fields before standard execution would; the
    operation's other root fields (a scorecard beside a subtree) go to standard
    execution in a document without the tree, and the two answers are merged."""

    async def on_execute(self) -> Any:
        execution = self.execution_context
        try:
            answer = await self._answer()
        except Exception:  # whatever it was, standard execution answers
            answer = None
        if answer is None:
            yield
            return
        if answer.rest is None:
            execution.result = ExecutionResult(data=answer.merged({}), errors=None)
            log.debug("goalTree answered without the per-field executor")
            yield
            return
        document, execution.graphql_document = execution.graphql_document, answer.rest
        try:
            yield
        finally:
            execution.graphql_document = document
        result = execution.result
        # data is null when a non-null root field failed: so it would have been anyway
        if isinstance(result, ExecutionResult) and isinstance(result.data, dict):
            result.data = answer.merged(result.data)
            log.debug("goalTree answered without the per-field executor, beside other fields")

    async def _answer(self) -> _Answer | None:
        execution = self.execution_context
        context = execution.context
        document = execution.graphql_document
        if not isinstance(context, Context) or document is None:
            return None
        schema = execution.schema._schema
        operation, fragments = _operation(document, execution.operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return None
        query_type = schema.query_type
        assert query_type is not None
        projector = projector_for(schema)
        variables = get_variable_values(
            schema, operation.variable_definitions or (), execution.variables or {}
        )
        if not isinstance(variables, VariableValues):
            return None  # bad variables: standard execution reports them
        run = _Run(projector, operation, fragments, variables, _Info(context))
        roots = run.collect(query_type, (_wrapper(operation.selection_set),))
        trees = {k: n for k, n in roots.items() if n[0].name.value == ROOT_FIELD}
        if not trees:
            return None
        others = {k for k in roots if k not in trees and roots[k][0].name.value != "__typename"}
        direct = {id(node) for node in operation.selection_set.selections}
        if others and any(id(node) not in direct for nodes in trees.values() for node in nodes):
            return None  # a tree inside a root fragment: standard execution answers it all
        tree_type = query_type.fields[ROOT_FIELD].type
        memo: dict[tuple[int, str], bool] = {}
        for nodes in trees.values():
            for node in nodes:
                if node.selection_set is not None and not projector.covers(
                    node.selection_set, tree_type, fragments, memo
                ):
                    return None
        if refusal(context, matrix(), "Query", ROOT_FIELD) is not None:
            return None  # refused: standard execution says so, as it always does
        answer = _Answer(list(roots), {})
        for key, nodes in roots.items():
            if key in trees:
                answer.tree[key] = await _root_field(execution.schema, run, query_type, nodes)
            elif not others:
                answer.tree[key] = query_type.name  # __typename
        if others:
            answer.rest = _without_trees(document, operation)
        return answer


def _without_trees(document: DocumentNode, operation: OperationDefinitionNode) -> DocumentNode:
    """The document with ``goalTree`` left out of the operation's own selection set."""
    kept = tuple(
        node
        for node in operation.selection_set.selections
        if not (isinstance(node, FieldNode) and node.name.value == ROOT_FIELD)
    )
    selection_set = replace(operation.selection_set, selections=kept)
    rest = replace(operation, selection_set=selection_set)
    return replace(
        document, definitions=tuple(rest if d is operation else d for d in document.definitions)
    )


def _wrapper(selection_set: SelectionSetNode) -> FieldNode:
    """A field node holding the operation's selection set, so the root collects as any
    other object does."""
    return FieldNode(name=NameNode(value=""), selection_set=selection_set, directives=())


def _operation(
    document: Any, name: str | None
) -> tuple[OperationDefinitionNode | None, dict[str, FragmentDefinitionNode]]:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    if name is None:
        return (operations[0] if len(operations) == 1 else None), fragments
    chosen = [o for o in operations if o.name is not None and o.name.value == name]
    return (chosen[0] if chosen else None), fragments


async def _root_field(
    strawberry_schema: Any, run: _Run, query_type: GraphQLObjectType, nodes: tuple[FieldNode, ...]
) -> Any:
    field = query_type.fields[ROOT_FIELD]
    definition = (field.extensions or {}).get(_BACKREF)
    if not isinstance(definition, StrawberryField) or definition.base_resolver is None:
        raise _Abort
    raw = get_argument_values(field, nodes[0], run.variables)
    kwargs = convert_arguments(
        raw,
        definition.arguments,
        scalar_registry=strawberry_schema.schema_converter.scalar_registry,
        config=strawberry_schema.config,
    )
    try:
        resolve: Callable[..., Any] = definition.base_resolver.wrapped_func  # type: ignore[assignment]
        roots = await resolve(None, info=run.info, **kwargs)
    except Exception as exc:  # an error is standard execution's to report, as always
        raise _Abort from exc
    return run.projector.completer(run, field.type, nodes)(roots)
