"""Benchmark: rows synced per second from a point-of-sale API, pages of 500.

A POS export on 127.0.0.1 (aiohttp) serves one row per store and day with two figures
(sales, visitors); a tenant has a daily-sales and a foot-traffic KPI per store, bound
through the HTTP JSON adapter. The sync runs through the real runner: every page is
upserted with its cursor in one transaction, stored scores kept current on the way.

    python bench/sync_pos.py                       # 200 stores × 60 days, SQLite
    python bench/sync_pos.py --stores 500 --days 90
    GOALGRAPH_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench python bench/sync_pos.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from tortoise import Tortoise

from goalgraph.adapters.bindings import BindingInput, create_binding
from goalgraph.adapters.registry import GENERIC
from goalgraph.core.app import make_syncer
from goalgraph.core.db import migrate, tortoise_config
from goalgraph.core.enums import Aggregation, CycleKind, OrgUnitKind, Role
from goalgraph.core.identity import Identity
from goalgraph.core.models import Kpi, OrgUnit
from goalgraph.core.secrets import SecretBox
from goalgraph.core.services import org
from goalgraph.core.settings import Settings
from goalgraph.core.tenancy import Actor, TenantScope
from goalgraph.plugins.manager import PackManager

SECRET = "benchmark-secret-with-enough-length-0001"


def pos_app(stores: list[str], first: date, days: int) -> web.Application:
    async def sales(request: web.Request) -> web.Response:
        since = date.fromisoformat(request.query["since"])
        until = date.fromisoformat(request.query["until"])
        page, size = int(request.query["page"]), int(request.query["page_size"])
        rows = [
            {"store_code": s, "date": d.isoformat(), "sales": 1000.0 + i + n, "visitors": 100 + i}
            for n in range(days)
            if since <= (d := first + timedelta(days=n)) <= until
            for i, s in enumerate(stores)
        ]
        return web.json_response({"items": rows[(page - 1) * size : page * size]})

    app = web.Application()
    app.router.add_get("/api/sales", sales)
    return app


async def seed(slug: str, stores: int, first: date, last: date) -> TenantScope:
    tenant, root = await org.create_tenant(slug=slug, name=slug)
    scope = TenantScope(tenant, Identity(tenant.id, slug, Role.ADMIN), Actor(None, None))
    await org.create_cycle(scope, name="Q", kind=CycleKind.QUARTER, starts_on=first, ends_on=last)
    units = [
        OrgUnit(
            tenant_id=tenant.id,
            name=f"s{i}",
            kind=OrgUnitKind.STORE,
            parent_id=root.id,
            depth=1,
            code=f"s{i:04d}",
        )
        for i in range(stores)
    ]
    await OrgUnit.bulk_create(units, batch_size=1000)
    units = await OrgUnit.filter(tenant_id=tenant.id, code__not_isnull=True).order_by("id")
    for unit in units:
        unit.path = f"{root.path}{unit.id}/"
    await OrgUnit.bulk_update(units, fields=["path"], batch_size=1000)
    kpis = [
        Kpi(
            tenant_id=tenant.id,
            metric_code=metric,
            title=f"{metric} {u.code}",
            target=1000,
            threshold=800,
            aggregation=aggregation,
            owner_unit_id=u.id,
        )
        for u in units
        for metric, aggregation in (
            ("daily_sales", Aggregation.SUM),
            ("foot_traffic", Aggregation.AVERAGE),
        )
    ]
    await Kpi.bulk_create(kpis, batch_size=1000)
    return scope


async def measure(url: str, stores: int, days: int) -> None:
    await Tortoise.init(config=tortoise_config(url))
    try:
        last = date.today()
        first = last - timedelta(days=days - 1)
        scope = await seed(f"bench-sync-{os.getpid()}", stores, first, last)
        codes = [f"s{i:04d}" for i in range(stores)]
        runner = web.AppRunner(pos_app(codes, first, days))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        settings = Settings(database_url=url, secret=SECRET)
        config = {
            "url": f"http://127.0.0.1:{runner.addresses[0][1]}/api/sales",
            "page_size": 500,
            "window_days": 366,
            "start": first.isoformat(),
            "subject_field": "store_code",
            "period_field": "date",
            "values": {"sales": "daily_sales", "visitors": "foot_traffic"},
        }
        binding = await create_binding(
            scope,
            GENERIC,
            SecretBox(SECRET),
            BindingInput(name="POS", adapter="http_json", config=config),
        )
        async with aiohttp.ClientSession() as session:
            syncer = make_syncer(settings, PackManager.discover(), session)
            started = time.perf_counter()
            run = await syncer.run(scope, binding, "bench")
            seconds = time.perf_counter() - started
        await runner.cleanup()
        rows = stores * days
        assert run.rows_written == 2 * rows, (run.status, run.error, run.rows_written)
        print(f"source rows {rows:,} ({rows // 500 + 1} pages of 500), {2 * rows:,} values")
        rate = f"{rows / seconds:,.0f} rows/s, {2 * rows / seconds:,.0f} values/s"
        print(f"sync {seconds:.2f} s: {rate}")
    finally:
        await Tortoise.close_connections()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=200)
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args()
    url = os.environ.get("GOALGRAPH_BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite://{Path(tmp) / 'bench.sqlite3'}"
        asyncio.run(migrate(url))
        asyncio.run(measure(url, args.stores, args.days))


if __name__ == "__main__":
    main()
