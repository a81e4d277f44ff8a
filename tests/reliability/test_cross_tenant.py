"""Cross-tenant probes in figures: tenant A's callers, sent tenant B's real ids through
every id-taking field and mutation, and every list, learn nothing of B and change
nothing of B.

The probes are generated from the SDL (graphql-core's view of the schema): every root
field of Query and Mutation (``node`` included) with an ID argument, directly or inside
an input object, gets one probe per kind of B's ids and per role of A, with every ID
argument and every ID field of its inputs set to that id; every list or connection
field gets one probe per role. Each probe selects every field of its answer to a fixed
depth. A probe leaks when its answer's JSON text holds one of B's global ids (in
errors: one it was not sent) or one of B's own strings (titles, names, emails: the
text values of B's rows that A's rows do not hold). B's rows, every table of the model
registry, are compared before and after all probes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import graphql
import httpx
import pytest
from tortoise.queryset import QuerySet

from goalgraph.core import rls
from goalgraph.core.enums import Role
from goalgraph.core.models import DataBinding, Person, Tenant, TenantOwned
from goalgraph.core.portability import export_tenant
from goalgraph.core.tenancy import TenantScope
from goalgraph.plugins.retail.demo import seed_demo

from ..factories import build_chain, gid, gql, make_company, token
from .conftest import Record, backend_of
from .probes_kit import Caller, callers, ids_of, sdl_schema
from .size import Size

SECTION = "cross-tenant probes"
TODAY = date(2026, 11, 28)
#: How deep a probe's selection goes below its root field.
DEPTH = 1
#: The shortest of B's strings looked for: shorter ones ("东区", "min") are words
#: any tenant may use.
MIN_STRING = 5

_PLAIN = {
    "String": '"probe"',
    "Int": "1",
    "Float": "1.5",
    "Boolean": "false",
    "Date": f'"{TODAY.isoformat()}"',
    "DateTime": '"2026-11-28T00:00:00+00:00"',
    "JSON": "{}",
    "Upload": '"probe"',
}


# -- probes from the SDL --------------------------------------------------------------


def _named(type_: graphql.GraphQLType) -> graphql.GraphQLNamedType:
    return graphql.get_named_type(type_)  # type: ignore[no-any-return]


def takes_ids(args: dict[str, Any], seen: frozenset[str] = frozenset()) -> bool:
    """An ID among the arguments (or input fields), at any depth of input objects."""
    for arg in args.values():
        named = _named(arg.type)
        if named.name == "ID":
            return True
        nested = isinstance(named, graphql.GraphQLInputObjectType) and named.name not in seen
        if nested and takes_ids(named.fields, seen | {named.name}):  # type: ignore[attr-defined]
            return True
    return False


def is_list(field: graphql.GraphQLField) -> bool:
    type_ = graphql.get_nullable_type(field.type)
    return isinstance(type_, graphql.GraphQLList) or _named(type_).name.endswith("Connection")


def value(type_: graphql.GraphQLInputType, id_: str, depth: int = 0) -> str | None:
    """A literal for ``type_`` with every ID in it set to ``id_`` (None: leave it out)."""
    required = isinstance(type_, graphql.GraphQLNonNull)
    inner = graphql.get_nullable_type(type_)
    if isinstance(inner, graphql.GraphQLList):
        item = value(inner.of_type, id_, depth)
        return f"[{item}]" if item is not None else "[]"
    named = _named(inner)
    if named.name == "ID":
        return json.dumps(id_)
    if isinstance(named, graphql.GraphQLEnumType):
        return next(iter(named.values)) if required else None
    if isinstance(named, graphql.GraphQLInputObjectType):
        if depth > 3 or not (required or takes_ids(named.fields)):
            return None
        parts = [
            f"{name}: {v}"
            for name, f in named.fields.items()
            if (v := value(f.type, id_, depth + 1)) is not None
        ]
        return "{" + ", ".join(parts) + "}"
    return _PLAIN.get(named.name, '"probe"') if required else None


def arguments(field: graphql.GraphQLField, id_: str) -> str:
    parts = [f"{n}: {v}" for n, a in field.args.items() if (v := value(a.type, id_)) is not None]
    return f"({', '.join(parts)})" if parts else ""


def selection(type_: graphql.GraphQLOutputType, depth: int) -> str:
    """Every field without required arguments, ``depth`` levels down ("" for leaves)."""
    named = _named(type_)
    if isinstance(named, graphql.GraphQLScalarType | graphql.GraphQLEnumType):
        return ""
    schema = sdl_schema()
    if isinstance(named, graphql.GraphQLInterfaceType | graphql.GraphQLUnionType):
        if depth <= 0:
            return "{ __typename }"
        types = schema.get_possible_types(named)
        return (
            "{ __typename "
            + " ".join(f"... on {t.name} {selection(t, depth)}" for t in types)
            + " }"
        )
    assert isinstance(named, graphql.GraphQLObjectType)
    parts = ["__typename"]
    for name, f in named.fields.items():
        if any(isinstance(a.type, graphql.GraphQLNonNull) for a in f.args.values()):
            continue
        leaf = isinstance(_named(f.type), graphql.GraphQLScalarType | graphql.GraphQLEnumType)
        if leaf:
            parts.append(name)
        elif depth > 0:
            parts.append(f"{name} {selection(f.type, depth - 1)}")
    return "{ " + " ".join(parts) + " }"


@dataclass(frozen=True)
class Probe:
    """One document, as one role of A, carrying (at most) one of B's ids."""

    field: str
    kind: str
    id_: str
    document: str


