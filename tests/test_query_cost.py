"""The query cost limit: what documents cost, refusals before anything runs, the cost
in every answer (standard and fast tree path), and a schema walk that leaves no list
unpriced."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from itertools import pairwise
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import pytest_asyncio
from graphql import GraphQLSchema, get_introspection_query, parse, validate
from graphql import build_schema as graphql_schema
from strawberry.extensions import SchemaExtension

from bench import goal_tree, workloads
from goalgraph.core import rls
from goalgraph.core.models import OrgUnit
from goalgraph.core.settings import Settings
from goalgraph.plugins.manager import PackManager
from goalgraph.schema import build_schema
from goalgraph.schema.cost import (
    DEFAULT_MAX_COST,
    TREE_NODES,
    operation_cost,
    unbounded_lists,
)
from goalgraph.schema.view import GoalGraphQL

from .factories import build_chain, gid, gql, make_company
from .test_subscriptions import Live, live, receive, sign_in  # noqa: F401

SCHEMA: GraphQLSchema = build_schema()._schema


def cost(document: str, variables: dict[str, Any] | None = None, name: str | None = None) -> int:
    parsed = parse(document)
    assert not validate(SCHEMA, parsed)
    found = operation_cost(SCHEMA, parsed, name, variables)
    assert found is not None
    return found


def tree(levels: int) -> str:
    """bench/goal_tree.py's selection, ``levels`` node levels deep."""
    fragment = (
        "fragment N on GoalNode { id kind title titleEn progress score "
        "owner { ... on OrgUnit { name } ... on Person { name } } "
        "... on Kpi { currentValue target threshold } }"
    )
    body = "...N " + "children { ...N " * (levels - 1) + "}" * (levels - 1)
    return f"{fragment} {{ goalTree {{ {body} }} }}"


#: Short, shallow, few aliases, and millions of rows: 100 people × 50 × 50 × 50 reports.
EVERYTHING = (
    "{ people(first: 100) { edges { node { name reports { name reports { name "
    "reports { name email } } } } } } }"
)
#: Under the alias, depth and token limits: 60 aliased full goal trees.
ALIASED_TREES = (
    tree(7).split(" { goalTree")[0]
    + " { "
    + " ".join(
        f"t{i}: goalTree {{ ...N children {{ ...N children {{ ...N }} }} }}" for i in range(60)
    )
    + " }"
)


# -- what documents cost -----------------------------------------------------------------


def test_each_field_costs_one() -> None:
    assert cost("{ __typename }") == 1
    assert cost("{ tenant { name slug } }") == 3


def test_a_connection_multiplies_its_edges_by_first() -> None:
    page = "{ objectives(first: 10) { totalCount edges { node { id title } } } }"
    # objectives, totalCount, edges: 1 each; node, id, title: 10 each
    assert cost(page) == 3 + 10 * 3


def test_first_absent_is_the_default_page_and_above_the_cap_is_the_cap() -> None:
    assert cost("{ objectives { edges { node { id } } } }") == 2 + 50 * 2
    assert cost("{ objectives(first: 100000) { edges { node { id } } } }") == 2 + 500 * 2
    assert cost("{ objectives(first: 0) { edges { node { id } } } }") == 2


def test_nested_lists_multiply() -> None:
    nested = "{ people(first: 10) { edges { node { reports { name reports { name } } } } } }"
    # people, edges; per person: node, reports; per report: name, reports; 50 × name
    assert cost(nested) == 2 + 10 * (2 + 50 * (2 + 50))


def test_variables_and_their_defaults_give_first_its_value() -> None:
    page = "query($n: Int) { objectives(first: $n) { edges { node { id } } } }"
    assert cost(page, {"n": 10}) == 2 + 10 * 2
    assert cost(page, {}) == 2 + 50 * 2
    defaulted = "query($n: Int = 5) { objectives(first: $n) { edges { node { id } } } }"
    assert cost(defaulted) == 2 + 5 * 2


def test_variables_that_do_not_fit_cost_nothing_and_execution_reports_them() -> None:
    page = "query($n: Int!) { objectives(first: $n) { edges { node { id } } } }"
    assert operation_cost(SCHEMA, parse(page), None, {}) is None


def test_fragments_cost_what_their_fields_cost_where_they_are_spread() -> None:
    inline = "{ objectives(first: 4) { edges { node { id title } } } }"
    spread = (
        "fragment F on Objective { id title } { objectives(first: 4) { edges { node { ...F } } } }"
    )
    typed = "{ objectives(first: 4) { edges { node { ... on Objective { id title } } } } }"
    assert cost(spread) == cost(inline) == cost(typed)
    # a field selected twice under one key is answered, and counted, once
    twice = "fragment F on Objective { id } { objectives(first: 4) { edges { node { id ...F } } } }"
    assert cost(twice) == cost("{ objectives(first: 4) { edges { node { id } } } }")


