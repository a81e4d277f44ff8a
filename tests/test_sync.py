"""Syncing KPI values from a point-of-sale API that misbehaves (a real aiohttp server)."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import sys
from datetime import date, timedelta

import aiohttp
import pytest

from goalgraph.adapters.bindings import BindingInput, create_binding
from goalgraph.adapters.registry import GENERIC
from goalgraph.adapters.runner import SyncBusy, claim, job_of
from goalgraph.core.app import make_syncer
from goalgraph.core.enums import Aggregation, GoalStatus, OrgUnitKind, SyncStatus
from goalgraph.core.models import DataBinding, Kpi, Measurement, OrgUnit, RejectedRow
from goalgraph.core.secrets import SecretBox
from goalgraph.core.services import kpis, org
from goalgraph.core.settings import Settings, secret_box_key
from goalgraph.plugins.manager import PackManager

from .factories import TEST_SECRET, Company, make_company
from .fake_pos import FakePos, pos_config, serving

FIRST_DAY = date(2026, 9, 30)
DAYS = 60
TODAY = FIRST_DAY + timedelta(days=DAYS - 1)


async def stores_with_kpis(company: Company, count: int) -> list[str]:
    """``count`` stores with codes s00.., each with a daily-sales and a foot-traffic KPI."""
    codes = []
    for i in range(count):
        code = f"s{i:02d}"
        store = await org.create_org_unit(
            company.scope,
            name=f"门店{i}",
            kind=OrgUnitKind.STORE,
            parent_id=company.region.id,
            code=code,
        )
        for metric, aggregation in (
            ("daily_sales", Aggregation.SUM),
            ("foot_traffic", Aggregation.AVERAGE),
        ):
            await kpis.create_kpi(
                company.scope,
                metric_code=metric,
                title=f"{metric} {code}",
                target=1000,
                threshold=800,
                aggregation=aggregation,
                owner_unit_id=store.id,
            )
        codes.append(code)
    return codes


async def bind(company: Company, settings: Settings, pos: FakePos, **config: object) -> DataBinding:
    return await create_binding(
        company.scope,
        GENERIC,
        SecretBox(secret_box_key(settings)),
        BindingInput(name="POS", adapter="http_json", config=pos_config(pos, **config)),
    )


async def stored(company: Company) -> dict[tuple[str, str, date], float]:
    """Every stored value by (store code, KPI metric, day)."""
    units = {u.id: u.code for u in await OrgUnit.filter(tenant_id=company.tenant.id)}
    metric_of = {
        k.id: (units[k.owner_unit_id], k.metric_code)
        for k in await Kpi.filter(tenant_id=company.tenant.id, status=GoalStatus.ACTIVE)
        if units.get(k.owner_unit_id)
    }
    rows = await Measurement.filter(tenant_id=company.tenant.id, kpi_id__in=list(metric_of))
    return {(*metric_of[m.kpi_id], m.period_start): m.value for m in rows}


async def test_every_good_row_once_every_bad_row_rejected_through_every_fault(
    client: object, settings: Settings
) -> None:
    company = await make_company("acme")
    stores = await stores_with_kpis(company, 20)
    bad_day = FIRST_DAY + timedelta(days=4)
    pos = FakePos(
        [*stores, "zz-closed"],  # a store the tenant does not have
        FIRST_DAY,
        DAYS,
        faults={1: "429", 2: "500", 4: "slow", 6: "malformed"},
        bad_rows={
            ("s03", bad_day): {
                "store_code": "s03",
                "date": bad_day.isoformat(),
                "sales": "abc",
                "visitors": "n/a",
            },
            ("s05", bad_day): {
                "store_code": None,
                "date": bad_day.isoformat(),
                "sales": 1,
                "visitors": 2,
            },
            ("s07", bad_day): {
                "store_code": "s07",
                "date": "2026-13-40",
                "sales": 1,
                "visitors": 2,
            },
        },
    )
    async with serving(pos), aiohttp.ClientSession() as session:
        binding = await bind(company, settings, pos)
        syncer = make_syncer(settings, PackManager.discover(), session)
        run = await syncer.run(company.scope, binding, "test", today=TODAY)

        expected = {k: v for k, v in pos.good().items() if k[0] != "zz-closed"}
        assert await stored(company) == expected
        assert run.status is SyncStatus.PARTIAL, run.error
        closed = 2 * DAYS  # two readings a day for the unknown store
        assert run.rows_rejected == 6 + closed
        assert run.rows_written == len(expected)
        assert run.rows_read == run.rows_written + run.rows_rejected
        reasons = [r.reason for r in await RejectedRow.filter(run_id=run.id).order_by("id")]
        assert "daily_sales: not a number: 'abc'" in reasons
        assert "daily_sales: no 'store_code'" in reasons
        assert any("is not a date: '2026-13-40'" in r for r in reasons)
        assert reasons.count("no active KPI 'daily_sales' for subject 'zz-closed'") == DAYS
        # each fault cost one retry: 4 data pages plus 4 retried requests
        assert pos.requests == 8

        # a second sync reads nothing new and changes nothing
        again = await syncer.run(company.scope, binding, "test", today=TODAY)
        assert again.status is SyncStatus.SUCCEEDED
        assert again.rows_read == 0
        assert await Measurement.filter(tenant_id=company.tenant.id).count() == len(expected)


async def test_retries_are_logged_with_the_binding_and_the_attempt(
    client: object, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """One line per retry on goalgraph's log, never stamina's bare event name."""
    company = await make_company("acme")
    stores = await stores_with_kpis(company, 2)
    pos = FakePos(stores, FIRST_DAY, 3, faults={1: "500"})
    caplog.set_level(logging.INFO)
    async with serving(pos), aiohttp.ClientSession() as session:
        binding = await bind(company, settings, pos)
        syncer = make_syncer(settings, PackManager.discover(), session)
        run = await syncer.run(company.scope, binding, "test", today=TODAY)
    assert run.status is SyncStatus.SUCCEEDED, run.error
    lines = [r.getMessage() for r in caplog.records if r.name == "goalgraph.adapters.retries"]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"binding {binding.id} ({binding.name}) of tenant acme: attempt 1")
    assert "HTTP 500" in lines[0]
    assert not [r for r in caplog.records if "stamina.retry_scheduled" in r.getMessage()]


async def test_a_failed_run_resumes_where_its_last_stored_page_ended(
    client: object, settings: Settings
) -> None:
    company = await make_company("acme")
    stores = await stores_with_kpis(company, 20)
    # the third request fails on every attempt (4): the run stops there
    pos = FakePos(stores, FIRST_DAY, DAYS, faults=dict.fromkeys(range(3, 7), "500"))
    async with serving(pos), aiohttp.ClientSession() as session:
        binding = await bind(company, settings, pos)
        syncer = make_syncer(settings, PackManager.discover(), session)
        failed = await syncer.run(company.scope, binding, "test", today=TODAY)
        assert failed.status is SyncStatus.FAILED
        assert "failed after 4 attempts: HTTP 500" in failed.error
        # the first 31-day window (620 rows, two pages) is in, two readings a row
        assert failed.rows_written == 2 * 20 * 31
        second_window = (FIRST_DAY + timedelta(days=31)).isoformat()
        job = await job_of(company.scope, binding)
        assert job.cursor == {"since": second_window}

        resumed = await syncer.run(company.scope, binding, "test", today=TODAY)
        assert resumed.status is SyncStatus.SUCCEEDED
        assert await stored(company) == pos.good()
        # the resumed run started at the failed request: the second window's first page
        assert (pos.log[6]["since"], pos.log[6]["page"]) == (second_window, "1")


async def test_a_held_job_is_not_run_twice(client: object, settings: Settings) -> None:
    company = await make_company("acme")
    pos = FakePos(["s00"], FIRST_DAY, 1)
    async with serving(pos), aiohttp.ClientSession() as session:
        binding = await bind(company, settings, pos)
        syncer = make_syncer(settings, PackManager.discover(), session)
        other = make_syncer(settings, PackManager.discover(), session)
        other.lease = type(other.lease)("another-worker", 60)
        assert await claim(await job_of(company.scope, binding), other.lease)
        with pytest.raises(SyncBusy):
            await syncer.run(company.scope, binding, "test", today=TODAY)
        assert pos.requests == 0


async def test_killed_syncs_lose_nothing_and_double_nothing(
    client: object, settings: Settings, db_url: str
) -> None:
    """A sync process killed (SIGKILL) at random moments, again and again, then run to
    the end, stores exactly what one clean sync stores."""
    company = await make_company("acme")
    stores = await stores_with_kpis(company, 20)
    today = date.today()
    first = today - timedelta(days=DAYS - 1)
    pos = FakePos(stores, first, DAYS, delay=0.05)
    env = {
        **os.environ,
        "GOALGRAPH_DATABASE_URL": db_url,
        "GOALGRAPH_SECRET": TEST_SECRET,
        "GOALGRAPH_SYNC_LEASE_SECONDS": "0.5",
    }
    rounds, killed = 12, 0
    rng = random.Random(20261129)
    async with serving(pos):
        binding = await bind(company, settings, pos, page_size=100)
        for _ in range(rounds):
            await asyncio.sleep(0.6)  # the killed worker's lease runs out
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "goalgraph.core.cli",
                "sync",
                "--binding",
                str(binding.id),
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            await asyncio.sleep(rng.uniform(0.8, 3.0))
            if process.returncode is None:
                process.kill()
                killed += 1
            await process.wait()
        await asyncio.sleep(0.6)
        final = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "goalgraph.core.cli",
            "sync",
            "--binding",
            str(binding.id),
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, errors = await final.communicate()
        assert final.returncode == 0, errors.decode()
    assert killed >= rounds // 2  # most rounds really were cut short
    found = await stored(company)
    expected = pos.good()
    lost = expected.keys() - found.keys()
    doubled = await Measurement.filter(tenant_id=company.tenant.id).count() - len(expected)
    assert (len(lost), doubled) == (0, 0)
    assert found == expected


async def test_the_demo_pos_feeds_freshmart_through_the_retail_adapter(
    client: object, settings: Settings
) -> None:
    from aiohttp import web

    from goalgraph.plugins.retail.demo import pos_url, seed_demo
    from goalgraph.plugins.retail.pos_demo import STORES, pos_app, row

    from .test_stored_scores import _assert_stored_equals_scratch

    seeded, today = date(2026, 11, 28), date(2026, 11, 30)
    await seed_demo(seeded)
    runner = web.AppRunner(pos_app(lambda: today))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    # `goalgraph demo --pos-port …` again, as `make demo POS_PORT=…` does
    summary = await seed_demo(seeded, pos=pos_url(port=runner.addresses[0][1]))
    binding = await DataBinding.get(tenant_id=summary.tenant_id, adapter="retail.pos")
    try:
        async with aiohttp.ClientSession() as session:
            manager = PackManager.discover()
            syncer = make_syncer(settings, manager, session)
            tenant = await binding.tenant
            scope = syncer.system_scope(tenant)
            run = await syncer.run(scope, binding, "test", today=today)
    finally:
        await runner.cleanup()
    assert run.status is SyncStatus.SUCCEEDED, run.error
    assert run.rows_written == len(STORES) * 3 * 4  # 3 days, 4 figures a store-day
    xuhui = await OrgUnit.get(tenant_id=tenant.id, code="sh-xuhui")
    sales = await Kpi.get(owner_unit_id=xuhui.id, metric_code="store_daily_sales")
    assert sales.current_period == today
    assert sales.current_value == row("sh-xuhui", today)["sales"]
    await _assert_stored_equals_scratch(scope)


async def test_the_server_runs_due_bindings_on_its_own(db_url: str) -> None:
    """The lifespan loop picks up a scheduled binding and syncs it, with no one asking."""
    from asgi_lifespan import LifespanManager
    from tortoise import Tortoise

    from goalgraph.core.app import create_app
    from goalgraph.core.models import SyncRun

    settings = Settings(database_url=db_url, secret=TEST_SECRET, sync_poll_seconds=0.2)
    app = create_app(settings)
    pos = FakePos(["s00"], FIRST_DAY, 3)
    async with serving(pos), LifespanManager(app):
        assert Tortoise._inited
        company = await make_company("acme")
        await stores_with_kpis(company, 1)
        await create_binding(
            company.scope,
            GENERIC,
            SecretBox(secret_box_key(settings)),
            BindingInput(
                name="POS",
                adapter="http_json",
                config=pos_config(pos, start=FIRST_DAY.isoformat()),
                every_minutes=60,
            ),
        )
        for _ in range(50):
            run = await SyncRun.filter(trigger="schedule").first()
            if run is not None and run.status is not SyncStatus.RUNNING:
                break
            await asyncio.sleep(0.1)
        assert run is not None
        assert run.status is SyncStatus.SUCCEEDED, run.error
        assert run.rows_written == 6
        job = await job_of(company.scope, await DataBinding.get(name="POS"))
        assert job.next_run_at is not None
        assert job.lease_owner is None
