"""Rate limits: token buckets charged by what an operation costs.

Every GraphQL operation is charged its cost (``rate_units`` in ``schema/view.py``: its
query cost in hundreds) against up to two buckets at once: the caller's own (a session,
an API key, a ``goalgraph token``'s person or role; an unauthenticated caller by its
client address) and its tenant's, so one noisy tenant spends its own bucket and nobody
else's. A charge takes from every bucket or from none, and a refusal says how long
to wait before the same charge would pass.

Two stores keep the buckets behind one interface (``BucketStore``): in process
(one server process; a bounded dict) and Redis (several processes share the
buckets; one Lua script refills and takes atomically, on the Redis server's clock).
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from .access_keys import ApiKeyScope
from .i18n import msg

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from .settings import Settings
    from .tenancy import TenantScope


@dataclass(frozen=True, slots=True)
class Rule:
    """A bucket's shape: ``rate`` cost units refilled per second, up to ``burst``."""

    rate: float
    burst: float

    @property
    def active(self) -> bool:
        """A rate of 0 switches the limit off."""
        return self.rate > 0 and self.burst > 0

    def affordable(self, cost: float) -> float:
        """What a charge of ``cost`` takes: never more than the whole bucket, so an
        operation dearer than the burst still runs once the bucket is full (the query
        cost limit, not the rate limit, refuses operations too dear to run at all)."""
        return min(float(cost), self.burst)


@dataclass(slots=True)
class Bucket:
    """One bucket's state: its level at the instant ``at`` (seconds, any clock)."""

    level: float
    at: float

    def refilled(self, rule: Rule, now: float) -> float:
        return min(rule.burst, self.level + max(0.0, now - self.at) * rule.rate)


def wait_for(level: float, cost: float, rule: Rule) -> float:
    """Seconds until a bucket at ``level`` holds ``cost`` (0: it does now)."""
    return 0.0 if level >= cost else (cost - level) / rule.rate


def retry_after(wait: float) -> int:
    """Whole seconds for a ``Retry-After`` header: rounded up, at least 1."""
    return max(1, math.ceil(wait))


class LocalBucket:
    """One bucket on its own, for a limit that lives as long as one object (a
    websocket's subscribe messages): no key, no store."""

    def __init__(self, rule: Rule, clock: Callable[[], float] = time.monotonic) -> None:
        self.rule = rule
        self.clock = clock
        self._bucket = Bucket(rule.burst, clock())

    def take(self, cost: float = 1.0) -> float:
        """Take ``cost`` and answer 0, or answer the seconds to wait (taking nothing)."""
        if not self.rule.active:
            return 0.0
        now = self.clock()
        level = self._bucket.refilled(self.rule, now)
        wait = wait_for(level, self.rule.affordable(cost), self.rule)
        if wait == 0:
            self._bucket = Bucket(level - self.rule.affordable(cost), now)
        return wait


class BucketStore(Protocol):
    """Where buckets live: ``take`` charges ``cost`` to every ``(key, rule)`` or to none,
    and answers 0 when it did, else the seconds to wait before the charge would pass."""

    async def take(self, charges: Sequence[tuple[str, Rule]], cost: float) -> float: ...

    async def close(self) -> None: ...


class InProcessBuckets:
    """Buckets in this process's memory, for a single server process.

    At most ``max_keys`` buckets are kept; the least recently charged go first (a
    forgotten bucket starts full again, which errs towards the caller, and one left
    alone that long would have refilled anyway). ``clock`` is injectable for tests.
    """

    def __init__(
        self, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    async def take(self, charges: Sequence[tuple[str, Rule]], cost: float) -> float:
        """No await inside: on one event loop the check and the take are atomic."""
        now = self.clock()
        levels = [self._level(key, rule, now) for key, rule in charges]
        wait = max(
            (
                wait_for(level, rule.affordable(cost), rule)
                for level, (_, rule) in zip(levels, charges, strict=True)
            ),
            default=0.0,
        )
        if wait > 0:
            return wait
        for level, (key, rule) in zip(levels, charges, strict=True):
            self._store(key, Bucket(level - rule.affordable(cost), now))
        return 0.0

    def _level(self, key: str, rule: Rule, now: float) -> float:
        bucket = self._buckets.get(key)
        return rule.burst if bucket is None else bucket.refilled(rule, now)

    def _store(self, key: str, bucket: Bucket) -> None:
        self._buckets[key] = bucket
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)

    async def close(self) -> None:
        self._buckets.clear()


#: Refill and take, for every bucket or none, in one atomic step on the Redis server.
#: KEYS: the buckets; ARGV: cost, then rate and burst per key. Answers the seconds to
#: wait as a string (a Lua number would reach the client truncated to an integer).
TAKE_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local cost = tonumber(ARGV[1])
local levels = {}
local takes = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  local state = redis.call('HMGET', key, 'level', 'at')
  local level = tonumber(state[1]) or burst
  local at = tonumber(state[2]) or now
  level = math.min(burst, level + math.max(0, now - at) * rate)
  local take = math.min(cost, burst)
  levels[i] = level
  takes[i] = take
  if level < take then
    wait = math.max(wait, (take - level) / rate)
  end
