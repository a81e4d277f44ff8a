"""Packs through the API: enablement per lifecycle stage, templates, applying them."""

from __future__ import annotations

import httpx
from asgi_lifespan import LifespanManager

from goalgraph.core.app import create_app
from goalgraph.core.models import AuditEvent, KeyResult, Kpi, KpiLink, Objective, Tenant
from goalgraph.core.settings import Settings
from goalgraph.plugins import PackInfo, PackManager, hookimpl
from goalgraph.plugins.types import Label

from .factories import gid, gql, make_company

PACKS = "{ packs { name status error enabledStages active kpiTemplateCount okrTemplateCount } }"
ENABLE = """mutation($name: String!, $stages: [String!]!) {
  enablePack(name: $name, stages: $stages) { pack { name enabledStages active }
  errors { field code message } } }"""
DISABLE = """mutation($name: String!) {
  disablePack(name: $name) { pack { name enabledStages active } errors { field code } } }"""
TEMPLATES = """query($pack: String, $level: String) {
  kpiTemplates(pack: $pack, level: $level) { pack code name { zh en } unit direction level }
  okrTemplates(pack: $pack) { code objective { zh en } keyResults { kpi } } }"""
FROM_TEMPLATE = """mutation($i: CreateKpiFromTemplateInput!) {
  createKpiFromTemplate(input: $i) { kpi { id title titleEn target threshold direction unit }
  errors { field code message } } }"""
APPLY = """mutation($i: ApplyOkrTemplateInput!) {
  applyOkrTemplate(input: $i) { objective { id title titleEn
    keyResults { title kpiLinks { kpi { title owner { ... on OrgUnit { name } } } } } }
  errors { field code message } } }"""


