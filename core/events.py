"""Live updates: the one publish/subscribe interface of core.

Services publish an ``Event`` when a write has committed; the GraphQL subscriptions
(``schema/subscriptions.py``) subscribe per tenant and read what changed fresh from
the database. Events name ids only, never values: a subscriber reads values through
its own tenant scope, so visibility rules apply to it as to any read, and an event
stays small enough for any transport.

``InProcessBus`` is the embedded default: one process, subscribers in memory. Several
workers sharing one PostgreSQL need a bus that crosses processes; PostgreSQL's
LISTEN/NOTIFY fits the same interface without changing a publisher or subscriber:

- one channel per tenant (``goalgraph_t<tenant id>``), so a worker LISTENs only to the
  tenants its connected subscribers belong to, and another tenant's event never reaches
  it; the topic travels in the payload;
- ``publish`` sends ``pg_notify(channel, json)``. A NOTIFY payload is limited to 8000
  bytes, which is why payloads carry ids only; a larger one would be split into
  several events (or reduced to "reload the tenant");
- PostgreSQL delivers a notification only when the sending transaction commits, so
  that implementation could even publish inside the write's transaction;
- each worker keeps one dedicated LISTEN connection and fans its notifications out to
  local subscribers exactly like ``InProcessBus`` (bounded queues, oldest dropped).

Publishing happens after the write's transaction commits, never before: a subscriber
must not see a value that is later rolled back. ``publish_on_commit`` does that for
services whose transaction may itself run inside a caller's (the sync runner wraps
``record_measurements`` in its own transaction per batch).
"""

from __future__ import annotations

import abc
import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Collection, Coroutine, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Final

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.connection import get_connection
from tortoise.exceptions import ConfigurationError

log = logging.getLogger(__name__)

#: Goal progress or scores may have changed (payload: ``kpis``, ``key_results``,
#: ``weighting``).
PROGRESS: Final = "progress"
#: A new alert was raised (payload: ``alert_id``, ``kind`` and who may see it).
ALERT: Final = "alert"


@dataclass(frozen=True, slots=True)
class Event:
    """Something changed in one tenant; ``payload`` is JSON-able and names ids only."""

    tenant_id: int
    topic: str
    payload: Mapping[str, Any] = field(default_factory=dict)


class EventBus(abc.ABC):
    """Where events go: a writer publishes, subscribers of the event's tenant receive.

    Publishing never blocks on a slow subscriber, and a subscriber receives only the
    tenant and topics it subscribed to.
    """

    @abc.abstractmethod
    async def publish(self, event: Event) -> None:
        """Hand ``event`` to every current subscriber of its tenant and topic."""

    @abc.abstractmethod
    def subscribe(
        self, tenant_id: int, topics: Collection[str]
    ) -> AbstractAsyncContextManager[AsyncIterator[Event]]:
        """Receive ``tenant_id``'s events of ``topics`` while the context is open.

        The subscription exists once the context is entered (an event published after
        that is received), and is removed when it exits.
        """

    async def close(self) -> None:  # noqa: B027 - optional for implementations
        """End every subscription (the server is stopping)."""


#: Marks the end of a subscription's stream (the bus closed).
_END: Final = object()


class _Subscriber:
    """One subscription: its filter, its queue, and the stream over it.

    An iterator rather than an async generator, so a reader may give up waiting for
    the next event (``asyncio.wait_for``) and wait again without ending the stream.
    """

    def __init__(self, tenant_id: int, topics: frozenset[str], size: int) -> None:
        self.tenant_id = tenant_id
        self.topics = topics
        self.queue: asyncio.Queue[Event | object] = asyncio.Queue(size)

    def offer(self, item: Event | object) -> None:
        """Queue ``item``, dropping the oldest queued one when full: a subscriber too
        slow to keep up loses old events rather than stalling the writer."""
        if self.queue.full():
            self.queue.get_nowait()
            log.warning(
                "a slow subscriber of tenant %s dropped its oldest event (queue of %s full)",
                self.tenant_id,
                self.queue.maxsize,
            )
        self.queue.put_nowait(item)

    def __aiter__(self) -> _Subscriber:
        return self

    async def __anext__(self) -> Event:
        item = await self.queue.get()
        if not isinstance(item, Event):
            self.queue.put_nowait(item)  # ended: stays ended for every later read
            raise StopAsyncIteration
        return item


