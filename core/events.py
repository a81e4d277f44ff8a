"""Live updates: the one publish/subscribe interface of core.

Services publish an ``Event`` when a write has committed; the GraphQL subscriptions
(``schema/subscriptions.py``) subscribe per tenant and read what changed fresh from
the database. Events name ids only, never values: a subscriber reads values through
its own tenant scope, so visibility rules apply to it as to any read, and an event
stays small enough for any transport.

Two buses implement the interface, and the server picks one by its database
(``core/pgbus.events_bus_for``):

- ``InProcessBus`` on SQLite, the embedded default: one process, subscribers in memory;
- ``PostgresBus`` (``core/pgbus.py``) on PostgreSQL, for several workers sharing one
  database: LISTEN/NOTIFY, a channel per tenant, one listening connection per process,
  and the same local fan-out (``LocalSubscribers``: bounded queues, oldest dropped).

Publishing happens when the write's transaction commits, never before: a subscriber
must not see a value that is later rolled back. ``publish_on_commit`` does that for
services whose transaction may itself run inside a caller's (the sync runner wraps
``record_measurements`` in its own transaction per batch). It first offers the events
to the bus (``EventBus.publish_in``): PostgreSQL sends a NOTIFY issued inside a
transaction at its COMMIT and drops it on rollback, so ``PostgresBus`` sends it in the
write's own transaction. A bus that cannot (``InProcessBus``) declines, and the events
wait for the outermost transaction's commit, which is wrapped to publish after it.

A bus that may have missed events (its listening connection was lost and came back)
tells every local subscriber so with a ``RESYNC`` event, whatever topics it chose:
the client refetches what it shows.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import weakref
from collections.abc import (
    AsyncIterator,
    Callable,
    Collection,
    Coroutine,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Final

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.connection import get_connection
from tortoise.exceptions import ConfigurationError

log = logging.getLogger(__name__)

#: Goal progress or scores may have changed (payload: ``kpis``, ``key_results``,
#: ``weighting``).
PROGRESS: Final = "progress"
#: A new alert was raised (payload: ``alert_id``, ``kind`` and who may see it).
ALERT: Final = "alert"
#: Events of the tenant may have been missed (payload: ``reason``): refetch. Delivered
#: to every subscriber of the tenant, whatever topics it subscribed to.
RESYNC: Final = "resync"

#: Called with the delay, in seconds, between sending an event and receiving it from
#: another process's bus (the event-bus lag); the metrics register a histogram here.
#: In-process delivery has no lag to report.
lag_observers: list[Callable[[float], None]] = []


def observe_lag(seconds: float) -> None:
    """Report one received event's lag to every observer; an observer that fails is
    logged, never raised into the bus that delivers the event."""
    for observer in list(lag_observers):
        try:
            observer(seconds)
        except Exception:
            log.exception("an event-bus lag observer failed")


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

    async def publish_in(self, transaction: BaseDBAsyncClient, events: Sequence[Event]) -> bool:
        """Send ``events`` inside ``transaction`` so the database delivers them at its
        COMMIT and drops them on rollback; False when this bus cannot (the caller then
        publishes after the commit). Errors propagate: the write has not committed."""
        return False

    @property
    @abc.abstractmethod
    def connected(self) -> bool:
        """Whether events published now reach this process's subscribers (readiness)."""

    @abc.abstractmethod
    def subscriber_count(self, tenant_id: int | None = None) -> int:
        """How many subscriptions of this process are open (of one tenant)."""

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

    def wants(self, event: Event) -> bool:
        """Its tenant's events of its topics, and every ``RESYNC`` of its tenant."""
        return self.tenant_id == event.tenant_id and (
            event.topic in self.topics or event.topic == RESYNC
        )

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


class LocalSubscribers:
    """The subscriptions of this process and the fan-out to them, shared by every bus:
    whichever transport brings an event, it reaches local subscribers the same way."""

    def __init__(self, queue_size: int) -> None:
        self.queue_size = queue_size
        self._subscribers: set[_Subscriber] = set()

    def add(self, tenant_id: int, topics: Collection[str]) -> _Subscriber:
        subscriber = _Subscriber(tenant_id, frozenset(topics), self.queue_size)
        self._subscribers.add(subscriber)
        return subscriber

    def discard(self, subscriber: _Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def deliver(self, event: Event) -> None:
        """Queue ``event`` for each subscriber that wants it; never waits."""
        for subscriber in list(self._subscribers):
            if subscriber.wants(event):
                subscriber.offer(event)

    def resync(self, reason: str) -> None:
        """Tell every subscriber its tenant's events may have been missed."""
        for subscriber in list(self._subscribers):
            subscriber.offer(Event(subscriber.tenant_id, RESYNC, {"reason": reason}))

    def end(self) -> None:
        for subscriber in list(self._subscribers):
            subscriber.offer(_END)

    def tenants(self) -> set[int]:
        return {s.tenant_id for s in self._subscribers}

    def count(self, tenant_id: int | None = None) -> int:
        return sum(1 for s in self._subscribers if tenant_id in (None, s.tenant_id))

    def __iter__(self) -> Iterator[_Subscriber]:
        return iter(list(self._subscribers))


class InProcessBus(EventBus):
    """The embedded default: subscribers of this process, each with a bounded queue."""

    def __init__(self, queue_size: int = 256) -> None:
        self.local = LocalSubscribers(queue_size)

    @property
    def queue_size(self) -> int:
        return self.local.queue_size

    @property
    def connected(self) -> bool:
        """Always: there is no connection to lose."""
        return True

    async def publish(self, event: Event) -> None:
        self.local.deliver(event)

    @asynccontextmanager
    async def subscribe(
        self, tenant_id: int, topics: Collection[str]
    ) -> AsyncIterator[AsyncIterator[Event]]:
        subscriber = self.local.add(tenant_id, topics)
        try:
            yield subscriber
        finally:
            self.local.discard(subscriber)

    async def close(self) -> None:
        self.local.end()

    def subscriber_count(self, tenant_id: int | None = None) -> int:
        """How many subscriptions are open (of one tenant): for health checks and tests."""
        return self.local.count(tenant_id)


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


async def publish_on_commit(*new: Event) -> None:
    """Publish ``new`` once the write that caused them is committed.

    Outside a transaction the write is already committed: publish now. Inside one, the
    bus may send them in the transaction itself (``EventBus.publish_in``: PostgreSQL's
    NOTIFY, delivered at COMMIT, dropped on rollback, one statement for all of them).
    Otherwise they wait for the outermost transaction's COMMIT and are dropped if it
    rolls back: Tortoise offers no commit hook, so the outermost transaction client's
    ``commit`` is wrapped (once per transaction) to publish after it returns.
    """
    if not new:
        return
    transaction = _open_transaction()
    if transaction is None:
        for event in new:
            await publish(event)
        return
    if await bus().publish_in(transaction, new):
        return
    waiting = _pending.get(transaction)
    if waiting is None:
        waiting = _pending[transaction] = []
        transaction.commit = _then_publish(transaction.commit, waiting)  # type: ignore[method-assign]
    waiting.extend(new)


def _then_publish(
    commit: Callable[[], Coroutine[Any, Any, None]], waiting: list[Event]
) -> Callable[[], Coroutine[Any, Any, None]]:
    async def commit_then_publish() -> None:
        await commit()
        events, waiting[:] = list(waiting), []
        for event in events:
            await publish(event)

    return commit_then_publish
