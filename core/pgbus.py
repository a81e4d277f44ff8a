"""Live updates across workers: the event bus on PostgreSQL's LISTEN/NOTIFY.

Several workers share one PostgreSQL; a write served by one must reach the
subscribers of every other. PostgreSQL already carries that: a ``NOTIFY`` reaches
every session that ``LISTEN``s on its channel, and one issued inside a transaction is
delivered at its COMMIT and dropped on rollback, which is exactly when an event may be
published. So ``PostgresBus`` needs no broker of its own:

- **one channel per tenant** (``goalgraph_t<tenant id>``); a worker LISTENs only on the
  channels of tenants it has local subscribers of, and UNLISTENs when the last one
  goes, so another tenant's events never reach it;
- **one dedicated listening connection per process**, opened from the app's database
  URL with ``application_name`` ``goalgraph-bus/<pid>`` (an operator, or a test, finds
  a worker's listener in ``pg_stat_activity`` by it); notifications fan out to local
  subscribers exactly as ``InProcessBus`` does (``events.LocalSubscribers``: bounded
  queues, oldest dropped);
- **publishing** is ``SELECT pg_notify(...)``: inside a transaction on the transaction's
  own connection (``publish_in``, one statement for every event of the call), so the
  database itself delivers it at COMMIT; outside one on a pooled connection;
- **payloads** are compact JSON: the topic, the payload of ids, the sending time and
  the sender's process id. PostgreSQL refuses payloads from 8000 bytes; an event whose
  notification would exceed ``MAX_PAYLOAD_BYTES`` is **reduced to a ``RESYNC`` of its
  tenant** (every subscriber of the tenant refetches) rather than split: splitting
  is specific to each topic (an alert cannot be split), a resync is always correct,
  and an event that large (some 900 ids) is a bulk change a client had better reload
  for anyway;
- **reconnecting**: when the listening connection drops (asyncpg's termination
  listener, or a cheap ``SELECT 1`` every ``check_seconds`` that fails), the bus
  reconnects with exponential backoff (capped), LISTENs again on every channel it
  needs, then sends a ``RESYNC`` event to every local subscriber: notifications sent
  while it was away are lost for good, so clients refetch what they show.

``connected`` is True while the listening connection is up (the readiness check);
``events.lag_observers`` receive each notification's delay from send to receipt.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Collection, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final

import asyncpg
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection

from . import events
from .db import is_postgres, normalise_url, redact_url
from .events import Event, EventBus, InProcessBus, LocalSubscribers
from .settings import Settings

log = logging.getLogger(__name__)

CHANNEL_PREFIX: Final = "goalgraph_t"
#: The largest NOTIFY payload sent, in bytes: well under PostgreSQL's 8000.
MAX_PAYLOAD_BYTES: Final = 6000
#: The listening connection's ``application_name`` starts with this.
APPLICATION_NAME: Final = "goalgraph-bus"
#: How long opening the listening connection may take.
CONNECT_TIMEOUT_SECONDS: Final = 5.0
#: How long ``close`` waits for the supervisor to stop before leaving it behind.
CLOSE_SECONDS: Final = 5.0

#: One statement sends every event of a transaction's call, in order.
NOTIFY_SQL: Final = (
    "SELECT pg_notify(n.channel, n.payload) "
    "FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS n(channel, payload, i) ORDER BY n.i"
)

#: What a lost or unreachable database raises at the listening connection.
CONNECTION_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


def channel_of(tenant_id: int) -> str:
    return f"{CHANNEL_PREFIX}{int(tenant_id)}"


def tenant_of(channel: str) -> int | None:
    digits = channel.removeprefix(CHANNEL_PREFIX)
    return int(digits) if channel.startswith(CHANNEL_PREFIX) and digits.isdigit() else None


def _dumps(body: Mapping[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def encode(event: Event, *, sent: float | None = None) -> tuple[str, str]:
    """The channel and notification payload of ``event``; an event too large for one
    notification becomes a ``RESYNC`` of its tenant (see the module docstring)."""
    stamp = {"sent": time.time() if sent is None else sent, "pid": os.getpid()}
    text = _dumps({"topic": event.topic, "payload": dict(event.payload), **stamp})
    if len(text.encode()) > MAX_PAYLOAD_BYTES:
        log.warning(
            "a %s event of tenant %s is too large for a notification (%s bytes): "
            "sending a resync of the tenant instead",
            event.topic,
            event.tenant_id,
            len(text.encode()),
        )
        reduced = {"reason": "oversize", "topic": event.topic}
        text = _dumps({"topic": events.RESYNC, "payload": reduced, **stamp})
    assert len(text.encode()) <= MAX_PAYLOAD_BYTES
    return channel_of(event.tenant_id), text


def decode(channel: str, payload: str) -> tuple[Event, float] | None:
    """The event of one notification and when it was sent; None when it is not ours."""
    tenant_id = tenant_of(channel)
    try:
        body = json.loads(payload)
        topic, data, sent = body["topic"], body["payload"], float(body["sent"])
    except (ValueError, KeyError, TypeError):
        body = None
    if tenant_id is None or body is None or not isinstance(topic, str):
        log.warning("event bus: ignored a malformed notification on %s", channel)
        return None
    return Event(tenant_id, topic, data if isinstance(data, dict) else {}), sent


def connect_args(database_url: str) -> dict[str, Any]:
    """asyncpg's connection arguments for a PostgreSQL URL, read as Tortoise reads it
    (``core/db.connection_config``): its pool options (``maxsize`` …) are not server
    settings and stay out."""
    credentials = expand_db_url(normalise_url(database_url))["credentials"]
    keys = ("host", "port", "user", "password", "database", "ssl")
    return {key: credentials[key] for key in keys if credentials.get(key) is not None}


@dataclass(frozen=True, slots=True)
class Backoff:
    """Waits between reconnection attempts: ``first`` doubling up to ``cap`` seconds,
    each shortened by up to a quarter at random, so workers that lost the database
    together do not come back in lockstep."""

    first: float = 0.1
    cap: float = 5.0

    def delays(self) -> Iterator[float]:
        delay = self.first
        while True:
            yield delay * random.uniform(0.75, 1.0)
            delay = min(delay * 2, self.cap)


class PostgresBus(EventBus):
    """LISTEN/NOTIFY across the processes sharing one PostgreSQL database."""

    def __init__(
        self,
        database_url: str,
        *,
        queue_size: int = 256,
        check_seconds: float = 5.0,
        backoff: Backoff | None = None,
        application_name: str | None = None,
    ) -> None:
        self.database_url = database_url
        self.check_seconds = check_seconds
        self.backoff = backoff or Backoff()
        #: Names the listening connection in ``pg_stat_activity``: one bus per worker,
        #: so the worker's process id tells the workers' listeners apart.
        self.application_name = application_name or f"{APPLICATION_NAME}/{os.getpid()}"
        self.local = LocalSubscribers(queue_size)
        #: Open subscriptions per tenant, counted before their LISTEN is sent.
        self._interest: Counter[int] = Counter()
        #: Tenants the current listening connection LISTENs on.
        self._listening: set[int] = set()
        self._connection: asyncpg.Connection | None = None
        #: Statements on the listening connection run one at a time.
        self._lock = asyncio.Lock()
        self._lost = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        #: Set by ``close``: the supervisor stops at its next step whatever it awaits.
        self._closing = False
        #: How many times the listening connection came back (for tests and operators).
        self.reconnects = 0

    # --- running ---------------------------------------------------------------------

    async def start(self) -> None:
        """Open the listening connection and watch it. A database that cannot be
        reached now is retried in the background (``connected`` stays False)."""
        try:
            await self._connect()
        except CONNECTION_ERRORS as exc:
            log.warning(
                "event bus: cannot listen on %s yet (%s); retrying",
                redact_url(self.database_url),
                type(exc).__name__,
            )
            self._lost.set()
        self._supervisor = asyncio.create_task(self._supervise(), name="goalgraph-bus")

    async def close(self) -> None:
        """Stop the supervisor and drop the listening connection. The supervisor is told
        twice, by a flag and the wake-up event as well as by cancellation: on Python 3.11
        a cancellation that meets a finishing ``wait_for`` can be lost, and a server's
        shutdown must not wait for ever on it."""
        self._closing = True
        self._lost.set()
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.wait({self._supervisor}, timeout=CLOSE_SECONDS)
            self._supervisor = None
        await self._drop_connection()
        self.local.end()

    @property
    def connected(self) -> bool:
        connection = self._connection
        return connection is not None and not connection.is_closed() and not self._lost.is_set()

    @property
    def listening(self) -> frozenset[int]:
        """The tenants whose channels this process LISTENs on now."""
        return frozenset(self._listening if self.connected else ())

    def subscriber_count(self, tenant_id: int | None = None) -> int:
        return self.local.count(tenant_id)

    async def listened_channels(self) -> set[str]:
        """The channels the server says the listening connection LISTENs on (asked of
        PostgreSQL itself, for operators and tests); empty while disconnected."""
        async with self._lock:
            connection = self._connection
            if connection is None or connection.is_closed():
                return set()
            rows = await connection.fetch("SELECT pg_listening_channels() AS channel")
        return {str(row["channel"]) for row in rows}

    # --- publishing ------------------------------------------------------------------

    async def publish(self, event: Event) -> None:
        """NOTIFY on the task's current connection: a pooled one outside a
        transaction (delivered at once), the transaction's inside one (at its COMMIT)."""
        await self.publish_in(get_connection("default"), [event])

    async def publish_in(self, transaction: BaseDBAsyncClient, events: Sequence[Event]) -> bool:
        if events:
            channels, payloads = zip(*(encode(event) for event in events), strict=True)
            await transaction.execute_query(NOTIFY_SQL, [list(channels), list(payloads)])
        return True

    # --- subscribing -----------------------------------------------------------------

    @asynccontextmanager
    async def subscribe(
        self, tenant_id: int, topics: Collection[str]
    ) -> AsyncIterator[AsyncIterator[Event]]:
        """The subscription counts once its tenant's channel is LISTENed (when the
        connection is down, the reconnect LISTENs and sends it a ``RESYNC``)."""
        self._interest[tenant_id] += 1
        try:
            await self._follow(tenant_id)
            subscriber = self.local.add(tenant_id, topics)
            try:
                yield subscriber
            finally:
                self.local.discard(subscriber)
        finally:
            self._interest[tenant_id] -= 1
            if self._interest[tenant_id] <= 0:
                del self._interest[tenant_id]
            await self._follow(tenant_id)

    async def _follow(self, tenant_id: int) -> None:
        """LISTEN on the tenant's channel while it has subscribers here, UNLISTEN when
        it has none: brings the connection in line with ``_interest`` for one tenant."""
        async with self._lock:
            connection = self._connection
            if connection is None or connection.is_closed():
                return
            channel = channel_of(tenant_id)
            wanted = tenant_id in self._interest
            try:
                if wanted and tenant_id not in self._listening:
                    await connection.add_listener(channel, self._on_notification)
                    self._listening.add(tenant_id)
                elif not wanted and tenant_id in self._listening:
                    self._listening.discard(tenant_id)
                    await connection.remove_listener(channel, self._on_notification)
            except CONNECTION_ERRORS:
                self._lost.set()  # the reconnect LISTENs on what is wanted then

    def _on_notification(
        self, connection: asyncpg.Connection, pid: int, channel: str, payload: str
    ) -> None:
        received = time.time()
        decoded = decode(channel, payload)
        if decoded is None:
            return
        event, sent = decoded
        events.observe_lag(max(0.0, received - sent))
        self.local.deliver(event)

    # --- the listening connection ----------------------------------------------------

    async def _connect(self) -> None:
        """A new listening connection, LISTENing on every channel wanted now."""
        async with self._lock:
            connection = await asyncpg.connect(
                **connect_args(self.database_url),
                timeout=CONNECT_TIMEOUT_SECONDS,
                server_settings={"application_name": self.application_name},
            )
            try:
                wanted = set(self._interest)
                for tenant_id in sorted(wanted):
                    await connection.add_listener(channel_of(tenant_id), self._on_notification)
            except BaseException:
                connection.terminate()
                raise
            connection.add_termination_listener(self._on_termination)
            self._connection, self._listening = connection, wanted
            self._lost.clear()

    def _on_termination(self, connection: asyncpg.Connection) -> None:
        if connection is self._connection:
            self._lost.set()

    async def _drop_connection(self) -> None:
        async with self._lock:
            connection, self._connection = self._connection, None
            self._listening = set()
        if connection is not None and not connection.is_closed():
            try:
                async with asyncio.timeout(1.0):
                    await connection.close()
            except (*CONNECTION_ERRORS, asyncio.CancelledError):
                connection.terminate()

    async def _alive(self) -> bool:
        """The cheap periodic check: a round trip on the listening connection."""
        async with self._lock:
            connection = self._connection
            if connection is None or connection.is_closed():
                return False
            try:
                async with asyncio.timeout(self.check_seconds):
                    await connection.fetchval("SELECT 1")
            except CONNECTION_ERRORS:
                return False
            return True

    async def _until_lost(self) -> None:
        while not self._closing:
            try:
                async with asyncio.timeout(self.check_seconds):
                    await self._lost.wait()
                return
            except TimeoutError:
                if not await self._alive():
                    return

    async def _supervise(self) -> None:
        """Forever: wait until the connection is lost, reconnect, send ``RESYNC``."""
        while True:
            await self._until_lost()
            if self._closing:
                return
            log.warning(
                "event bus: the listening connection to %s was lost; reconnecting",
                redact_url(self.database_url),
            )
            self._lost.set()
            await self._drop_connection()
            await self._reconnect()
            if self._closing:
                return
            self.reconnects += 1
            log.info("event bus: listening again on %s channels", len(self._listening))
            self.local.resync("reconnected")

    async def _reconnect(self) -> None:
        """Connect again, at once and then after each backoff delay, until it works."""
        delays = self.backoff.delays()
        while not self._closing:
            try:
                await self._connect()
                return
            except CONNECTION_ERRORS as exc:
                delay = next(delays)
                log.warning(
                    "event bus: reconnecting to %s failed (%s); next try in %.1f s",
                    redact_url(self.database_url),
                    type(exc).__name__,
                    delay,
                )
                await asyncio.sleep(delay)


async def events_bus_for(settings: Settings) -> EventBus:
    """The bus of a server on ``settings``' database, started: ``PostgresBus`` on
    PostgreSQL (its workers share live updates), ``InProcessBus`` on SQLite (one
    process)."""
    if not is_postgres(settings.database_url):
        return InProcessBus()
    bus = PostgresBus(settings.database_url)
    await bus.start()
    return bus