def probes_of(b_ids: dict[str, list[str]]) -> Iterator[Probe]:
    """Every id-taking root field with one id of each of B's kinds, every list once."""
    schema = sdl_schema()
    roots = [("query", schema.query_type), ("mutation", schema.mutation_type)]
    for operation, root in roots:
        assert root is not None
        for name, field in sorted(root.fields.items()):
            body = selection(field.type, DEPTH)
            if takes_ids(field.args):
                for kind, ids in b_ids.items():
                    for id_ in ids[:1]:
                        doc = f"{operation} {{ {name}{arguments(field, id_)} {body} }}"
                        yield Probe(name, kind, id_, doc)
            elif is_list(field):
                yield Probe(name, "", "", f"{operation} {{ {name}{arguments(field, '')} {body} }}")


# -- what B has, and what would be a leak ---------------------------------------------


async def snapshot(slug: str) -> dict[str, Any]:
    """Every row of the tenant (the model registry's tables, core/portability.py)."""
    exported = await export_tenant(slug)
    return {"tenant": exported["tenant"], "tables": exported["tables"]}


def strings_of(snap: dict[str, Any]) -> set[str]:
    found: set[str] = {v for v in snap["tenant"].values() if isinstance(v, str)}
    for table in snap["tables"].values():
        for row in table["rows"]:
            found |= {v for v in row if isinstance(v, str)}
    return found


def own_strings(b: dict[str, Any], a: dict[str, Any]) -> set[str]:
    """B's text values that are B's alone: not A's too, not numbers, dates or paths."""
    shared = strings_of(a)
    # enum values, codes and pack ids (``consultant``, ``retail.pos``) are the API's words
    words = graphql.print_schema(sdl_schema()).lower()
    return {
        s
        for s in strings_of(b) - shared
        if len(s) >= MIN_STRING
        and not re.fullmatch(r"[\d\s/:.+\-T]*|[a-z_.]+", s)
        and s.lower() not in words
    }


@dataclass
class Detector:
    """Finds B's ids and strings in an answer's JSON text."""

    ids: set[str]
    strings: set[str]

    def __post_init__(self) -> None:
        words = sorted(self.ids | self.strings, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(w) for w in words))

    def leaks(self, body: dict[str, Any], sent: str) -> list[str]:
        data = json.dumps(body.get("data"), ensure_ascii=False)
        errors = json.dumps(body.get("errors"), ensure_ascii=False)
        found = self._pattern.findall(data)
        found += [w for w in self._pattern.findall(errors) if w != sent]
        return found


@dataclass
class Tally:
    probes: int = 0
    leaks: int = 0
    unanswered: int = 0
    examples: list[str] | None = None

    def note(self, probe: Probe, role: Role, found: list[str]) -> None:
        if found:
            self.leaks += 1
            self.examples = (self.examples or []) + [
                f"{role}/{probe.field}/{probe.kind}: {found[:3]}"
            ]


def assign(as_: list[Caller], probes: list[Probe]) -> list[tuple[Caller, Probe]]:
    """Lists go to every role; id probes take the roles in turn, so each role sends each
    field several of B's kinds and the run stays within CI time."""
    pairs: list[tuple[Caller, Probe]] = []
    for index, probe in enumerate(probes):
        if probe.kind:
            pairs.append((as_[index % len(as_)], probe))
        else:
            pairs.extend((caller, probe) for caller in as_)
    return pairs


async def run(
    client: httpx.AsyncClient, detector: Detector, pairs: list[tuple[Caller, Probe]]
) -> Tally:
    tally = Tally()
    for caller, probe in pairs:
        response = await client.post(
            "/graphql", json={"query": probe.document}, headers=caller.headers()
        )
        tally.probes += 1
        assert response.status_code < 500, (probe.document, response.text)
        body = response.json()
        if "data" not in body:  # refused before running: it probed nothing
            tally.unanswered += 1
        tally.note(probe, caller.role, detector.leaks(body, probe.id_))
    return tally


