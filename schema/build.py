"""Building the schema with its guards: the role matrix, error masking and query-size
limits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import strawberry
from graphql import ASTValidationRule, GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType
from tortoise import Tortoise
from tortoise.transactions import in_transaction

from .cost import DEFAULT_MAX_COST, QueryCostLimit
from .errors import is_expected, should_mask
from .fast_tree import TreeFastPath
from .mutations.root import Mutation
from .queries import Query
from .role_guard import guard_root_fields
from .subscriptions import FreshReads, Subscription
from .types.goals import KeyResult, Kpi, Objective
from .types.org import Cycle, OrgUnit, Person

#: How many distinct documents stay parsed and validated (least recently used go first).
DOCUMENT_CACHE_SIZE = 512

#: The default of ``GOALGRAPH_MAX_QUERY_TOKENS``: the introspection query is under 200
#: tokens and the full tree query 72, while parsing 20,000 takes some 240 ms of the loop.
DEFAULT_MAX_TOKENS = 5_000

#: Types only reachable through interfaces must be named so they appear in the SDL.
EXTRA_TYPES = [Objective, KeyResult, Kpi, OrgUnit, Person, Cycle]


class GoalGraphSchema(strawberry.Schema):
    """Logs only unexpected errors: refusals and bad input are answered, not alarms."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        super().process_errors([e for e in errors if not is_expected(e)], execution_context)


class QueryTransaction(SchemaExtension):
    """On PostgreSQL, a query operation reads in one transaction.

    Its tenant binding is then sent once (``core/rls.py``) and one pooled connection
    serves every statement, where each statement outside a transaction takes a
    connection from the pool, binds it and resets it. SQLite keeps one connection for
    the whole process, on which a transaction would hold every other request up, so
    there reads go as before; mutations keep the transactions their services own, and
    a subscription is not held in one while it lasts.
    """

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        operation = execution.operation_type if execution.graphql_document else None
        if operation is OperationType.QUERY and _on_postgres():
            async with in_transaction():
                yield
        else:
            yield


def _on_postgres() -> bool:
    return bool(Tortoise.get_connection("default").capabilities.dialect == "postgres")


def build_schema(
    max_depth: int = 24,
    mask_errors: bool = True,
    fast_paths: bool = True,
    *,
    introspection: bool = True,
    suggestions: bool = True,
    max_cost: int = DEFAULT_MAX_COST,
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> strawberry.Schema:
    """A fresh schema; unexpected errors are masked unless ``mask_errors`` is off, and
    covered goal trees skip the per-field executor unless ``fast_paths`` is off
    (``schema/fast_tree.py``; the answers are the same either way). Operations costing
    more than ``max_cost`` are refused before they run (``schema/cost.py``), documents
    longer than ``max_tokens`` before they are parsed.

    Production turns ``introspection`` off (the schema is published as SDL by
    ``goalgraph schema``, not to whoever asks) and ``suggestions`` off ("Did you mean
    …?" would spell out field names introspection no longer shows)."""
    # The depth and alias rules are built once: strawberry's limiters would build new
    # rule classes per request, and validation results are cached by their rules too.
    limits: list[type[ASTValidationRule]] = [depth_rule(max_depth, None), alias_rule(64)]
    if not introspection:
        limits.append(NoSchemaIntrospectionCustomRule)
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: AddValidationRules(limits),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        # a frontend sends the same few documents all day: parse and validate each once
        # (keyed by the document's text and the schema; nothing of a tenant's is kept)
        lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
        lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
        FreshReads,
        # after the validation cache (it costs the validated document in on_validate),
        # before the rate limits (schema/view.py reads Context.cost) and before every
        # on_execute: a refused operation opens no transaction, takes no fast path
        lambda: QueryCostLimit(max_cost),
        QueryTransaction,
    ]
    if fast_paths:
        extensions.append(TreeFastPath)
    if mask_errors:
        extensions.append(lambda: MaskErrors(should_mask_error=should_mask))
    schema = GoalGraphSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=EXTRA_TYPES,
        extensions=extensions,  # type: ignore[arg-type]
        config=StrawberryConfig(disable_field_suggestions=not suggestions),
    )
    guard_root_fields(schema)  # deny by default: core/roles.toml
    return schema
