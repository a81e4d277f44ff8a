"""Fuzzing in figures: generated operations on every root field, as every role, answer
without a 5xx and without a masked internal error.

hypothesis-graphql generates valid documents from the schema's SDL: for every root field
of Query and Mutation, with arguments drawn from their types, and custom scalar values
that mix the tenant's real global ids with garbage. The root fields are cut into groups of
``FIELDS_PER_DOCUMENT``; each generated document selects every field of its group, and a
role's ``size.fuzz_cases`` documents are spread evenly over the groups, sent through the
real ASGI app. Nothing may answer 5xx, and no error may be
strawberry's masked "Unexpected error." (``schema/errors.py``): either is a bug.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC

import graphql
import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import strategies as gql_st

from goalgraph.core.enums import Role

from ..factories import build_chain, make_company
from .conftest import Record
from .probes_kit import ID_KINDS, Caller, callers, ids_of, sdl_schema
from .size import Size

SECTION = "fuzzing"
#: What strawberry's MaskErrors answers for an error it hides (schema/errors.py).
MASKED = "Unexpected error."
#: Root fields per generated document: small enough that one refused document (a
#: size limit) hides little, large enough that a run is a few hundred requests.
FIELDS_PER_DOCUMENT = 8

Nodes = st.SearchStrategy[graphql.ValueNode]


def _string(values: st.SearchStrategy[str]) -> Nodes:
    return values.map(lambda v: graphql.StringValueNode(value=v))


def _garbage_ids() -> st.SearchStrategy[str]:
    """Ids that are no row: text, wrong or missing kinds, huge or negative row ids."""
    kinds = st.sampled_from([*ID_KINDS, "Nope", ""])
    numbers = st.integers(-(2**70), 2**70).map(str) | st.text(max_size=8)
    relay_like = st.builds(lambda k, n: f"{k}:{n}", kinds, numbers).map(
        lambda raw: base64.b64encode(raw.encode()).decode()
    )
    return st.text(max_size=24) | relay_like


def id_values(real: Sequence[str]) -> Nodes:
    """Mostly the tenant's real ids (so resolvers get past "not found"), some garbage."""
    garbage = _string(_garbage_ids()) | st.integers(-(2**40), 2**40).map(
        lambda n: graphql.IntValueNode(value=str(n))
    )
    if not real:
        return garbage
    return st.one_of(_string(st.sampled_from(list(real))), garbage)


def json_values() -> Nodes:
    leaves = st.one_of(
        _string(st.text(max_size=12)),
        st.integers(-(2**40), 2**40).map(lambda n: graphql.IntValueNode(value=str(n))),
        st.booleans().map(lambda b: graphql.BooleanValueNode(value=b)),
        st.just(graphql.NullValueNode()),
    )

    def containers(children: Nodes) -> Nodes:
        fields = st.dictionaries(
            st.from_regex(r"[a-z_]{1,8}", fullmatch=True), children, max_size=4
        )
        return st.lists(children, max_size=4).map(
            lambda vs: graphql.ListValueNode(values=tuple(vs))
        ) | fields.map(
            lambda d: graphql.ObjectValueNode(
                fields=tuple(
                    graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v)
                    for k, v in d.items()
                )
            )
        )

    return st.recursive(leaves, containers, max_leaves=8)


def custom_scalars(real_ids: Sequence[str]) -> dict[str, Nodes]:
    """Values for the schema's custom scalars (and ID), valid and not."""
    dates = st.dates().map(lambda d: d.isoformat())
    stamps = st.datetimes(timezones=st.none() | st.just(UTC)).map(lambda d: d.isoformat())
    return {
        "ID": id_values(real_ids),
        "Date": _string(dates | st.text(max_size=12)),
        "DateTime": _string(stamps | st.text(max_size=20)),
        "JSON": json_values(),
        "Upload": _string(st.text(max_size=12)),
    }


def _merge(operation: graphql.OperationType, docs: Sequence[graphql.DocumentNode]) -> str:
    """One document holding the root selections of several generated ones."""
    selections: list[graphql.SelectionNode] = []
    for doc in docs:
        definition = doc.definitions[0]
        assert isinstance(definition, graphql.OperationDefinitionNode)
        selections.extend(definition.selection_set.selections)
    merged = graphql.OperationDefinitionNode(
        operation=operation, selection_set=graphql.SelectionSetNode(selections=tuple(selections))
    )
    return graphql.print_ast(graphql.DocumentNode(definitions=(merged,)))


def _chunks(names: Sequence[str]) -> list[list[str]]:
    return [
        list(names[i : i + FIELDS_PER_DOCUMENT]) for i in range(0, len(names), FIELDS_PER_DOCUMENT)
    ]