# -- the two tenants --------------------------------------------------------------------


@dataclass
class World:
    a_callers: list[Caller]
    b_slug: str
    b_ids: dict[str, list[str]]
    detector: Detector


async def make_world(client: httpx.AsyncClient) -> World:
    """A: a small company with a goal chain; B: the demo tenant (alerts, proposals,
    bindings and runs, measurements) with an API key, a SCIM credential and an
    identity provider added through the API, so every kind of id exists in B."""
    a = await make_company("acme")
    await build_chain(a, depth=2, width=2)
    summary = await seed_demo(TODAY)
    b = await Tenant.get(id=summary.tenant_id)
    b_admin = token(b, Role.ADMIN, await Person.get(id=summary.admin_person_id))
    for document in B_EXTRAS:
        body = await gql(client, document, auth=b_admin)
        assert "errors" not in body, body
    # a sync run (the demo's POS is not running: the run is recorded as failed)
    binding = await DataBinding.filter(tenant_id=b.id).order_by("id").first()
    assert binding is not None
    run_sync = "mutation($id: ID!) { runSync(bindingId: $id) { errors { code } } }"
    await gql(client, run_sync, {"id": gid("DataBinding", binding.id)}, auth=b_admin)
    a_snap, b_snap = await snapshot(a.tenant.slug), await snapshot(b.slug)
    all_b_ids = await ids_of(b.id)
    missing = [kind for kind, ids in all_b_ids.items() if not ids]
    assert missing == [], f"tenant B has no rows of {missing}"
    detector = Detector({i for ids in all_b_ids.values() for i in ids}, own_strings(b_snap, a_snap))
    return World(await callers(a), b.slug, all_b_ids, detector)


B_EXTRAS = (
    'mutation { createApiKey(input: {name: "bravo-reporting-key", role: VIEWER}) '
    "{ errors { code } } }",
    'mutation { createScimCredential(name: "bravo-okta-provisioning") { errors { code } } }',
    'mutation { configureOidc(input: {issuer: "https://sso.bravo-only.example", '
    'clientId: "bravo-client-0001", clientSecret: "bravo-secret", claim: "email", '
    'matchField: "email", jit: false, jitRole: EMPLOYEE, returnUrl: ""}) { errors { code } } }',
)


async def test_no_probe_of_tenant_b_leaks_or_changes_anything(
    client: httpx.AsyncClient, size: Size, figures: Record
) -> None:
    world = await make_world(client)
    before = await snapshot(world.b_slug)
    probes = list(probes_of(world.b_ids))
    tally = await run(client, world.detector, assign(world.a_callers, probes))
    after = await snapshot(world.b_slug)
    changed = _changed_rows(before, after)
    figures(SECTION, "probes", tally.probes)
    figures(SECTION, "leaks", tally.leaks, must_be_zero=True)
    figures(SECTION, "B rows changed", changed, must_be_zero=True)
    assert tally.probes >= size.probes
    assert tally.unanswered == 0, "probes refused before running probe nothing"
    assert tally.leaks == 0, tally.examples
    assert changed == 0


def _changed_rows(before: dict[str, Any], after: dict[str, Any]) -> int:
    """Rows added, removed or changed, over every table."""
    changed = int(before["tenant"] != after["tenant"])
    for name, table in before["tables"].items():
        old = {row[0]: row for row in table["rows"]}
        new = {row[0]: row for row in after["tables"][name]["rows"]}
        changed += len(old.keys() ^ new.keys())
        changed += sum(old[k] != new[k] for k in old.keys() & new.keys())
    return changed


def _unfiltered(self: TenantScope, model: type[TenantOwned]) -> QuerySet[TenantOwned]:
    """TenantScope.query without its tenant filter: the bug the probes must catch."""
    rls.bind(self.tenant.id)
    return model.all()


async def test_the_probes_catch_a_missing_tenant_filter(
    client: httpx.AsyncClient, db_url: str, figures: Record, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await make_world(client)
    sample = [p for p in probes_of(world.b_ids) if p.kind in ("", "Objective", "Person")]
    admin = [c for c in world.a_callers if c.role is Role.ADMIN]
    monkeypatch.setattr(TenantScope, "query", _unfiltered)
    tally = await run(client, world.detector, assign(admin, sample))
    monkeypatch.undo()
    if backend_of(db_url) == "sqlite":
        figures(SECTION, "leaks with the filter removed (SQLite)", tally.leaks)
        assert tally.leaks > 0
    else:
        # row-level security keeps the request bound to A's rows underneath the door
        figures(SECTION, "leaks with the filter removed (RLS holds)", tally.leaks)
        assert tally.leaks == 0, tally.examples
