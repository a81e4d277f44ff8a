"""Retries of calls to outside systems, told through goalgraph's own log.

The HTTP JSON adapter and the HR directories retry transient failures with ``stamina``.
Its default hook logs the bare event name ``stamina.retry_scheduled`` on the ``stamina``
logger with every detail in ``extra``, so an operator's console shows that line and
nothing of which binding is retrying, which attempt failed or why. ``install`` replaces
that hook with one line per retry on ``goalgraph.adapters.retries``, naming the binding
(set by the sync service around each run, ``about``), the attempt and the cause.

Causes are shown by type and message only: adapters raise without credentials in their
messages, and a request's arguments (which may hold headers) are never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from stamina.instrumentation import RetryDetails, set_on_retry_hooks

log = logging.getLogger(__name__)

#: What is being synced in this task: "binding 12 (门店收银系统) of tenant freshmart".
_subject: ContextVar[str | None] = ContextVar("goalgraph_retry_subject", default=None)

#: The longest cause shown; a page of HTML from a proxy says nothing more after this.
MAX_CAUSE = 200


@contextmanager
def about(binding_id: int, name: str, tenant_slug: str) -> Iterator[None]:
    """Name the binding every retry inside this block is for."""
    token = _subject.set(f"binding {binding_id} ({name}) of tenant {tenant_slug}")
    try:
        yield
    finally:
        _subject.reset(token)


def describe(details: RetryDetails) -> str:
    """One line for one scheduled retry."""
    cause = details.caused_by
    reason = f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
    if len(reason) > MAX_CAUSE:
        reason = reason[: MAX_CAUSE - 1] + "…"
    subject = _subject.get() or details.name
    return (
        f"{subject}: attempt {details.retry_num} failed ({reason}); "
        f"retrying in {details.wait_for:.1f} s"
    )


def log_retry(details: RetryDetails) -> None:
    log.warning("%s", describe(details))


def install() -> None:
    """Route stamina's retries to ``log_retry`` (idempotent; process-wide, as stamina's
    hooks are)."""
    set_on_retry_hooks([log_retry])
