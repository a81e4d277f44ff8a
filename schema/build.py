"""Building the schema with its guards: error masking and query-size limits."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from .mutations.root import Mutation
from .queries import Query
from .types.goals import KeyResult, Kpi, Objective
from .types.org import Cycle, OrgUnit, Person

#: Types only reachable through interfaces must be named so they appear in the SDL.
EXTRA_TYPES = [Objective, KeyResult, Kpi, OrgUnit, Person, Cycle]


def build_schema(max_depth: int = 24, mask_errors: bool = True) -> strawberry.Schema:
    """A fresh schema; unexpected errors are masked unless ``mask_errors`` is off."""
    from .errors import should_mask

    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: QueryDepthLimiter(max_depth=max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=64),
        lambda: MaxTokensLimiter(max_token_count=20_000),
    ]
    if mask_errors:
        extensions.append(lambda: MaskErrors(should_mask_error=should_mask))
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=EXTRA_TYPES,
        extensions=extensions,  # type: ignore[arg-type]
    )