class InProcessBus(EventBus):
    """The embedded default: subscribers of this process, each with a bounded queue."""

    def __init__(self, queue_size: int = 256) -> None:
        self.queue_size = queue_size
        self._subscribers: set[_Subscriber] = set()

    async def publish(self, event: Event) -> None:
        for subscriber in list(self._subscribers):
            if subscriber.tenant_id == event.tenant_id and event.topic in subscriber.topics:
                subscriber.offer(event)

    @asynccontextmanager
    async def subscribe(
        self, tenant_id: int, topics: Collection[str]
    ) -> AsyncIterator[AsyncIterator[Event]]:
        subscriber = _Subscriber(tenant_id, frozenset(topics), self.queue_size)
        self._subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)

    async def close(self) -> None:
        for subscriber in list(self._subscribers):
            subscriber.offer(_END)

    def subscriber_count(self, tenant_id: int | None = None) -> int:
        """How many subscriptions are open (of one tenant): for health checks and tests."""
        return sum(1 for s in self._subscribers if tenant_id in (None, s.tenant_id))


_bus: EventBus = InProcessBus()


def bus() -> EventBus:
    """The process's bus: the app's while it runs, else a process-wide ``InProcessBus``
    (CLI commands publish into it and nobody listens, which costs nothing)."""
    return _bus


def install(new: EventBus) -> EventBus:
    """Make ``new`` the process's bus; returns the one it replaces (to restore it)."""
    global _bus
    previous, _bus = _bus, new
    return previous


async def publish(event: Event) -> None:
    """Publish now, on the current bus; a failing bus is logged, never raised: the write
    it reports has already committed."""
    try:
        await bus().publish(event)
    except Exception:
        log.exception("publishing a %s event of tenant %s failed", event.topic, event.tenant_id)


#: Events waiting for the commit of the outermost transaction they were published in.
_pending: weakref.WeakKeyDictionary[TransactionalDBClient, list[Event]] = (
    weakref.WeakKeyDictionary()
)


def _open_transaction() -> TransactionalDBClient | None:
    """The outermost open transaction of this task, or None.

    Tortoise keeps the task's current connection in a context variable: the outermost
    ``in_transaction()`` replaces it with its transaction client until it ends, and
    nested blocks (savepoints) leave it in place. So the connection seen here is the
    outermost transaction, whose COMMIT is the one that makes a write visible.
    """
    try:
        connection = get_connection("default")
    except (ConfigurationError, KeyError):
        return None
    return connection if isinstance(connection, TransactionalDBClient) else None


async def publish_on_commit(event: Event) -> None:
    """Publish ``event`` once the write that caused it is committed.

    Outside a transaction the write is already committed: publish now. Inside one,
    the event waits for the outermost transaction's COMMIT and is dropped if it rolls
    back. Tortoise offers no commit hook, so the outermost transaction client's
    ``commit`` is wrapped (once per transaction) to publish after it returns.
    """
    transaction = _open_transaction()
    if transaction is None:
        await publish(event)
        return
    waiting = _pending.get(transaction)
    if waiting is None:
        waiting = _pending[transaction] = []
        transaction.commit = _then_publish(transaction.commit, waiting)  # type: ignore[method-assign]
    waiting.append(event)


def _then_publish(
    commit: Callable[[], Coroutine[Any, Any, None]], waiting: list[Event]
) -> Callable[[], Coroutine[Any, Any, None]]:
    async def commit_then_publish() -> None:
        await commit()
        events, waiting[:] = list(waiting), []
        for event in events:
            await publish(event)

    return commit_then_publish