def test_aliases_are_counted_each() -> None:
    assert cost("{ a: tenant { name } b: tenant { name } c: tenant { name } }") == 6


def test_skip_and_include_are_honoured() -> None:
    document = "query($s: Boolean!) { tenant { name slug @skip(if: $s) stage @include(if: $s) } }"
    assert cost(document, {"s": True}) == 3
    assert cost(document, {"s": False}) == 3
    skipped = (
        "query($s: Boolean!) { tenant { name } "
        "people(first: 500) @skip(if: $s) { edges { node { id } } } }"
    )
    assert cost(skipped, {"s": True}) == 2
    assert cost(skipped, {"s": False}) == 2 + 2 + 500 * 2


def test_an_operation_is_costed_by_its_name() -> None:
    document = "query A { tenant { name } } query B { people(first: 3) { totalCount } }"
    assert cost(document, name="A") == 2
    assert cost(document, name="B") == 2
    assert operation_cost(SCHEMA, parse(document), None, None) is None  # which one?


def test_tree_levels_add_up_instead_of_multiplying() -> None:
    costs = [cost(tree(levels)) for levels in range(1, 9)]
    steps = [b - a for a, b in pairwise(costs)]
    # once a level holds a full tree's worth of goals, each further level costs the same
    assert steps[-1] == steps[-2] == steps[-3]
    assert steps[-1] < 20 * TREE_NODES
    assert cost(tree(7)) < DEFAULT_MAX_COST // 5


def test_the_benchmark_queries_cost_less_than_the_maximum() -> None:
    team = {"root": "x", "unit": "x", "cycle": "x"}
    assert cost(goal_tree.QUERY) == cost(workloads.TREE_QUERY) == cost(tree(7))
    assert cost(workloads.TEAM_QUERY, team) < DEFAULT_MAX_COST // 5
    assert cost(workloads.COMPANY_CARD, {"cycle": "x"}) < 100


def test_introspection_is_cheap() -> None:
    assert cost(get_introspection_query()) < 1_000


def test_abusive_documents_cost_more_than_the_maximum() -> None:
    assert cost(EVERYTHING) > 100 * DEFAULT_MAX_COST
    assert cost(ALIASED_TREES) > DEFAULT_MAX_COST


# -- every list is priced ----------------------------------------------------------------


def test_every_list_has_a_first_argument_or_a_declared_bound() -> None:
    assert not sorted(unbounded_lists(SCHEMA)), "declare a bound in schema/cost.py BOUNDS"


def test_the_walk_finds_a_list_without_a_bound() -> None:
    sdl = """
      type PageInfo { hasNextPage: Boolean! }
      type Edge { node: Thing! }
      type ThingConnection { edges: [Edge!]! pageInfo: PageInfo! }
      type Thing { name: String! tags: [String!]! }
      type Query {
        things: [Thing!]!
        paged(first: Int): ThingConnection!
        unpaged: ThingConnection!
        one: Thing
      }
    """
    # a list of scalars multiplies nothing; a connection's edges take its first
    assert set(unbounded_lists(graphql_schema(sdl))) == {"Query.things", "Query.unpaged"}


# -- over HTTP ---------------------------------------------------------------------------