end
if wait > 0 then
  return tostring(wait)
end
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  redis.call('HSET', key, 'level', tostring(levels[i] - takes[i]), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 1000)
end
return '0'
"""


class RedisBuckets:
    """Buckets in Redis, shared by every server process that names the same Redis.

    A bucket is a hash (``level``, ``at``) under ``<prefix><key>`` that expires
    once it would be full again, so idle callers cost no memory. A charge to several
    buckets is one script call, so its keys must live on one Redis (not a cluster
    spreading them over shards).

    When Redis cannot be reached (or answers slower than ``TIMEOUT``) the charge is let
    through and a warning logged: an unreachable limiter must not take the API down
    with it, and the per-request limits (depth, tokens, body size) still hold.
    """

    PREFIX = "goalgraph:rl:"
    #: Seconds a charge waits for Redis (to connect, or to answer) before letting it by.
    TIMEOUT = 0.5

    def __init__(self, client: Redis, prefix: str = PREFIX) -> None:
        self.client = client
        self.prefix = prefix
        self._script = client.register_script(TAKE_SCRIPT)

    @classmethod
    def from_url(cls, url: str, prefix: str = PREFIX) -> RedisBuckets:
        from redis.asyncio import Redis

        client = Redis.from_url(url, socket_timeout=cls.TIMEOUT, socket_connect_timeout=cls.TIMEOUT)
        return cls(client, prefix)

    async def take(self, charges: Sequence[tuple[str, Rule]], cost: float) -> float:
        if not charges:
            return 0.0
        keys = [self.prefix + key for key, _ in charges]
        args: list[float] = [float(cost)]
        for _, rule in charges:
            args += [rule.rate, rule.burst]
        from redis.exceptions import RedisError

        try:
            answer = await self._script(keys=keys, args=args)
        except (RedisError, OSError) as exc:
            log.warning("rate limit not applied: Redis is unreachable (%s)", exc)
            return 0.0
        return float(answer.decode() if isinstance(answer, bytes) else answer)

    async def close(self) -> None:
        await self.client.aclose()


# --- who is charged ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Caller:
    """What a charge is keyed by: never a raw token, only what the token identifies."""

    #: The bearer's identity (``session:…``, ``key:…``, ``person:…``, ``role:…``), or
    #: ``address:…`` for a caller that is not signed in.
    key: str
    tenant_id: int | None = None


def caller_of(scope: TenantScope | None, address: str | None) -> Caller:
    """The caller behind a request: its signed-in scope, else its client address.

    A signed-in token names its session; an API key its id; a ``goalgraph token`` its
    person, or (without one) its tenant and role, which every such token shares.
    """
    if scope is None:
        return Caller(f"address:{address or 'unknown'}")
    identity = scope.identity
    tenant = scope.tenant_id
    if isinstance(scope, ApiKeyScope):
        key = f"key:{scope.key_id}"
    elif identity.session_id is not None:
        key = f"session:{identity.session_id}"
    elif identity.person_id is not None:
        key = f"person:{tenant}:{identity.person_id}"
    else:
        key = f"role:{tenant}:{identity.role.value}"
    return Caller(key, tenant)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A charge refused: wait ``retry_after`` whole seconds before trying again."""

    retry_after: int


#: What a refused caller is told (the error's ``extensions`` carry the seconds).
RATE_LIMITED_MESSAGE = msg("limits.rate_limited")


class RateLimiter:
    """The one home of the rate-limit rule: which buckets a caller is charged to."""

    def __init__(
        self, store: BucketStore, per_token: Rule, per_tenant: Rule, anonymous: Rule
    ) -> None:
        self.store = store
        self.per_token = per_token
        self.per_tenant = per_tenant
        self.anonymous = anonymous

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        """Buckets in Redis when ``redis_url`` is set, else in this process."""
        store: BucketStore = (
            RedisBuckets.from_url(settings.redis_url, settings.redis_prefix)
            if settings.redis_url
            else InProcessBuckets()
        )
        return cls(
            store,
            per_token=Rule(settings.rate_limit_per_token, settings.rate_limit_per_token_burst),
            per_tenant=Rule(settings.rate_limit_per_tenant, settings.rate_limit_per_tenant_burst),
            anonymous=Rule(settings.rate_limit_anonymous, settings.rate_limit_anonymous_burst),
        )

    def charges(self, caller: Caller) -> list[tuple[str, Rule]]:
        """The buckets a caller's operation is charged to (switched-off ones left out)."""
        if caller.tenant_id is None:
            pairs = [(caller.key, self.anonymous)]
        else:
            pairs = [(caller.key, self.per_token), (f"tenant:{caller.tenant_id}", self.per_tenant)]
        return [(key, rule) for key, rule in pairs if rule.active]

    async def charge(self, caller: Caller, cost: int) -> Refusal | None:
        """Take ``cost`` from the caller's buckets; a ``Refusal`` when they lack it."""
        charges = self.charges(caller)
        if not charges or cost <= 0:
            return None
        wait = await self.store.take(charges, cost)
        return Refusal(retry_after(wait)) if wait > 0 else None

    async def close(self) -> None:
        await self.store.close()
