"""Keeping a tenant's units and people in step with its HR directory: org bindings run
by the sync service against fake DingTalk, Feishu and WeCom servers on 127.0.0.1, on
every database backend."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import aiohttp
import httpx
import pytest

from goalgraph.adapters.bindings import BindingInput, create_binding
from goalgraph.adapters.directory import BUILT_IN
from goalgraph.adapters.org_source import (
    DirectoryPerson,
    DirectoryUnit,
    OrgPage,
    OrgSource,
    OrgSourceConfig,
)
from goalgraph.adapters.syncer import Syncer
from goalgraph.core.app import make_syncer
from goalgraph.core.enums import Role, SyncStatus
from goalgraph.core.models import (
    AuditEvent,
    DataBinding,
    OrgSourceMember,
    OrgUnit,
    Person,
    RejectedRow,
    SyncJob,
    SyncRun,
    Tenant,
)
from goalgraph.core.secrets import SecretBox
from goalgraph.core.services import org
from goalgraph.core.settings import Settings, secret_box_key
from goalgraph.core.tenancy import TenantScope
from goalgraph.plugins import PackInfo, hookimpl
from goalgraph.plugins.enablement import enable_pack
from goalgraph.plugins.manager import PackManager
from goalgraph.plugins.view import system_scope, tenant_packs
from goalgraph.schema.ids import decode

from .factories import TEST_SECRET, gql, scope_for, token
from .fake_directory import FakeDirectory, User, config_for, sample_directory, serving

VENDORS = ["dingtalk", "feishu", "wecom"]


@dataclass
class Tenancy:
    tenant: Tenant
    root: OrgUnit
    admin: Person
    scope: TenantScope


async def new_tenant(slug: str = "acme") -> Tenancy:
    tenant, root = await org.create_tenant(slug=slug, name="艾克美", name_en="Acme")
    admin = await Person.create(
        tenant_id=tenant.id, name="管理员", role=Role.ADMIN, org_unit_id=root.id
    )
    return Tenancy(tenant, root, admin, scope_for(tenant, admin, root))


def fake_of(vendor: str) -> FakeDirectory:
    return FakeDirectory(vendor, sample_directory("0" if vendor == "feishu" else "1"))


async def bind(t: Tenancy, settings: Settings, fake: FakeDirectory, **config: Any) -> DataBinding:
    return await create_binding(
        t.scope,
        BUILT_IN,
        SecretBox(secret_box_key(settings)),
        BindingInput(
            name=f"{fake.vendor} 通讯录", adapter=fake.vendor, config=config_for(fake, **config)
        ),
        kind="org",
    )


@asynccontextmanager
async def syncing(settings: Settings, manager: PackManager | None = None) -> AsyncIterator[Syncer]:
    async with aiohttp.ClientSession() as session:
        yield make_syncer(settings, manager or PackManager.discover(), session)


async def sync(syncer: Syncer, t: Tenancy, binding: DataBinding) -> SyncRun:
    binding = await DataBinding.get(id=binding.id)
    return await syncer.run(system_scope(t.tenant, PackManager()), binding, "manual")


async def people_of(t: Tenancy) -> dict[str, Person]:
    rows = await Person.filter(tenant_id=t.tenant.id, external_id__isnull=False)
    return {p.external_id or "": p for p in rows}


async def units_of(t: Tenancy) -> dict[str, OrgUnit]:
    rows = await OrgUnit.filter(tenant_id=t.tenant.id, external_id__isnull=False)
    return {u.external_id or "": u for u in rows}


async def audit_count(t: Tenancy) -> int:
    return await AuditEvent.filter(tenant_id=t.tenant.id).count()


@pytest.mark.parametrize("vendor", VENDORS)
async def test_a_first_sync_builds_the_tree_and_its_people_and_a_second_changes_nothing(
    client: httpx.AsyncClient, settings: Settings, vendor: str
) -> None:
    t = await new_tenant()
    async with serving(fake_of(vendor)) as fake, syncing(settings) as syncer:
        binding = await bind(t, settings, fake)
        run = await sync(syncer, t, binding)
        assert (run.status, run.error) == (SyncStatus.SUCCEEDED, "")

        units = await units_of(t)
        assert {k: u.name for k, u in units.items()} == {
            "10": "华北区",
            "11": "石家庄长安店",
            "12": "北京朝阳店",
            "20": "华东区",
            "21": "上海徐汇店",
        }
        assert units["10"].parent_id == t.root.id
        assert units["11"].parent_id == units["10"].id
        assert units["11"].path == f"{t.root.path}{units['10'].id}/{units['11'].id}/"

        people = await people_of(t)
        assert len(people) == 7
        assert people["u-ceo"].org_unit_id == t.root.id
        assert people["u-clerk2"].org_unit_id == units["12"].id  # main department
        assert people["u-changan"].role is Role.MANAGER  # a department leader
        assert people["u-clerk1"].role is Role.EMPLOYEE
        assert people["u-clerk1"].email == "zhao1@example.cn"
        assert people["u-clerk1"].job_title == "店员"
        if vendor == "wecom":
            assert people["u-clerk1"].code is None  # userid is not the employee number here
        else:
            assert people["u-clerk1"].code == "E004"
            if vendor == "feishu":  # the directory names each person's manager
                assert people["u-clerk1"].manager_id == people["u-changan"].id
                assert people["u-north"].manager_id == people["u-ceo"].id

        assert run.rows_read == 5 + 7
        assert run.rows_written == 5 + 7
        assert run.rows_rejected == 0
        assert await OrgSourceMember.filter(binding_id=binding.id).count() == 7
        assert (await SyncJob.get(binding_id=binding.id)).cursor is None

        before = await audit_count(t)
        again = await sync(syncer, t, binding)
        assert again.status is SyncStatus.SUCCEEDED
        assert (again.rows_read, again.rows_written, again.rows_rejected) == (12, 0, 0)
        assert await audit_count(t) == before


async def test_wecom_employee_numbers_and_managers_when_userid_is_the_number(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    t = await new_tenant()
    directory = sample_directory()
    for user in list(directory.users.values()):  # userids are the employee numbers
        directory.users.pop(user.userid)
        user.userid = user.employee_no
        directory.add_user(user)
    renamed = {"u-ceo": "E001", "u-north": "E002", "u-changan": "E003", "u-east": "E006"}
    for user in directory.users.values():
        user.manager = renamed.get(user.manager or "", user.manager)
    for dept in directory.depts.values():
        dept.leader = renamed.get(dept.leader or "", dept.leader)
    async with serving(FakeDirectory("wecom", directory)) as fake, syncing(settings) as syncer:
        binding = await bind(t, settings, fake, userid_is_employee_no=True)
        run = await sync(syncer, t, binding)
    assert run.status is SyncStatus.SUCCEEDED
    people = await people_of(t)
    assert people["E004"].code == "E004"
    assert people["E004"].manager_id == people["E003"].id
    assert people["E003"].role is Role.MANAGER


@pytest.mark.parametrize("vendor", VENDORS)
async def test_renames_moves_and_leavers_follow_on_the_next_sync(
    client: httpx.AsyncClient, settings: Settings, vendor: str
) -> None:
    t = await new_tenant()
    async with serving(fake_of(vendor)) as fake, syncing(settings) as syncer:
        binding = await bind(t, settings, fake, deactivate_missing=True)
        assert (await sync(syncer, t, binding)).status is SyncStatus.SUCCEEDED
        fake.directory.depts["12"].name = "北京朝阳大悦城店"  # renamed
        fake.directory.depts["21"].parent = "10"  # moved to the north
        fake.directory.users.pop("u-clerk3")  # left the company
        fake.directory.users["u-clerk1"].depts = ["12"]  # moved store
        fake.directory.users["u-clerk1"].title = "收银员"
        run = await sync(syncer, t, binding)
        assert (run.status, run.error) == (SyncStatus.SUCCEEDED, "")

    units, people = await units_of(t), await people_of(t)
    assert units["12"].name == "北京朝阳大悦城店"
    assert units["21"].parent_id == units["10"].id
    assert units["21"].path == f"{units['10'].path}{units['21'].id}/"
    assert people["u-clerk1"].org_unit_id == units["12"].id
    assert people["u-clerk1"].job_title == "收银员"
    assert people["u-clerk3"].active is False
    assert people["u-clerk3"].deactivated_at is not None
    assert all(p.active for k, p in people.items() if k != "u-clerk3")
    assert run.rows_written == 2 + 1 + 1  # two units, one person changed, one leaver
    assert await AuditEvent.filter(
        tenant_id=t.tenant.id, action="person.deactivated", entity_id=people["u-clerk3"].id
    ).exists()


async def test_leavers_stay_active_unless_the_binding_says_so(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    t = await new_tenant()
    async with serving(fake_of("feishu")) as fake, syncing(settings) as syncer:
        binding = await bind(t, settings, fake)
        await sync(syncer, t, binding)
        fake.directory.users.pop("u-clerk3")
        run = await sync(syncer, t, binding)
    assert run.status is SyncStatus.SUCCEEDED
    assert (await people_of(t))["u-clerk3"].active is True


@pytest.mark.parametrize("vendor", VENDORS)
async def test_a_run_stopped_part_way_resumes_from_its_cursor(
    client: httpx.AsyncClient, settings: Settings, vendor: str
) -> None:
    t = await new_tenant()
    fake = fake_of(vendor)
    fake.fail_once = {("users", "11", 0)}
    async with serving(fake), syncing(settings) as syncer:
        binding = await bind(t, settings, fake, deactivate_missing=True)
        first = await sync(syncer, t, binding)
        assert first.status is SyncStatus.FAILED
        assert f"{vendor} error" in first.error
        part = await people_of(t)
        assert 0 < len(part) < 7
        assert len(await units_of(t)) == 5
        assert (await SyncJob.get(binding_id=binding.id)).cursor is not None

        requests_before = fake.requests
        second = await sync(syncer, t, binding)
        assert (second.status, second.error) == (SyncStatus.SUCCEEDED, "")
        assert fake.requests - requests_before < 12  # resumed, not started over

    people = await people_of(t)
    assert len(people) == 7
    assert all(p.active for p in people.values())
    assert await Person.filter(tenant_id=t.tenant.id).count() == 8  # and the admin
    assert await OrgSourceMember.filter(binding_id=binding.id).count() == 7
    assert first.rows_read + second.rows_read == 12
    runs = await SyncRun.filter(binding_id=binding.id).order_by("id")
    assert [r.status for r in runs] == [SyncStatus.FAILED, SyncStatus.SUCCEEDED]


@pytest.mark.parametrize("vendor", VENDORS)
async def test_rate_limits_and_an_expired_token_are_ridden_out(
    client: httpx.AsyncClient, settings: Settings, vendor: str
) -> None:
    t = await new_tenant()
    fake = fake_of(vendor)
    fake.faults = {2: "rate", 3: "rate", 5: "expire", 7: "500", 8: "rate"}
    async with serving(fake), syncing(settings) as syncer:
        binding = await bind(t, settings, fake)
        run = await sync(syncer, t, binding)
    assert (run.status, run.error) == (SyncStatus.SUCCEEDED, "")
    assert len(await people_of(t)) == 7
    assert fake.token_requests == 2


@pytest.mark.parametrize("vendor", VENDORS)
async def test_bad_people_are_rejected_rows_with_their_reason(
    client: httpx.AsyncClient, settings: Settings, vendor: str
) -> None:
    t = await new_tenant()
    fake = fake_of(vendor)
    fake.directory.add_user(User("u-bad-mail", "吴四", ["21"], "not-an-email", "E008"))
    fake.directory.add_user(User("u-no-name", "", ["21"], "x@example.cn", "E009"))
    async with serving(fake), syncing(settings) as syncer:
        binding = await bind(t, settings, fake)
        run = await sync(syncer, t, binding)
    assert run.status is SyncStatus.PARTIAL
    assert (run.rows_read, run.rows_written, run.rows_rejected) == (14, 12, 2)
    rejected = await RejectedRow.filter(run_id=run.id).order_by("id")
    reasons = sorted(r.reason for r in rejected)
    assert reasons == ["'not-an-email' is not an email address", "the name (姓名) is missing"]
    assert all(r.content for r in rejected)
    people = await people_of(t)
    assert "u-bad-mail" not in people
    assert "u-no-name" not in people
    assert len(people) == 7


# -- through the API and the command line ------------------------------------------------

CREATE = """
mutation Create($input: CreateOrgBindingInput!) {
  createOrgBinding(input: $input) {
    dataBinding { id name kind adapter config credentials everyMinutes }
    errors { field code message }
  }
}
"""

RUN = """
mutation Run($id: ID!) {
  runSync(bindingId: $id) {
    syncRun { status rowsRead rowsWritten rowsRejected error }
    errors { field code message }
  }
}
"""


async def test_an_admin_binds_a_directory_and_syncs_it_over_graphql(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    t = await new_tenant()
    auth = token(t.tenant, Role.ADMIN, t.admin)
    body = await gql(client, "{ orgSources { name title { zh } secretFields pack } }", auth=auth)
    assert [s["name"] for s in body["data"]["orgSources"]] == VENDORS
    assert body["data"]["orgSources"][0]["secretFields"] == ["app_secret"]

    async with serving(fake_of("dingtalk")) as fake:
        config = config_for(fake)
        secret = config.pop("app_secret")
        wrong = await gql(
            client,
            CREATE,
            {
                "input": {
                    "name": "钉钉",
                    "adapter": "dingtalk",
                    "config": {**config, "app_secret": "x"},
                }
            },
            auth=auth,
        )
        assert wrong["data"]["createOrgBinding"]["errors"][0]["field"] == "config.app_secret"
        made = await gql(
            client,
            CREATE,
            {
                "input": {
                    "name": "钉钉通讯录",
                    "adapter": "dingtalk",
                    "config": config,
                    "secrets": {"app_secret": secret},
                    "everyMinutes": 60,
                }
            },
            auth=auth,
        )
        payload = made["data"]["createOrgBinding"]
        assert payload["errors"] == []
        binding = payload["dataBinding"]
        assert (binding["kind"], binding["credentials"]) == ("org", ["app_secret"])
        assert "app_secret" not in binding["config"]
        ran = await gql(client, RUN, {"id": binding["id"]}, auth=auth)
    result = ran["data"]["runSync"]
    assert result["errors"] == []
    assert result["syncRun"] == {
        "status": "SUCCEEDED",
        "rowsRead": 12,
        "rowsWritten": 12,
        "rowsRejected": 0,
        "error": "",
    }
    assert len(await people_of(t)) == 7

    update = """
    mutation Update($input: UpdateOrgBindingInput!) {
      updateOrgBinding(input: $input) {
        dataBinding { everyMinutes credentials config }
        errors { field code message }
      }
    }
    """
    changed = await gql(
        client,
        update,
        {"input": {"id": binding["id"], "everyMinutes": 30, "secrets": {"app_secret": "new"}}},
        auth=auth,
    )
    assert changed["data"]["updateOrgBinding"]["errors"] == []
    assert changed["data"]["updateOrgBinding"]["dataBinding"]["everyMinutes"] == 30
    row = await DataBinding.get(id=decode(binding["id"], "DataBinding", "id"))
    assert SecretBox(secret_box_key(settings)).unseal(row.secrets) == {"app_secret": "new"}
    as_data = await gql(
        client,
        "mutation U($id: ID!) { updateDataBinding(input: {id: $id, everyMinutes: 10}) "
        "{ errors { code message } } }",
        {"id": binding["id"]},
        auth=auth,
    )
    assert "kind org" in as_data["data"]["updateDataBinding"]["errors"][0]["message"]

    refused = await gql(
        client,
        CREATE,
        {"input": {"name": "x", "adapter": "dingtalk", "config": config}},
        auth=token(t.tenant, Role.EMPLOYEE),
    )
    assert refused["data"]["createOrgBinding"]["errors"][0]["code"] == "FORBIDDEN"
    unknown = await gql(
        client, CREATE, {"input": {"name": "y", "adapter": "okta", "config": {}}}, auth=auth
    )
    assert "unknown adapter 'okta'" in unknown["data"]["createOrgBinding"]["errors"][0]["message"]


async def test_goalgraph_sync_runs_an_org_binding(
    client: httpx.AsyncClient, settings: Settings, db_url: str
) -> None:
    t = await new_tenant()
    async with serving(fake_of("wecom")) as fake:
        binding = await bind(t, settings, fake)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "goalgraph.core.cli",
            "sync",
            "--binding",
            str(binding.id),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={
                **os.environ,
                "GOALGRAPH_DATABASE_URL": db_url,
                "GOALGRAPH_SECRET": TEST_SECRET,
                "COLUMNS": "200",
            },
        )
        out, err = await asyncio.wait_for(process.communicate(), 120)
        logging.getLogger("tests.cli").info("goalgraph sync stderr:\n%s", err.decode())
    assert process.returncode == 0, err.decode()
    assert "succeeded" in (out + err).decode()
    assert len(await people_of(t)) == 7


# -- a pack's org source -----------------------------------------------------------------


class HrisConfig(OrgSourceConfig):
    company: str = "acme"


class HrisSource(OrgSource):
    """A pack's HR system that hands over its org chart in one go."""

    name: ClassVar[str] = "acme.hris"
    title: ClassVar[dict[str, str]] = {"zh": "艾克美人事系统", "en": "Acme HRIS"}
    Config: ClassVar[type[OrgSourceConfig]] = HrisConfig

    async def pages(self, cursor: Any) -> AsyncIterator[OrgPage]:
        if cursor is None:
            yield OrgPage(units=[DirectoryUnit("ops", "运营部")], cursor={"step": 1})
        yield OrgPage(
            people=[
                DirectoryPerson("h1", "陈一", "ops", employee_no="H001", role="manager"),
                DirectoryPerson("h2", "陈二", "ops", employee_no="H002", manager_id="h1"),
                DirectoryPerson("h3", "陈三", "ops", employee_no="H003", role="boss", ref="h3"),
            ]
        )


