"""Relay cursor pagination over tenant querysets, keyset-based (stable under inserts).

A cursor encodes the last row id seen; the next page is ``id > cursor`` in id
order, which stays correct while rows are added and costs an indexed range scan
instead of an OFFSET.
"""

from __future__ import annotations

from base64 import b64decode, b64encode
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry
from strawberry import relay
from tortoise.queryset import QuerySet

from ..core.errors import DomainError, ErrorCode
from ..core.i18n import msg

DEFAULT_PAGE = 50
MAX_PAGE = 500

N = TypeVar("N", bound=relay.Node)


@strawberry.type(description="A page of a list, Relay style.")
class Connection(relay.Connection[relay.NodeType], Generic[relay.NodeType]):
    total_count: int = strawberry.field(description="Rows matching the filters, all pages.")


def encode_cursor(row_id: int) -> str:
    return b64encode(f"cursor:{row_id}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        prefix, _, value = b64decode(cursor.encode(), validate=True).decode().partition(":")
        if prefix != "cursor":
            raise ValueError(prefix)
        return int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DomainError.single(ErrorCode.INVALID, msg("error.bad_cursor"), "after") from exc


async def paginate(
    queryset: QuerySet[Any],
    wrap: Callable[[Any], N],
    first: int | None,
    after: str | None,
) -> Connection[N]:  # type: ignore[type-var]
    """One page of ``queryset`` (plus one count query), ordered by id."""
    size = DEFAULT_PAGE if first is None else first
    if not 0 <= size <= MAX_PAGE:
        raise DomainError.single(
            ErrorCode.OUT_OF_RANGE, msg("error.page_size", max=MAX_PAGE), "first"
        )
    total = await queryset.count()
    page_qs = queryset
    if after is not None:
        page_qs = page_qs.filter(id__gt=decode_cursor(after))
    rows = await page_qs.order_by("id").limit(size + 1)
    has_next = len(rows) > size
    rows = rows[:size]
    edges = [relay.Edge(cursor=encode_cursor(r.id), node=wrap(r)) for r in rows]
    return Connection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=has_next,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=total,
    )
