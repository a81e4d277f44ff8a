"""What every mutation shares: turning domain refusals into payload errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from ...core.errors import DomainError
from ..errors import UserError, user_errors

T = TypeVar("T")


async def guarded(action: Callable[[], Awaitable[T]]) -> tuple[T | None, list[UserError]]:
    """Run a use case; a refusal becomes ``errors`` and nothing was written."""
    try:
        return await action(), []
    except DomainError as exc:
        return None, user_errors(exc)


def given(data: Any, names: dict[str, str]) -> dict[str, Any]:
    """The fields of an update input the client actually sent, as service names."""
    return {
        service: getattr(data, attr)
        for attr, service in names.items()
        if getattr(data, attr) is not strawberry.UNSET
    }