class HrisPack:
    @hookimpl
    def goalgraph_pack_info(self) -> PackInfo:
        return PackInfo.model_validate(
            {
                "name": "acme",
                "version": "1.0",
                "title": {"zh": "艾克美", "en": "Acme"},
                "industries": ["hr"],
            }
        )

    @hookimpl
    def goalgraph_org_sources(self) -> list[type[OrgSource]]:
        return [HrisSource]


async def test_hook_goalgraph_org_sources(client: httpx.AsyncClient, settings: Settings) -> None:
    manager = PackManager.discover(extra=[("acme", HrisPack())])
    pack = manager.get("acme")
    assert pack is not None
    assert list(pack.org_sources) == ["acme.hris"]
    t = await new_tenant()
    scope = system_scope(t.tenant, manager)
    await enable_pack(scope, manager, "acme", ["growth"])
    sources = (await tenant_packs(scope, manager)).org_sources()
    assert set(sources) == {*VENDORS, "acme.hris"}
    binding = await create_binding(
        t.scope,
        sources,
        SecretBox(secret_box_key(settings)),
        BindingInput(name="HRIS", adapter="acme.hris", config={}),
        kind="org",
    )
    async with syncing(settings, manager) as syncer:
        run = await syncer.run(scope, await DataBinding.get(id=binding.id), "manual")
    assert run.status is SyncStatus.PARTIAL
    people = await people_of(t)
    assert people["h2"].manager_id == people["h1"].id
    assert people["h1"].role is Role.MANAGER
    rejected = await RejectedRow.get(run_id=run.id)
    assert (rejected.ref, rejected.reason.split(" (")[0]) == ("h3", "unknown role 'boss'")


def test_a_pack_cannot_take_a_built_in_source_name() -> None:
    class Clash(HrisSource):
        name = "dingtalk"

    class ClashPack(HrisPack):
        @hookimpl
        def goalgraph_org_sources(self) -> list[type[OrgSource]]:
            return [Clash]

    pack = PackManager.discover(extra=[("acme", ClashPack())]).packs["acme"]
    assert pack.error == "pack 'acme': org source 'dingtalk' is built in"
