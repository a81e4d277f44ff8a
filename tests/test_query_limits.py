"""Documents too deep, with too many aliases or too many tokens are refused before
anything runs, every time (validation results are cached by document)."""

from __future__ import annotations

import httpx

from .factories import gql, make_company


def _deep(levels: int) -> str:
    return "{ goalTree { " + "children { " * levels + "id" + " }" * levels + " } }"


async def test_a_document_too_deep_is_refused_each_time(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    for _ in range(2):  # the second answer comes from the validation cache
        body = await gql(client, _deep(42), auth=company.token())
        assert body["data"] is None
        assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    ok = await gql(client, _deep(5), auth=company.token())
    assert ok["data"] == {"goalTree": []}


async def test_too_many_aliases_are_refused(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    # 3,000 tokens: under the token limit, so the alias limit is what refuses it
    aliases = " ".join(f"a{i}: __typename" for i in range(1000))
    body = await gql(client, f"{{ {aliases} }}", auth=company.token())
    assert body["data"] is None
    assert "aliases found" in body["errors"][0]["message"]
    fine = await gql(client, "{ a: __typename b: __typename }", auth=company.token())
    assert fine["data"] == {"a": "Query", "b": "Query"}
