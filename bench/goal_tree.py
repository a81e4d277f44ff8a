"""Benchmark: ``goalTree`` on a small and a large tenant.

Reports, per tree size, the SQL statements one ``goalTree`` call sends and its
wall time through the real ASGI app, next to the time of the raw SQL plus JSON
serialisation of the same rows (the floor any API could reach).

    python bench/goal_tree.py                 # sizes 40 and ~10k nodes, SQLite
    python bench/goal_tree.py --repeat 9      # more timing runs
    GOALGRAPH_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench python bench/goal_tree.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager
from tortoise import Tortoise

from goalgraph.core.app import create_app
from goalgraph.core.db import migrate
from goalgraph.core.enums import CycleKind, Direction, OrgUnitKind, Role
from goalgraph.core.identity import Identity, mint_token
from goalgraph.core.models import (
    Cycle,
    KeyResult,
    Kpi,
    KpiLink,
    Objective,
    OrgUnit,
    Person,
    Tenant,
)
from goalgraph.core.scoring.store import rebuild
from goalgraph.core.settings import Settings
from goalgraph.core.tenancy import Actor, TenantScope

SECRET = "benchmark-secret-with-enough-length-0001"
QUERY = """
fragment N on GoalNode { id kind title titleEn progress score
  owner { ... on OrgUnit { name } ... on Person { name } }
  ... on Kpi { currentValue target threshold } }
{ goalTree { ...N children { ...N children { ...N children { ...N children { ...N
  children { ...N children { ...N } } } } } } } }
"""


async def seed(slug: str, branching: int, depth: int) -> Tenant:
    """Objectives ``branching``-ary to ``depth`` levels; each leaf with 2 KRs × 2 KPIs."""
    tenant = await Tenant.create(slug=slug, name=slug)
    root = await OrgUnit.create(tenant_id=tenant.id, name=slug, kind=OrgUnitKind.COMPANY)
    root.path = f"/{root.id}/"
    await root.save()
    await Person.create(tenant_id=tenant.id, name="admin", role=Role.ADMIN, org_unit_id=root.id)
    cycle = await Cycle.create(
        tenant_id=tenant.id,
        name="Q4",
        kind=CycleKind.QUARTER,
        starts_on=date(2026, 10, 1),
        ends_on=date(2026, 12, 31),
    )
    next_id = (await Objective.all().order_by("-id").first() or Objective(id=0)).id + 1
    objectives: list[Objective] = []
    level: list[Objective | None] = [None]
    for d in range(depth):
        new_level: list[Objective | None] = []
        for parent in level:
            for _ in range(branching if parent else 1):
                path = f"{parent.path if parent else '/'}{next_id}/"
                objective = Objective(
                    id=next_id,
                    tenant_id=tenant.id,
                    title=f"O{next_id}",
                    cycle_id=cycle.id,
                    owner_unit_id=root.id,
                    parent_id=parent.id if parent else None,
                    path=path,
                    depth=d,
                )
                objectives.append(objective)
                new_level.append(objective)
                next_id += 1
        level = new_level
    await Objective.bulk_create(objectives, batch_size=2000)
    krs = [
        KeyResult(
            tenant_id=tenant.id,
            objective_id=o.id,
            title=f"KR{o.id}.{i}",
            target_value=100,
            current_value=40,
            owner_unit_id=root.id,
        )
        for o in level
        if o
        for i in range(2)
    ]
    await KeyResult.bulk_create(krs, batch_size=2000)
    krs = await KeyResult.filter(tenant_id=tenant.id).order_by("id")
    kpis = [
        Kpi(
            tenant_id=tenant.id,
            metric_code="m",
            title=f"K{k.id}.{i}",
            target=3,
            threshold=4,
            direction=Direction.LOWER_IS_BETTER,
            owner_unit_id=root.id,
            current_value=3.5,
            current_period=date(2026, 11, 28),
        )
        for k in krs
        for i in range(2)
    ]
    await Kpi.bulk_create(kpis, batch_size=2000)
    kpis = await Kpi.filter(tenant_id=tenant.id).order_by("id")
    links = [
        KpiLink(tenant_id=tenant.id, key_result_id=krs[i // 2].id, kpi_id=kpi.id)
        for i, kpi in enumerate(kpis)
    ]
    await KpiLink.bulk_create(links, batch_size=2000)
    # The rows went in behind the services' back: store their scores, as writes through
    # the services would have kept them, so goalTree is timed reading them.
    scope = TenantScope(tenant, Identity(tenant.id, tenant.slug, Role.ADMIN), Actor(None, None))
    await rebuild(scope, cycle, None)
    return tenant


class Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE")):
            self.count += 1


async def raw_sql_json(tenant_id: int) -> float:
    """The floor: the same rows by hand-written SQL, serialised to JSON."""
    conn = Tortoise.get_connection("default")
    start = time.perf_counter()
    rows = {}
    for table in ("objective", "key_result", "kpi_link", "kpi", "org_unit"):
        _, result = await conn.execute_query(
            f"SELECT * FROM {table} WHERE tenant_id = {int(tenant_id)}"
        )
        rows[table] = [dict(r) for r in result]
    json.dumps(rows, default=str)
    return time.perf_counter() - start


async def measure(url: str, sizes: list[tuple[int, int]], repeat: int) -> None:
    app = create_app(Settings(database_url=url, secret=SECRET))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            header = ("nodes", "statements", "goalTree ms", "raw+json ms", "ratio")
            print("{:>7} {:>10} {:>12} {:>12} {:>6}".format(*header))
            for n, (branching, depth) in enumerate(sizes):
                tenant = await seed(f"bench-{n}-{os.getpid()}", branching, depth)
                nodes = (
                    await Objective.filter(tenant_id=tenant.id).count()
                    + await KeyResult.filter(tenant_id=tenant.id).count()
                    + await Kpi.filter(tenant_id=tenant.id).count()
                )
                token = mint_token(
                    Identity(tenant.id, tenant.slug, Role.ADMIN), SECRET, timedelta(hours=1)
                )
                headers = {"Authorization": f"Bearer {token}"}
                counter = Counter()
                logger = logging.getLogger("tortoise.db_client")
                logger.setLevel(logging.DEBUG)
                logger.addHandler(counter)
                response = await client.post("/graphql", json={"query": QUERY}, headers=headers)
                logger.removeHandler(counter)
                logger.setLevel(logging.WARNING)
                assert "errors" not in response.json(), response.text[:500]
                api, raw = [], []
                for _ in range(repeat):
                    t0 = time.perf_counter()
                    await client.post("/graphql", json={"query": QUERY}, headers=headers)
                    api.append(time.perf_counter() - t0)
                    raw.append(await raw_sql_json(tenant.id))
                a, r = statistics.median(api) * 1000, statistics.median(raw) * 1000
                print(f"{nodes:>7} {counter.count:>10} {a:>12.1f} {r:>12.1f} {a / r:>6.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = [(2, 3), (10, 4)]  # ~40 nodes; ~1.1k objectives + 10k KRs/KPIs
    url = os.environ.get("GOALGRAPH_BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite://{Path(tmp) / 'bench.sqlite3'}"
        asyncio.run(migrate(url))
        asyncio.run(measure(url, sizes, args.repeat))


if __name__ == "__main__":
    main()
