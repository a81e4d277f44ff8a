"""How failures reach API clients.

Expected failures of a mutation are data: a payload's ``errors`` list of
``UserError`` (field, code, message). Failures of a whole request (no valid token)
are GraphQL errors carrying ``extensions.code``. Anything else is masked. Messages are
rendered here, at the edge, in the request's locale (``core.i18n.current_locale``, set
by ``schema/context.py``); codes never change with the language.
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.relay.types import GlobalIDValueError

from ..core.errors import DomainError, ErrorCode
from ..core.i18n import Msg, text

strawberry.enum(ErrorCode, description="Why a request or its input was refused.")


@strawberry.type(description="One problem with a mutation's input; nothing was changed.")
class UserError:
    field: str | None = strawberry.field(description="Input path of the problem, if any.")
    code: ErrorCode
    message: str


def user_errors(error: DomainError) -> list[UserError]:
    return [UserError(field=p.field, code=p.code, message=p.text()) for p in error.problems]


class ApiError(GraphQLError):
    """A request-level failure with a stable code, shown to clients unmasked."""

    def __init__(self, code: ErrorCode, message: Msg | str) -> None:
        super().__init__(text(message), extensions={"code": code.value})


def should_mask(error: GraphQLError) -> bool:
    """Mask everything except our own coded errors and GraphQL's validation errors."""
    original = error.original_error
    if original is None:
        return False
    if isinstance(original, ApiError):
        return False
    if isinstance(original, DomainError):
        # str(DomainError) is English, for logs: the client reads its own language
        error.message = "; ".join(p.text() for p in original.problems)
        error.extensions = {**(error.extensions or {}), "code": original.code.value}
        return False
    if isinstance(original, GlobalIDValueError):
        error.extensions = {**(error.extensions or {}), "code": ErrorCode.INVALID.value}
        return False
    return True


def is_expected(error: GraphQLError) -> bool:
    """Errors that are the client's business, not the operator's: not worth a traceback."""
    original = error.original_error
    return original is None or isinstance(original, ApiError | DomainError | GlobalIDValueError)