async def test_templates_appear_only_after_enabling_for_the_current_stage(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")  # current stage: growth
    admin = company.token()
    packs = (await gql(client, PACKS, auth=admin))["data"]["packs"]
    by_name = {p["name"]: p for p in packs}
    assert {"retail", "manufacturing", "internet"} <= set(by_name)
    assert by_name["retail"]["status"] == "LOADED"
    assert by_name["retail"]["kpiTemplateCount"] >= 8
    assert by_name["retail"]["enabledStages"] == []
    assert (await gql(client, TEMPLATES, auth=admin))["data"]["kpiTemplates"] == []

    # enabled for another stage only: still nothing
    body = await gql(client, ENABLE, {"name": "retail", "stages": ["startup"]}, auth=admin)
    assert body["data"]["enablePack"]["pack"] == {
        "name": "retail",
        "enabledStages": ["startup"],
        "active": False,
    }
    assert (await gql(client, TEMPLATES, auth=admin))["data"]["kpiTemplates"] == []

    # enabled for the current stage: the retail templates, and only those
    body = await gql(
        client, ENABLE, {"name": "retail", "stages": ["startup", "growth"]}, auth=admin
    )
    assert body["data"]["enablePack"]["pack"]["active"] is True
    templates = (await gql(client, TEMPLATES, auth=admin))["data"]
    assert {t["pack"] for t in templates["kpiTemplates"]} == {"retail"}
    wait = next(t for t in templates["kpiTemplates"] if t["code"] == "customer_wait_time")
    assert wait == {
        "pack": "retail",
        "code": "customer_wait_time",
        "name": {"zh": "顾客等待时间", "en": "Customer wait time"},
        "unit": "min",
        "direction": "LOWER_IS_BETTER",
        "level": "store",
    }
    persons = await gql(client, TEMPLATES, {"level": "person"}, auth=admin)
    assert {t["code"] for t in persons["data"]["kpiTemplates"]} == {"associate_daily_sales"}
    assert len(templates["okrTemplates"]) >= 3

    actions = [e.action for e in await AuditEvent.filter(entity_type="pack_enablement")]
    assert actions == ["pack.enabled", "pack.stages_changed"]


async def test_only_admins_and_consultants_change_enablement(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    body = await gql(
        client, ENABLE, {"name": "retail", "stages": ["growth"]}, auth=company.token("manager")
    )
    assert body["data"]["enablePack"]["errors"][0]["code"] == "FORBIDDEN"
    unknown = await gql(
        client, ENABLE, {"name": "retail", "stages": ["golden_age"]}, auth=company.token()
    )
    assert unknown["data"]["enablePack"]["errors"][0]["field"] == "stages"
    missing = await gql(
        client, ENABLE, {"name": "bakery", "stages": ["growth"]}, auth=company.token()
    )
    assert missing["data"]["enablePack"]["errors"][0]["code"] == "NOT_FOUND"
    pack_stage = await gql(
        client, ENABLE, {"name": "retail", "stages": ["new_product_launch"]}, auth=company.token()
    )
    assert pack_stage["data"]["enablePack"]["errors"] == []


async def test_kpi_from_template_checks_the_org_level(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    await gql(client, ENABLE, {"name": "retail", "stages": ["growth"]}, auth=company.token())
    made = await gql(
        client,
        FROM_TEMPLATE,
        {
            "i": {
                "pack": "retail",
                "code": "customer_wait_time",
                "ownerUnitId": gid("OrgUnit", company.store.id),
                "target": 2.5,
            }
        },
        auth=company.token(),
    )
    assert made["data"]["createKpiFromTemplate"]["kpi"] | {"id": None} == {
        "id": None,
        "title": "顾客等待时间",
        "titleEn": "Customer wait time",
        "target": 2.5,
        "threshold": 4.0,
        "direction": "LOWER_IS_BETTER",
        "unit": "min",
    }
    kpi = await Kpi.get()
    assert kpi.origin == "retail:customer_wait_time"
    assert kpi.metric_code == "customer_wait_time"
    wrong = await gql(
        client,
        FROM_TEMPLATE,
        {
            "i": {
                "pack": "retail",
                "code": "customer_wait_time",
                "ownerUnitId": gid("OrgUnit", company.region.id),
            }
        },
        auth=company.token(),
    )
    assert wrong["data"]["createKpiFromTemplate"]["errors"] == [
        {
            "field": "ownerUnitId",
            "code": "INVALID",
            "message": "KPI template 'customer_wait_time' is for a store, not a region",
        }
    ]
    hidden = await gql(
        client,
        FROM_TEMPLATE,
        {
            "i": {
                "pack": "internet",
                "code": "weekly_releases",
                "ownerUnitId": gid("OrgUnit", company.store.id),
            }
        },
        auth=company.token(),
    )
    assert hidden["data"]["createKpiFromTemplate"]["errors"][0]["code"] == "NOT_FOUND"
    assert await Kpi.all().count() == 1


async def test_okr_template_cascades_into_store_kpis(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    await gql(client, ENABLE, {"name": "retail", "stages": ["growth"]}, auth=company.token())
    variables = {
        "i": {
            "pack": "retail",
            "code": "optimise_customer_experience",
            "cycleId": gid("Cycle", company.cycle.id),
            "ownerUnitId": gid("OrgUnit", company.root.id),
            "unitIds": [gid("OrgUnit", company.store.id)],
        }
    }
    body = await gql(client, APPLY, variables, auth=company.token())
    payload = body["data"]["applyOkrTemplate"]
    assert payload["errors"] == []
    objective = payload["objective"]
    assert objective["title"] == "优化客户体验"
    wait_kr = objective["keyResults"][0]
    assert wait_kr["title"] == "所有门店顾客等待时间不超过3分钟"
    assert wait_kr["kpiLinks"] == [{"kpi": {"title": "顾客等待时间", "owner": {"name": "一号店"}}}]
    assert objective["keyResults"][2]["kpiLinks"] == []  # NPS: no KPI behind it

    # applied again (e.g. for next year): the store's KPIs are reused, not doubled
    again = await gql(client, APPLY, variables, auth=company.token())
    assert again["data"]["applyOkrTemplate"]["errors"] == []
    assert await Kpi.filter(origin="retail:customer_wait_time").count() == 1
    assert await KpiLink.all().count() == 4
    assert await Objective.all().count() == 2


async def test_a_failed_cascade_writes_nothing(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    await gql(client, ENABLE, {"name": "retail", "stages": ["growth"]}, auth=company.token())
    body = await gql(
        client,
        APPLY,
        {
            "i": {
                "pack": "retail",
                "code": "grow_revenue",
                "cycleId": gid("Cycle", company.cycle.id),
                "ownerUnitId": gid("OrgUnit", company.root.id),
                # store KPIs need stores: a region alone fails after the objective is written
                "unitIds": [gid("OrgUnit", company.region.id)],
            }
        },
        auth=company.token(),
    )
    assert body["data"]["applyOkrTemplate"]["errors"] == [
        {
            "field": "unitIds",
            "code": "INVALID",
            "message": "key result 'Stores reach their daily sales target' needs a KPI per "
            "store: give store units in unitIds",
        }
    ]
    assert await Objective.all().count() == 0
    assert await KeyResult.all().count() == 0
    assert await Kpi.all().count() == 0


async def test_disabling_keeps_the_goals_made_from_templates(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    await gql(client, ENABLE, {"name": "retail", "stages": ["growth"]}, auth=company.token())
    await gql(
        client,
        FROM_TEMPLATE,
        {
            "i": {
                "pack": "retail",
                "code": "sales_per_sqm",
                "ownerUnitId": gid("OrgUnit", company.store.id),
            }
        },
        auth=company.token(),
    )
    body = await gql(client, DISABLE, {"name": "retail"}, auth=company.token())
    assert body["data"]["disablePack"]["pack"] == {
        "name": "retail",
        "enabledStages": [],
        "active": False,
    }
    assert (await gql(client, TEMPLATES, auth=company.token()))["data"]["kpiTemplates"] == []
    assert await Kpi.filter(origin="retail:sales_per_sqm").count() == 1
    again = await gql(client, DISABLE, {"name": "retail"}, auth=company.token())
    assert again["data"]["disablePack"]["errors"][0]["code"] == "NOT_FOUND"


class ExplodingPack:
    @hookimpl
    def goalgraph_pack_info(self) -> PackInfo:
        return PackInfo(
            name="exploding",
            version="0.0.1",
            title=Label(zh="坏", en="Broken"),
            industries=("test",),
        )

    @hookimpl
    def goalgraph_kpi_templates(self) -> list[object]:
        raise RuntimeError("database of templates is on fire")


async def test_the_server_serves_beside_a_broken_pack(settings: Settings) -> None:
    packs = PackManager.discover(extra=[("exploding", ExplodingPack())])
    app = create_app(settings, packs=packs)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            company = await make_company("acme")
            body = await gql(client, PACKS, auth=company.token())
            by_name = {p["name"]: p for p in body["data"]["packs"]}
            assert by_name["exploding"]["status"] == "FAILED"
            assert "on fire" in by_name["exploding"]["error"]
            assert by_name["retail"]["status"] == "LOADED"
            enable = await gql(
                client, ENABLE, {"name": "exploding", "stages": ["growth"]}, auth=company.token()
            )
            assert enable["data"]["enablePack"]["errors"][0]["code"] == "INVALID"
            assert await Tenant.all().count() == 1
