"""Abuse in figures: documents past each limit (depth, aliases, tokens, cost) are
refused, every time, with no 5xx, while another company's ordinary queries keep their
speed.

Each kind of abuse is sent ``size.abuse_requests`` times from one tenant, concurrently
with ordinary tree queries of another tenant; the figures are the share refused, the
5xx count, and the ordinary queries' p99 during the abuse next to their p99 alone.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from graphql import parse

from goalgraph.core.app import create_app
from goalgraph.core.settings import Settings
from goalgraph.schema import build_schema
from goalgraph.schema.cost import operation_cost
from goalgraph.schema.view import COST_PER_UNIT

from ..factories import build_chain, make_company
from .conftest import Record
from .size import Size

SECTION = "abuse"
ORDINARY = "{ goalTree { id title progress children { id title progress } } }"


def _deep(levels: int) -> dict[str, Any]:
    return {"query": "{ goalTree { " + "children { " * levels + "id" + " }" * levels + " } }"}


def _aliases(count: int) -> dict[str, Any]:
    return {"query": "{ " + " ".join(f"a{i}: __typename" for i in range(count)) + " }"}


def _costly(reports: int) -> dict[str, Any]:
    # 100 people and ``reports`` levels of their reports: short, shallow, few aliases,
    # and only its cost is past its limit
    nested = "reports { name " * reports + "}" * reports
    return {"query": "{ people(first: 100) { edges { node { name " + nested + " } } } }"}


def _tokens(count: int) -> dict[str, Any]:
    # under the alias and depth limits: only the token count is past its limit
    return {"query": "{ goalTree { " + "id " * count + "} }"}


@dataclass(frozen=True)
class Abuse:
    """One kind of abusive request and how to tell that it was refused."""

    name: str
    body: Callable[[], dict[str, Any]]

    def refused(self, response: httpx.Response) -> bool:
        if 400 <= response.status_code < 500:
            return True
        payload = response.json()
        return payload.get("data") is None and bool(payload.get("errors"))


ABUSES = (
    Abuse("depth 42", lambda: _deep(42)),
    Abuse("1,000 aliases", lambda: _aliases(1000)),
    Abuse("25,000 tokens", lambda: _tokens(25_000)),
    Abuse("cost 100 × 50 × 50 × 50", lambda: _costly(3)),
)


def query_cost(query: str) -> int:
    """What the app costs ``query`` at (``schema/cost.py``)."""
    cost = operation_cost(build_schema()._schema, parse(query))
    assert cost is not None
    return cost


def p99(samples: list[float]) -> float:
    if len(samples) < 2:
        return samples[0] if samples else 0.0
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


async def _ordinary(client: httpx.AsyncClient, token: str, count: int) -> list[float]:
    """``count`` ordinary tree queries one after another; their latencies in ms."""
    headers = {"Authorization": f"Bearer {token}"}
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        response = await client.post("/graphql", json={"query": ORDINARY}, headers=headers)
        latencies.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
        assert "errors" not in response.json(), response.text
    return latencies


async def _abuse(
    client: httpx.AsyncClient, token: str, abuse: Abuse, count: int
) -> tuple[int, int]:
    """(refused, 5xx) of ``count`` abusive requests, eight at a time."""
    headers = {"Authorization": f"Bearer {token}"}
    gate = asyncio.Semaphore(8)

    async def one() -> httpx.Response:
        async with gate:
            return await client.post("/graphql", json=abuse.body(), headers=headers)

    responses = await asyncio.gather(*(one() for _ in range(count)))
    server_errors = sum(r.status_code >= 500 for r in responses)
    return sum(abuse.refused(r) for r in responses), server_errors


async def test_every_abusive_request_is_refused_and_others_keep_their_speed(
    client: httpx.AsyncClient, size: Size, figures: Record
) -> None:
    victim = await make_company("acme")
    await build_chain(victim, depth=3, width=3)
    abuser = await make_company("noisy")
    ordinary = max(20, size.abuse_requests // 4)
    alone = await _ordinary(client, victim.token(), ordinary)
    figures(SECTION, "ordinary queries' p99 alone", round(p99(alone), 1), unit="ms")
    for abuse in ABUSES:
        (refused, server_errors), during = await asyncio.gather(
            _abuse(client, abuser.token(), abuse, size.abuse_requests),
            _ordinary(client, victim.token(), ordinary),
        )
        share = round(100 * refused / size.abuse_requests, 1)
        figures(SECTION, f"{abuse.name}: refused", share, unit="%")
        figures(SECTION, f"{abuse.name}: 5xx", server_errors, must_be_zero=True)
        figures(SECTION, f"{abuse.name}: ordinary p99 during", round(p99(during), 1), unit="ms")
        assert refused == size.abuse_requests, f"{abuse.name}: {refused} refused"
        assert server_errors == 0, f"{abuse.name}: {server_errors} answered 5xx"


async def _flood(
    client: httpx.AsyncClient, token: str, body: dict[str, Any], count: int
) -> list[httpx.Response]:
    """``count`` requests of ``body``, eight at a time."""
    headers = {"Authorization": f"Bearer {token}"}
    gate = asyncio.Semaphore(8)

    async def one() -> httpx.Response:
        async with gate:
            return await client.post("/graphql", json=body, headers=headers)

    return list(await asyncio.gather(*(one() for _ in range(count))))


def _record(figures: Record, name: str, refused: int, count: int, server_errors: int) -> None:
    figures(SECTION, f"{name}: refused", round(100 * refused / count, 1), unit="%")
    figures(SECTION, f"{name}: 5xx", server_errors, must_be_zero=True)


async def test_bodies_over_the_limit_are_refused_and_others_keep_their_speed(
    client: httpx.AsyncClient, settings: Settings, size: Size, figures: Record
) -> None:
    victim = await make_company("acme")
    await build_chain(victim, depth=3, width=3)
    abuser = await make_company("noisy")
    name = "body over the limit"
    oversized = {"query": "{ __typename }", "variables": {"pad": "x" * settings.max_body_bytes}}
    ordinary = max(20, size.abuse_requests // 4)
    responses, during = await asyncio.gather(
        _flood(client, abuser.token(), oversized, size.abuse_requests),
        _ordinary(client, victim.token(), ordinary),
    )
    refused = sum(r.status_code == 413 for r in responses)
    server_errors = sum(r.status_code >= 500 for r in responses)
    _record(figures, name, refused, size.abuse_requests, server_errors)
    figures(SECTION, f"{name}: ordinary p99 during", round(p99(during), 1), unit="ms")
    assert refused == size.abuse_requests, f"{name}: {refused} refused"
    assert server_errors == 0, f"{name}: {server_errors} answered 5xx"


async def test_a_tenant_over_its_rate_limit_is_refused_and_others_keep_their_speed(
    settings: Settings, size: Size, figures: Record
) -> None:
    """Each tenant may spend a burst worth three times the victim's ordinary queries and
    next to nothing after: the abuser spends its burst, then every further request is
    refused (429), while the victim's queries, within its own bucket, keep theirs."""
    ordinary = max(20, size.abuse_requests // 4)
    burst = 3 * ordinary
    # each ordinary query is charged its cost in hundreds (schema/view.rate_units)
    units = -(-query_cost(ORDINARY) // COST_PER_UNIT)
    limited = settings.model_copy(
        update={
            "rate_limit_per_token": 0,
            "rate_limit_per_tenant": 0.01,
            "rate_limit_per_tenant_burst": burst * units,
        }
    )
    name = "over the rate limit"
    app = create_app(limited)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://goalgraph.test") as c:
            victim = await make_company("acme")
            await build_chain(victim, depth=3, width=3)
            abuser = await make_company("noisy")
            responses, during = await asyncio.gather(
                _flood(c, abuser.token(), {"query": ORDINARY}, burst + size.abuse_requests),
                _ordinary(c, victim.token(), ordinary),
            )
    refused = sum(r.status_code == 429 and "Retry-After" in r.headers for r in responses)
    server_errors = sum(r.status_code >= 500 for r in responses)
    # the share of the requests past the abuser's burst
    _record(figures, name, refused, size.abuse_requests, server_errors)
    figures(SECTION, f"{name}: ordinary p99 during", round(p99(during), 1), unit="ms")
    assert refused == size.abuse_requests, f"{name}: {refused} refused"
    assert server_errors == 0, f"{name}: {server_errors} answered 5xx"
