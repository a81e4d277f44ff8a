"""GOALGRAPH_ENV=production: no GraphiQL, introspection or field suggestions, HSTS,
WebSocket origins checked; security headers on every response in every environment.

The app here is the real one with production settings (the suite's ``client`` and a
real uvicorn server for WebSockets take this module's ``settings``)."""

from __future__ import annotations

import aiohttp
import httpx
import pytest

from goalgraph.core.app import create_app
from goalgraph.core.settings import Settings

from .factories import TEST_SECRET, make_company
from .test_subscriptions import Live, live, receive, sign_in  # noqa: F401  (fixture)

ALLOWED = "https://okr.example.com"
INTROSPECTION = "{ __schema { queryType { name } } }"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        secret=TEST_SECRET,
        sync_poll_seconds=0,
        env="production",
        allowed_origins=[ALLOWED],
    )


def _development(settings: Settings) -> Settings:
    return settings.model_copy(update={"env": "development"})


async def _ask(app_settings: Settings, query: str) -> httpx.Response:
    """One POST to a fresh app of ``app_settings`` (its lifespan already open elsewhere)."""
    transport = httpx.ASGITransport(app=create_app(app_settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://goalgraph.test") as c:
        return await c.post("/graphql", json={"query": query})


async def test_production_serves_no_graphiql(client: httpx.AsyncClient, settings: Settings) -> None:
    page = {"Accept": "text/html"}
    assert (await client.get("/graphql", headers=page)).status_code == 404
    transport = httpx.ASGITransport(app=create_app(_development(settings)))
    async with httpx.AsyncClient(transport=transport, base_url="http://goalgraph.test") as dev:
        shown = await dev.get("/graphql", headers=page)
    assert shown.status_code == 200
    assert "graphiql" in shown.text.lower()


async def test_production_refuses_introspection_but_answers_typename(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    refused = (await client.post("/graphql", json={"query": INTROSPECTION})).json()
    assert refused.get("data") is None
    assert "introspection" in refused["errors"][0]["message"].lower()
    typename = (await client.post("/graphql", json={"query": "{ __typename }"})).json()
    assert typename["data"] == {"__typename": "Query"}
    allowed = (await _ask(_development(settings), INTROSPECTION)).json()
    assert allowed["data"] == {"__schema": {"queryType": {"name": "Query"}}}


async def test_production_suggests_no_field_names(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    refused = (await client.post("/graphql", json={"query": "{ goalTre { id } }"})).json()
    message = refused["errors"][0]["message"]
    assert "goalTre" in message
    assert "Did you mean" not in message
    suggested = (await _ask(_development(settings), "{ goalTre { id } }")).json()
    assert "Did you mean 'goalTree'" in suggested["errors"][0]["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/graphql"),
        ("GET", "/health"),
        ("GET", "/no-such-page"),
        ("GET", "/static/graphiql/README.md"),
        ("GET", "/scim/v2/Users"),
    ],
)
async def test_every_response_carries_the_security_headers(
    client: httpx.AsyncClient, settings: Settings, method: str, path: str
) -> None:
    response = await client.request(method, path, json={"query": "{ __typename }"})
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["strict-transport-security"].startswith("max-age=63072000")


async def test_development_sends_no_hsts(client: httpx.AsyncClient, settings: Settings) -> None:
    transport = httpx.ASGITransport(app=create_app(_development(settings)))
    async with httpx.AsyncClient(transport=transport, base_url="http://goalgraph.test") as dev:
        response = await dev.get("/health")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in response.headers


async def test_websockets_open_only_from_allowed_origins(live: Live) -> None:  # noqa: F811
    company = await make_company("acme")
    headers = {"Authorization": f"Bearer {company.token()}"}
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await live.session.ws_connect(
            live.ws_url,
            protocols=("graphql-transport-ws",),
            headers={"Origin": "https://evil.example"},
        )
    assert refused.value.status == 403
    for origin in ({"Origin": ALLOWED}, {}):  # an allowed page, and a program (no Origin)
        ws = await live.session.ws_connect(
            live.ws_url, protocols=("graphql-transport-ws",), headers=origin
        )
        assert await sign_in(ws, headers) == {"type": "connection_ack"}
        await ws.close()
