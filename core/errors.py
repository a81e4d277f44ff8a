"""Domain errors: expected failures that callers turn into typed user errors.

Services raise ``DomainError`` with one or more ``Problem`` entries (field, code,
message); the API returns them as data in mutation payloads, the CLI prints them.
A message is a ``Msg`` (core/i18n.py): the edge renders it in the reader's language.
Anything else that escapes is a bug and is masked by the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .i18n import Msg, msg, noun, text


class ErrorCode(StrEnum):
    """Stable, machine-readable reasons a request was refused."""

    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    CONFLICT = "CONFLICT"
    ALIGNMENT_LOOP = "ALIGNMENT_LOOP"
    ARCHIVED = "ARCHIVED"
    #: Moving an org unit under itself or one of its own units.
    ORG_LOOP = "ORG_LOOP"
    #: A chain of managers that comes back to where it started.
    MANAGER_LOOP = "MANAGER_LOOP"
    #: Refused while other rows still depend on it (a unit with people or goals).
    IN_USE = "IN_USE"
    #: A write into a closed cycle, whose scores are frozen.
    CYCLE_CLOSED = "CYCLE_CLOSED"
    #: The person is deactivated (a leaver).
    INACTIVE = "INACTIVE"
    #: Sign-in refused: the email or the password is wrong (never says which).
    BAD_CREDENTIALS = "BAD_CREDENTIALS"
    #: Sign-in refused for a while after repeated failures of the account.
    LOCKED = "LOCKED"
    #: Too many failed sign-ins from the client's address, or operations past the
    #: caller's or the tenant's rate limit: wait ``retryAfter`` seconds and try again.
    RATE_LIMITED = "RATE_LIMITED"
    #: A request body (or a websocket message) larger than the server accepts.
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    #: An invitation or password reset link past its expiry.
    LINK_EXPIRED = "LINK_EXPIRED"
    #: An invitation or password reset link that has already been used.
    LINK_USED = "LINK_USED"
    #: A new password that breaks the password rules (length, common, contextual).
    WEAK_PASSWORD = "WEAK_PASSWORD"
    #: The change would leave the tenant without an active admin.
    LAST_ADMIN = "LAST_ADMIN"
    #: The operation would cost more than the maximum (``extensions.cost``, ``maxCost``).
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a request; ``field`` is the input path, if any."""

    code: ErrorCode
    message: Msg
    field: str | None = None

    def text(self, locale: str | None = None) -> str:
        """The message in ``locale`` (default: the current one)."""
        return text(self.message, locale)


class DomainError(Exception):
    """A request the domain refuses; carries every problem found, not just the first."""

    def __init__(self, *problems: Problem) -> None:
        if not problems:
            raise ValueError("DomainError needs at least one problem")
        self.problems: tuple[Problem, ...] = problems
        # in English: str() of an exception is for logs, whoever the reader of the request
        super().__init__("; ".join(p.text("en") for p in problems))

    @classmethod
    def single(cls, code: ErrorCode, message: Msg, field: str | None = None) -> DomainError:
        return cls(Problem(code, message, field))

    def text(self, locale: str | None = None) -> str:
        """Every problem's message in ``locale`` (default: the current one), on one line."""
        return "; ".join(p.text(locale) for p in self.problems)

    @property
    def code(self) -> ErrorCode:
        return self.problems[0].code


def not_found(kind: str, field: str | None = None) -> DomainError:
    """The one answer for a missing id and for another tenant's id alike; ``kind`` is
    the key of a noun (``"kpi"`` → ``noun.kpi``), rendered in the reader's language."""
    return DomainError.single(ErrorCode.NOT_FOUND, msg("error.not_found", kind=noun(kind)), field)


def forbidden(message: Msg, field: str | None = None) -> DomainError:
    return DomainError.single(ErrorCode.FORBIDDEN, message, field)


class AuthError(Exception):
    """The caller is not authenticated: no token, a bad signature, expired, unknown.
    ``message`` is rendered where a person reads it; str() is English, for logs."""

    code = ErrorCode.UNAUTHENTICATED

    def __init__(self, message: Msg) -> None:
        self.message = message
        super().__init__(text(message, "en"))
