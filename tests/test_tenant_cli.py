"""``goalgraph tenant``: creating a company from nothing, listing, showing, deleting,
run as an operator runs it (a real process) on each backend, checked through the
real app."""

from __future__ import annotations

import subprocess
from datetime import date
from typing import Any

import httpx
import jwt
import pytest
from tortoise import Tortoise
from tortoise.transactions import in_transaction

from goalgraph.core.models import AuditEvent, Cycle, OrgUnit, Person, Tenant
from goalgraph.core.tenants import create_company, quarter_of

from .cli import cli
from .factories import TEST_SECRET, gql


def run(url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return cli(url, TEST_SECRET, "tenant", *args, check=check)


def refused(result: subprocess.CompletedProcess[str]) -> str:
    """A refusal: exit code 2 and one line on stderr, no traceback."""
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


async def rows_per_table(tenant_id: int) -> dict[str, int]:
    """Every table of the registry, counted for one tenant (the tenant row by id)."""
    counts = {}
    for model in Tortoise.apps["models"].values():
        column = "id" if model is Tenant else "tenant_id"
        counts[model._meta.db_table] = await model.filter(**{column: tenant_id}).count()
    return counts


VIEWER = "{ viewer { role tenant { slug name nameEn stage } person { name email } } }"


async def test_a_company_from_nothing_to_its_admin_signed_in(
    db_url: str, client: httpx.AsyncClient
) -> None:
    # when an operator creates a tenant
    made = run(
        db_url,
        "create",
        "acme",
        "--name",
        "艾克美贸易",
        "--name-en",
        "Acme Trading",
        "--admin-email",
        " Li.Na@Acme.Example ",
        "--admin-name",
        "李娜",
    )
    # then it says what it made, and the token is alone on the last line
    name, _, starts_on, ends_on = quarter_of(date.today())
    assert "tenant 'acme' created" in made.stderr
    assert f"open cycle: {name} ({starts_on} to {ends_on}" in made.stderr
    assert "李娜 <li.na@acme.example>" in made.stderr
    assert "invitation replaces it" in made.stderr
    token = made.stdout.strip().splitlines()[-1]
    claims = jwt.decode(token, TEST_SECRET, algorithms=["HS256"], issuer="goalgraph")
    assert claims["tenant"] == "acme"
    assert claims["role"] == "admin"

    # and the admin's token works against the real app
    body = await gql(client, VIEWER, auth=token)
    assert "errors" not in body, body
    assert body["data"]["viewer"] == {
        "role": "ADMIN",
        "tenant": {
            "slug": "acme",
            "name": "艾克美贸易",
            "nameEn": "Acme Trading",
            "stage": "growth",
        },
        "person": {"name": "李娜", "email": "li.na@acme.example"},
    }
    tenant = await Tenant.get(slug="acme")
    assert claims["sub"] == str((await Person.get(tenant_id=tenant.id)).id)
    unit = await OrgUnit.get(tenant_id=tenant.id)
    assert (unit.kind, unit.path, unit.name) == ("company", f"/{unit.id}/", "艾克美贸易")
    cycle = await Cycle.get(tenant_id=tenant.id)
    assert (cycle.name, cycle.starts_on, cycle.ends_on, cycle.closed) == (
        name,
        starts_on,
        ends_on,
        False,
    )
    event = await AuditEvent.get(tenant_id=tenant.id, action="tenant.create")
    assert event.entity_id == tenant.id
    assert event.after["cycle_id"] == cycle.id

    # and list and show find it
    listed = run(db_url, "list").stdout
    assert "acme" in listed
    assert "艾克美贸易 / Acme Trading" in listed
    assert f"{tenant.created_at:%Y-%m-%d}" in listed
    shown = run(db_url, "show", "acme").stdout
    assert "people (active)" in shown
    assert f"cycle {name}: quarter, {starts_on} to {ends_on}, open" in shown


async def test_a_second_create_with_the_same_slug_is_refused(
    db_url: str, client: httpx.AsyncClient
) -> None:
    run(db_url, "create", "acme", "--name", "艾克美", "--admin-email", "a@acme.example")
    again = run(
        db_url, "create", "acme", "--name", "别的", "--admin-email", "b@x.example", check=False
    )
    assert refused(again) == "error: tenant 'acme' already exists"
    assert again.stdout == ""
    assert await Tenant.all().count() == 1
    assert await Person.all().count() == 1


async def test_bad_input_is_refused_with_every_problem_and_nothing_made(
    db_url: str, client: httpx.AsyncClient
) -> None:
    result = run(
        db_url,
        "create",
        "Bad Slug",
        "--name",
        " ",
        "--stage",
        "adolescence",
        "--admin-email",
        "not-an-email",
        check=False,
    )
    line = refused(result)
    assert "slug 'Bad Slug'" in line
    assert "name must not be blank" in line
    assert "unknown lifecycle stage 'adolescence'" in line
    assert "'not-an-email' is not an email address" in line
    assert await Tenant.all().count() == 0


async def test_a_stage_of_an_installed_pack_is_accepted(
    db_url: str, client: httpx.AsyncClient
) -> None:
    run(
        db_url,
        "create",
        "launchco",
        "--name",
        "新品公司",
        "--stage",
        "new_product_launch",
        "--admin-email",
        "boss@launch.example",
    )
    tenant = await Tenant.get(slug="launchco")
    assert tenant.lifecycle_stage == "new_product_launch"


async def test_the_creation_is_one_transaction_with_the_services_inside_it(
    client: httpx.AsyncClient,
) -> None:
    # given a creation that the surrounding transaction then rolls back
    async def create_then_fail() -> None:
        async with in_transaction():
            await create_company("acme", "艾克美", admin_email="a@acme.example")
            assert await Tenant.exists(slug="acme")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        await create_then_fail()
    # then nothing of it is left: the services' own transactions joined this one
    for model in Tortoise.apps["models"].values():
        assert await model.all().count() == 0, model.__name__


async def test_show_and_delete_of_an_unknown_tenant_are_refused(
    db_url: str, client: httpx.AsyncClient
) -> None:
    for args in (("show", "nobody"), ("delete", "nobody", "--yes"), ("export", "nobody")):
        assert refused(run(db_url, *args, check=False)) == "error: no tenant with slug 'nobody'"


async def test_commands_on_an_unmigrated_database_say_to_migrate(tmp_path: Any) -> None:
    line = refused(run(f"sqlite://{tmp_path / 'new.sqlite3'}", "list", check=False))
    assert "run `goalgraph migrate` first" in line


@pytest.fixture
def demo(db_url: str) -> str:
    """The demo tenants, freshmart and textile, seeded by the real command."""
    cli(db_url, TEST_SECRET, "demo")
    return db_url


async def test_delete_without_yes_is_refused_and_says_what_it_would_delete(
    demo: str, client: httpx.AsyncClient
) -> None:
    freshmart = await Tenant.get(slug="freshmart")
    before = await rows_per_table(freshmart.id)
    line = refused(run(demo, "delete", "freshmart", check=False))
    assert "without --yes" in line
    assert f"{sum(before.values()):,} rows" in line
    assert f"measurement {before['measurement']:,}" in line
    assert await rows_per_table(freshmart.id) == before


async def test_delete_removes_every_row_of_the_tenant_and_none_of_another(
    demo: str, client: httpx.AsyncClient
) -> None:
    # given the two demo tenants
    freshmart = await Tenant.get(slug="freshmart")
    textile = await Tenant.get(slug="textile")
    textile_before = await rows_per_table(textile.id)
    freshmart_before = await rows_per_table(freshmart.id)
    assert freshmart_before["measurement"] > 4000
    assert textile_before["measurement"] > 0
    # when freshmart is deleted
    result = run(demo, "delete", "freshmart", "--yes")
    assert f"{sum(freshmart_before.values()):,} rows" in result.stderr
    # then textile holds exactly what it held, freshmart nothing, and nothing else is left
    assert await rows_per_table(textile.id) == textile_before
    assert set((await rows_per_table(freshmart.id)).values()) == {0}
    for model in Tortoise.apps["models"].values():
        assert await model.all().count() == textile_before[model._meta.db_table], model
    assert "freshmart" not in run(demo, "list").stdout
