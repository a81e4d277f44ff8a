"""Lists: Relay cursor pagination that neither skips nor repeats, and lookups by id."""

from __future__ import annotations

import httpx

from goalgraph.core.services import objectives

from .factories import gid, gql, make_company

PAGE = """query($first: Int, $after: String) {
  objectives(first: $first, after: $after) {
    totalCount
    edges { cursor node { title } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}"""


async def test_paging_through_objectives_visits_each_once(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    for i in range(7):
        await objectives.create_objective(
            company.scope,
            title=f"目标{i}",
            cycle_id=company.cycle.id,
            owner_unit_id=company.root.id,
        )
    seen, after, pages = [], None, 0
    while True:
        body = await gql(client, PAGE, {"first": 3, "after": after}, auth=company.token())
        page = body["data"]["objectives"]
        assert page["totalCount"] == 7
        seen += [e["node"]["title"] for e in page["edges"]]
        pages += 1
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 3
    assert seen == [f"目标{i}" for i in range(7)]


async def test_a_bad_cursor_or_page_size_is_a_clear_error(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    bad = await gql(client, PAGE, {"first": 3, "after": "nonsense"}, auth=company.token())
    assert bad["data"] is None
    assert bad["errors"][0]["extensions"]["code"] == "INVALID"
    assert "cursor" in bad["errors"][0]["message"]
    huge = await gql(client, PAGE, {"first": 100000}, auth=company.token())
    assert huge["errors"][0]["extensions"]["code"] == "OUT_OF_RANGE"


async def test_people_of_a_unit_and_below(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    query = """query($unit: ID!, $sub: Boolean!) {
      people(orgUnitId: $unit, includeSubUnits: $sub) { edges { node { nameEn } } } }"""
    region = gid("OrgUnit", company.region.id)
    direct = await gql(client, query, {"unit": region, "sub": False}, auth=company.token())
    below = await gql(client, query, {"unit": region, "sub": True}, auth=company.token())
    names = lambda body: [e["node"]["nameEn"] for e in body["data"]["people"]["edges"]]  # noqa: E731
    assert names(direct) == ["Region Manager"]
    assert names(below) == ["Region Manager", "Clerk A", "Clerk B"]


async def test_node_resolves_every_kind_by_global_id(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    query = """query($id: ID!) { node(id: $id) { __typename id
      ... on OrgUnit { name } ... on Person { name } ... on Cycle { name } } }"""
    for type_name, row, name in (
        ("OrgUnit", company.store, "一号店"),
        ("Person", company.manager, "区经理"),
        ("Cycle", company.cycle, "2026Q4"),
    ):
        body = await gql(client, query, {"id": gid(type_name, row.id)}, auth=company.token())
        assert body["data"]["node"] == {
            "__typename": type_name,
            "id": gid(type_name, row.id),
            "name": name,
        }
    unknown = await gql(client, query, {"id": gid("Nope", 1)}, auth=company.token())
    assert unknown["data"]["node"] is None


async def test_malformed_and_abstract_ids(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    bad = await gql(client, '{ objective(id: "%%%") { title } }', auth=company.token())
    assert bad["data"] == {"objective": None}
    assert bad["errors"][0]["extensions"]["code"] == "INVALID"
    abstract = await gql(
        client,
        "query($id: ID!) { node(id: $id) { id } }",
        {"id": gid("GoalNode", 1)},
        auth=company.token(),
    )
    abstract.pop("extensions")  # the operation's cost
    assert abstract == {"data": {"node": None}, "_status": 200}


async def test_viewer_tells_when_the_token_expires(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    body = await gql(client, "{ viewer { tokenExpiresAt } }", auth=company.token())
    assert body["data"]["viewer"]["tokenExpiresAt"].startswith("20")
