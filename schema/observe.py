"""What operators see of each GraphQL operation: its metrics and its log context.

``Observe`` is the last schema extension (``schema/view.py``), so when its operation
ends it sees the errors as raised, before ``MaskErrors`` hides them. It binds the
caller's tenant and the operation's name to the request's log records
(``core/logs.py``) and counts the operation by name, type and outcome, with its
duration and query cost (``core/metrics.py``).

Outcomes: ``refused`` by a limit before anything ran (cost, rate, size); ``error``
when something unexpected failed; ``user_error`` when the client's request or input
was refused (sign-in, access, validation, a mutation payload's ``errors``); else
``ok``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from ..core import logs, metrics
from ..core.errors import ErrorCode
from .context import Context
from .errors import is_expected

#: Codes of refusals by a limit, not by what was asked.
REFUSALS = frozenset({ErrorCode.QUERY_TOO_COSTLY.value, ErrorCode.RATE_LIMITED.value})
#: strawberry's and graphql-core's limit messages, which carry no code.
LIMIT_MESSAGES = ("exceeds maximum", "maximum number of", "Document exceeds")


def outcome(errors: Sequence[GraphQLError], data: object) -> str:
    """``ok``, ``user_error``, ``error`` or ``refused`` for an answer."""
    if any(_refusal(e) for e in errors):
        return "refused"
    if any(not is_expected(e) for e in errors):
        return "error"
    if errors or _payload_errors(data):
        return "user_error"
    return "ok"


def _refusal(error: GraphQLError) -> bool:
    code = (error.extensions or {}).get("code")
    return code in REFUSALS or any(m in error.message for m in LIMIT_MESSAGES)


def _payload_errors(data: object) -> bool:
    """A mutation answered refusals as data: a root field's ``errors`` is not empty."""
    if not isinstance(data, dict):
        return False
    return any(isinstance(v, dict) and v.get("errors") for v in data.values())


class Observe(SchemaExtension):
    """Metrics and log context of each operation."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        self._bind()
        yield
        execution = self.execution_context
        result = execution.result
        errors = list(execution.pre_execution_errors or (result.errors if result else None) or [])
        context = execution.context
        cost = context.cost if isinstance(context, Context) and context.cost else None
        metrics.observe_operation(
            self._name() if execution.graphql_document is not None else None,
            self._type(),
            outcome(errors, result.data if result else None),
            time.perf_counter() - started,
            cost.requested if cost else None,
        )

    def on_validate(self) -> Iterator[None]:
        self._bind()  # parsed by now: an operation sent without a name has its own
        yield

    def _bind(self) -> None:
        context = self.execution_context.context
        scope = context.signed_in if isinstance(context, Context) else None
        logs.bind(
            tenant=scope.tenant.slug if scope else None,
            tenant_id=scope.tenant_id if scope else None,
            operation=self._name(),
        )

    def _name(self) -> str | None:
        """The operation's name when the parsed document has an operation of that name
        (before parsing: the name the client sent, for the log only)."""
        execution = self.execution_context
        name, document = execution.operation_name, execution.graphql_document
        if name is None or document is None:
            return name
        named = (
            d.name.value
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode) and d.name is not None
        )
        return name if name in named else None

    def _type(self) -> str:
        try:
            return self.execution_context.operation_type.value
        except Exception:  # no document, or no such operation
            return "unknown"