def document_groups(real_ids: Sequence[str]) -> list[st.SearchStrategy[str]]:
    """A strategy per group of ``FIELDS_PER_DOCUMENT`` root fields (of Query or of
    Mutation): each draws one document selecting every field of its group."""
    schema = sdl_schema()
    scalars = custom_scalars(real_ids)
    groups: list[st.SearchStrategy[str]] = []
    roots = [(graphql.OperationType.QUERY, schema.query_type, gql_st.queries)]
    roots.append((graphql.OperationType.MUTATION, schema.mutation_type, gql_st.mutations))
    for operation, root, make in roots:
        assert root is not None
        for names in _chunks(sorted(root.fields)):
            singles = [
                make(schema, fields=[name], custom_scalars=scalars, print_ast=lambda d: d)
                for name in names
            ]
            groups.append(
                st.tuples(*singles).map(lambda docs, op=operation: _merge(op, docs))  # type: ignore[misc]
            )
    return groups


def generate(role: str, groups: Sequence[st.SearchStrategy[str]], cases: int) -> list[str]:
    """About ``cases`` documents, spread evenly over the groups (so every root field is
    in several), reproducibly: derandomised, and seeded apart per role and group."""
    drawn: list[str] = []
    per_group = max(1, -(-cases // len(groups)))
    for index, group in enumerate(groups):

        def collect(document: str) -> None:
            drawn.append(document)

        # derandomize seeds from the function's digest; this makes each run its own
        collect._hypothesis_internal_add_digest = f"{role}/{index}".encode()  # type: ignore[attr-defined]
        settings(
            max_examples=per_group,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )(given(group)(collect))()
    return drawn


@dataclass
class Tally:
    """What a fuzzing run saw."""

    documents: int = 0
    fields: int = 0
    server_errors: int = 0
    masked: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, document: str, response: httpx.Response) -> None:
        self.documents += 1
        self.fields += _root_fields(document)
        if response.status_code >= 500:
            self.server_errors += 1
            self.failures.append(f"HTTP {response.status_code}: {document[:2000]}")
            return
        errors = response.json().get("errors") or []
        masked = [e for e in errors if e.get("message") == MASKED]
        self.masked += len(masked)
        for error in masked:
            self.failures.append(f"masked at {error.get('path')}: {document[:2000]}")


def _root_fields(document: str) -> int:
    definition = graphql.parse(document).definitions[0]
    assert isinstance(definition, graphql.OperationDefinitionNode)
    return len(definition.selection_set.selections)


async def fuzz(client: httpx.AsyncClient, caller: Caller, documents: list[str]) -> Tally:
    tally = Tally()
    for document in documents:
        response = await client.post("/graphql", json={"query": document}, headers=caller.headers())
        tally.add(document, response)
    return tally


async def test_generated_operations_on_every_root_field_never_fail_inside(
    client: httpx.AsyncClient, size: Size, figures: Record
) -> None:
    company = await make_company("acme")
    await build_chain(company, depth=2, width=2)
    by_role = await callers(company)
    real = [i for ids in (await ids_of(company.tenant.id)).values() for i in ids]
    groups = document_groups(real)
    total = Tally()
    # the admin last: its generated writes may deactivate the others' people
    for caller in sorted(by_role, key=lambda c: c.role is Role.ADMIN):
        tally = await fuzz(client, caller, generate(caller.role.value, groups, size.fuzz_cases))
        figures(SECTION, f"{caller.role.value}: documents", tally.documents)
        total.documents += tally.documents
        total.fields += tally.fields
        total.server_errors += tally.server_errors
        total.masked += tally.masked
        total.failures.extend(tally.failures)
    figures(SECTION, "root-field selections run", total.fields)
    figures(SECTION, "documents sent", total.documents)
    figures(SECTION, "HTTP 5xx", total.server_errors, must_be_zero=True)
    figures(SECTION, "masked internal errors", total.masked, must_be_zero=True)
    assert total.server_errors == 0, "\n".join(total.failures[:5])
    assert total.masked == 0, "\n".join(total.failures[:5])


def test_every_root_field_is_generated() -> None:
    """Even the smallest run selects every root field of Query and Mutation."""
    schema = sdl_schema()
    assert schema.query_type is not None
    assert schema.mutation_type is not None
    expected = {*schema.query_type.fields, *schema.mutation_type.fields}
    seen = set()
    for document in generate("coverage", document_groups(["T2JqZWN0aXZlOjE="]), 1):
        definition = graphql.parse(document).definitions[0]
        assert isinstance(definition, graphql.OperationDefinitionNode)
        seen |= {s.name.value for s in definition.selection_set.selections}  # type: ignore[attr-defined]
    assert seen == expected


#: Documents the fuzzing found failing inside (masked or 5xx), kept as fixed cases once
#: the app was fixed: each must now be answered with a coded error, as admin.
FOUND = {
    # an Upload given inline as a string has no read(): an AttributeError, masked
    "importRoster": 'mutation { importRoster(file: "", dryRun: true) { errors { code } } }',
}


async def test_what_the_fuzzing_found_stays_fixed(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    for name, document in FOUND.items():
        response = await client.post(
            "/graphql",
            json={"query": document},
            headers={"Authorization": f"Bearer {company.token()}"},
        )
        body = response.json()
        assert response.status_code == 200, (name, response.text)
        assert "errors" not in body, (name, body)
        assert body["data"][name]["errors"][0]["code"] == "INVALID", (name, body)
