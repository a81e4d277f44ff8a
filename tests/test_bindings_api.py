"""Data bindings through the API: adapters, credentials that never come back, runs,
and the signed webhook (the real ASGI app, a real POS server on 127.0.0.1)."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from typing import Any

import httpx

from goalgraph.adapters.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from goalgraph.core.models import AuditEvent, DataBinding, Measurement, SyncRun

from .factories import gid, gql, make_company
from .fake_pos import FakePos, pos_config, serving
from .test_sync import stores_with_kpis

CREATE = """mutation($i: CreateDataBindingInput!) { createDataBinding(input: $i) {
  dataBinding { id name adapter config credentials everyMinutes webhookPath nextRunAt }
  errors { field code message } } }"""
UPDATE = """mutation($i: UpdateDataBindingInput!) { updateDataBinding(input: $i) {
  dataBinding { config credentials everyMinutes } errors { field code } } }"""
RUN = """mutation($b: ID!) { runSync(bindingId: $b) {
  syncRun { status rowsRead rowsWritten rowsRejected error rejectedRows { ref reason } }
  errors { code message } } }"""
SECRET = "whsec-0123456789abcdef"


async def test_adapters_include_the_enabled_packs(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    query = "{ adapters { name pack pulls secretFields metrics { code unit } } }"
    names = {
        a["name"] for a in (await gql(client, query, auth=company.token()))["data"]["adapters"]
    }
    assert {"http_json", "file", "webhook"} <= names
    assert "retail.pos" not in names
    await gql(
        client,
        'mutation { enablePack(name: "retail", stages: ["growth"]) { errors { code } } }',
        auth=company.token(),
    )
    adapters = (await gql(client, query, auth=company.token()))["data"]["adapters"]
    pos = next(a for a in adapters if a["name"] == "retail.pos")
    assert pos["pack"] == "retail"
    assert pos["pulls"] is True
    assert {"code": "pos.sales", "unit": "CNY"} in pos["metrics"]
    assert pos["secretFields"] == ["token"]


async def test_credentials_are_sealed_and_never_returned(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    config = {"url": "http://127.0.0.1:9/api", "auth": "bearer", "token": "pos-t0ken-xyz"}
    body = await gql(
        client,
        CREATE,
        {"i": {"name": "POS", "adapter": "http_json", "config": config, "everyMinutes": 60}},
        auth=company.token(),
    )
    binding = body["data"]["createDataBinding"]["dataBinding"]
    assert body["data"]["createDataBinding"]["errors"] == []
    assert "token" not in binding["config"]
    assert binding["credentials"] == ["token"]
    assert binding["nextRunAt"] is not None  # scheduled: due at once
    row = await DataBinding.get(name="POS")
    assert "pos-t0ken-xyz" not in row.secrets + json.dumps(row.config)
    trail = json.dumps([e.after for e in await AuditEvent.filter(entity_type="data_binding")])
    assert "pos-t0ken-xyz" not in trail

    # a change that leaves the token out keeps it; a new token is audited by name only
    changed = {**config, "page_size": 200}
    changed.pop("token")
    body = await gql(
        client, UPDATE, {"i": {"id": binding["id"], "config": changed}}, auth=company.token()
    )
    assert body["data"]["updateDataBinding"]["dataBinding"]["credentials"] == ["token"]
    assert body["data"]["updateDataBinding"]["dataBinding"]["config"]["page_size"] == 200
    await gql(
        client,
        UPDATE,
        {"i": {"id": binding["id"], "config": {**changed, "token": "env:POS_TOKEN"}}},
        auth=company.token(),
    )
    event = await AuditEvent.get(action="binding.credentials_changed")
    assert event.after == {"fields": ["token"]}


async def test_bad_bindings_are_refused_with_every_problem(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    bad = {"url": "ftp://pos", "page_size": 0, "colour": "red"}
    body = await gql(
        client,
        CREATE,
        {"i": {"name": "POS", "adapter": "http_json", "config": bad, "everyMinutes": 1}},
        auth=company.token(),
    )
    errors = body["data"]["createDataBinding"]["errors"]
    assert {(e["field"], e["code"]) for e in errors} >= {("everyMinutes", "OUT_OF_RANGE")}
    body = await gql(
        client,
        CREATE,
        {"i": {"name": "POS", "adapter": "http_json", "config": bad}},
        auth=company.token(),
    )
    fields = {e["field"] for e in body["data"]["createDataBinding"]["errors"]}
    assert fields == {"config.url", "config.page_size", "config.colour"}
    body = await gql(
        client, CREATE, {"i": {"name": "X", "adapter": "sap", "config": {}}}, auth=company.token()
    )
    assert body["data"]["createDataBinding"]["errors"][0]["code"] == "INVALID"
    # only admins and consultants
    body = await gql(
        client,
        CREATE,
        {"i": {"name": "X", "adapter": "webhook", "config": {"secret": SECRET}}},
        auth=company.token("manager"),
    )
    assert body["data"]["createDataBinding"]["errors"][0]["code"] == "FORBIDDEN"
    listed = await gql(client, "{ dataBindings { name } }", auth=company.token("manager"))
    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await DataBinding.all().count() == 0


async def test_run_sync_and_its_runs_through_the_api(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    stores = await stores_with_kpis(company, 3)
    today = date.today()
    pos = FakePos([*stores, "zz-gone"], today - timedelta(days=9), 10)
    async with serving(pos):
        created = await gql(
            client,
            CREATE,
            {"i": {"name": "POS", "adapter": "http_json", "config": pos_config(pos)}},
            auth=company.token(),
        )
        binding_id = created["data"]["createDataBinding"]["dataBinding"]["id"]
        body = await gql(client, RUN, {"b": binding_id}, auth=company.token())
    run = body["data"]["runSync"]["syncRun"]
    assert (run["status"], run["rowsWritten"], run["rowsRejected"]) == ("PARTIAL", 60, 20)
    assert run["rejectedRows"][0]["reason"] == "no active KPI 'daily_sales' for subject 'zz-gone'"
    query = """query($b: ID!) {
      syncRuns(bindingId: $b) { totalCount edges { node { status trigger } } }
      dataBindings { name lastRun { rowsWritten } } }"""
    listed = (await gql(client, query, {"b": binding_id}, auth=company.token()))["data"]
    assert listed["syncRuns"]["totalCount"] == 1
    assert listed["syncRuns"]["edges"][0]["node"] == {"status": "PARTIAL", "trigger": "manual"}
    assert listed["dataBindings"] == [{"name": "POS", "lastRun": {"rowsWritten": 60}}]


async def _webhook(client: httpx.AsyncClient, token: str) -> tuple[str, int]:
    body = await gql(
        client,
        CREATE,
        {
            "i": {
                "name": "Push",
                "adapter": "webhook",
                "config": {"secret": SECRET, "max_bytes": 2048},
            }
        },
        auth=token,
    )
    binding = body["data"]["createDataBinding"]["dataBinding"]
    return binding["webhookPath"], int(binding["webhookPath"].rsplit("/", 1)[1])


async def _post(
    client: httpx.AsyncClient,
    path: str,
    body: bytes,
    stamp: int | None = None,
    signature: str | None = None,
) -> httpx.Response:
    stamp = int(time.time()) if stamp is None else stamp
    headers = {
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: signature or sign(SECRET, stamp, body),
        "Content-Type": "application/json",
    }
    return await client.post(path, content=body, headers=headers)


def _readings(*rows: tuple[str, str, str, Any]) -> bytes:
    return json.dumps(
        {"readings": [{"subject": s, "metric": m, "period": p, "value": v} for s, m, p, v in rows]}
    ).encode()


async def test_webhook_accepts_signed_batches_and_refuses_the_rest(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    await stores_with_kpis(company, 2)
    path, binding_id = await _webhook(client, company.token())
    good = _readings(
        ("s00", "daily_sales", "2026-11-27", 1200), ("s01", "foot_traffic", "2026-11-27", "x")
    )

    refused = [
        await _post(client, path, good, signature="sha256=" + "0" * 64),
        await _post(client, path, good, stamp=int(time.time()) - 3600),
        await _post(client, path, b'{"readings": [', signature=None),
        await _post(client, path, b"[" + b" " * 4096 + b"]"),
        await client.post(path, content=good),
        await _post(client, "/hooks/999999", good),
    ]
    assert [r.status_code for r in refused] == [401, 401, 400, 413, 401, 404]
    assert "signature does not match" in refused[0].json()["error"]
    assert "replay window" in refused[1].json()["error"]
    assert await Measurement.all().count() == 0
    assert await SyncRun.all().count() == 0

    accepted = await _post(client, path, good, stamp=int(time.time()))
    assert accepted.status_code == 200
    result = accepted.json()
    assert (result["written"], result["rejected"]) == (1, 1)
    assert result["rejections"][0]["reason"] == "foot_traffic: not a number: 'x'"
    stamp = int(time.time()) - 30  # another signed body than the one accepted above
    first = await _post(client, path, good, stamp=stamp)
    replayed = await _post(client, path, good, stamp=stamp)
    assert (first.status_code, replayed.status_code) == (200, 409)
    assert await Measurement.all().count() == 1  # the same value, upserted, never doubled
    runs = await SyncRun.filter(binding_id=binding_id).count()
    assert runs == 2
    assert gid("DataBinding", binding_id)