@pytest_asyncio.fixture
async def standard(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API with the fast tree path off (the ``client`` fixture opens Tortoise)."""
    view = GoalGraphQL(settings.model_copy(update={"fast_paths": False}), PackManager.discover())
    transport = httpx.ASGITransport(app=rls.Unbound(view))
    async with httpx.AsyncClient(transport=transport, base_url="http://goalgraph.test") as c:
        yield c


async def test_a_costly_query_is_refused_with_its_cost(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    for _ in range(2):  # the second time, the document comes from the caches
        body = await gql(client, EVERYTHING, auth=company.token())
        assert body["_status"] == 200
        assert body["data"] is None
        assert len(body["errors"]) == 1
        extensions = body["errors"][0]["extensions"]
        assert extensions == {
            "code": "QUERY_TOO_COSTLY",
            "cost": cost(EVERYTHING),
            "maxCost": DEFAULT_MAX_COST,
        }
        assert body["extensions"]["cost"]["requested"] == cost(EVERYTHING)


async def test_a_refused_mutation_changes_nothing(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    parent = gid("OrgUnit", company.region.id)
    creates = " ".join(
        f'u{i}: createOrgUnit(input: {{name: "店{i}", kind: STORE, parentId: "{parent}"}}) '
        "{ orgUnit { children { children { children { name } } } } }"
        for i in range(10)
    )
    before = await OrgUnit.filter(tenant_id=company.tenant.id).count()
    body = await gql(client, f"mutation {{ {creates} }}", auth=company.token())
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert body["data"] is None
    assert await OrgUnit.filter(tenant_id=company.tenant.id).count() == before


async def test_every_answer_reports_its_cost_on_both_tree_paths(
    client: httpx.AsyncClient, standard: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    company = await make_company("acme")
    await build_chain(company, depth=3, width=2)
    expected = {"requested": cost(tree(7)), "maximum": DEFAULT_MAX_COST}
    with caplog.at_level(logging.DEBUG, logger="goalgraph.fast_tree"):
        fast = await gql(client, tree(7), auth=company.token())
        taken = [r for r in caplog.records if r.name == "goalgraph.fast_tree"]
    slow = await gql(standard, tree(7), auth=company.token())
    assert len(taken) == 1  # the fast path answered
    assert "errors" not in fast
    assert fast["extensions"]["cost"] == expected
    assert slow["extensions"]["cost"] == expected
    assert fast["data"] == slow["data"]
    beside = "{ viewer { role } goalTree { id } }"
    both = await gql(client, beside, auth=company.token())
    assert both["extensions"]["cost"]["requested"] == cost(beside)


async def test_a_costly_tree_is_refused_before_the_fast_path_answers(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    company = await make_company("acme")
    await build_chain(company)
    with caplog.at_level(logging.DEBUG, logger="goalgraph.fast_tree"):
        body = await gql(client, ALIASED_TREES, auth=company.token())
        taken = [r for r in caplog.records if r.name == "goalgraph.fast_tree"]
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert not taken


async def test_the_maximum_is_a_setting(client: httpx.AsyncClient, settings: Settings) -> None:
    company = await make_company("acme")
    view = GoalGraphQL(settings.model_copy(update={"max_query_cost": 3}), PackManager.discover())
    transport = httpx.ASGITransport(app=rls.Unbound(view))
    async with httpx.AsyncClient(transport=transport, base_url="http://goalgraph.test") as strict:
        fine = await gql(strict, "{ tenant { name slug } }", auth=company.token())
        refused = await gql(strict, "{ tenant { name slug stage } }", auth=company.token())
    assert fine["extensions"]["cost"] == {"requested": 3, "maximum": 3}
    assert refused["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COSTLY",
        "cost": 4,
        "maxCost": 3,
    }


def test_the_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOALGRAPH_MAX_QUERY_COST", "1234")
    monkeypatch.setenv("GOALGRAPH_MAX_QUERY_TOKENS", "900")
    read = Settings()
    assert (read.max_query_cost, read.max_query_tokens) == (1234, 900)
    assert (Settings.model_fields["max_query_cost"].default, DEFAULT_MAX_COST) == (100_000,) * 2


async def test_the_cost_is_kept_on_the_context(client: httpx.AsyncClient) -> None:
    seen: list[Any] = []

    class Later(SchemaExtension):
        """An extension after the cost limit, as the rate limits are: it finds the cost
        on the context once the document is validated."""

        def on_validate(self) -> Iterator[None]:
            seen.append(self.execution_context.context.cost)
            yield

    schema = build_schema()
    schema.extensions = (*schema.extensions, Later)
    context = SimpleNamespace(cost=None)
    result = await schema.execute("{ __typename }", context_value=context)
    assert result.errors is None
    assert (context.cost.requested, context.cost.maximum) == (1, DEFAULT_MAX_COST)
    assert seen == [context.cost]


async def test_documents_over_the_token_limit_are_refused(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    long = "{ goalTree { " + "id " * 5_100 + "} }"
    body = await gql(client, long, auth=company.token())
    assert body["data"] is None
    assert "more than 5000 tokens" in body["errors"][0]["message"]
    # the largest documents of the benchmark and of GraphiQL stay well under it
    for document in (tree(7), get_introspection_query()):
        assert (await gql(client, document, auth=company.token())).get("errors") is None


async def test_the_token_limit_is_a_setting(client: httpx.AsyncClient) -> None:
    schema = build_schema(max_tokens=40)
    context = SimpleNamespace(cost=None)
    short = await schema.execute("{ " + "__typename " * 30 + "}", context_value=context)
    long = await schema.execute("{ " + "__typename " * 50 + "}", context_value=context)
    assert short.errors is None
    assert long.errors is not None
    assert "more than 40 tokens" in long.errors[0].message


async def test_a_costly_subscription_is_refused_at_subscribe(live: Live) -> None:  # noqa: F811
    company = await make_company("acme")
    ws = await live.connect()
    ack = await sign_in(ws, {"Authorization": f"Bearer {company.token()}"})
    assert ack == {"type": "connection_ack"}
    costly = (
        'subscription { goalProgress(rootId: "T2JqZWN0aXZlOjE=") { changes { node { '
        "owner { ... on OrgUnit { children { children { children { name } } } } } } } } }"
    )
    await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": costly}})
    answer = await receive(ws)
    await ws.close()
    # graphql-transport-ws's refusal of an operation before it runs: one error message
    assert (answer["type"], answer["id"]) == ("error", "1")
    assert answer["payload"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
