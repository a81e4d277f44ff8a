r"""Benchmark: a company's first roster import (花名册), from a GBK CSV to applied.

A deterministic roster: regions (大区) → city branches (分公司) → stores (店), a
manager per unit and staff in every store reporting to their store manager, written as
the GBK CSV with Chinese headers Excel on a Chinese Windows saves. The import reads the
file (``adapters/roster_file.py``), plans it and applies it through ``core/roster.py``,
then imports the same file again, which must change nothing.

    python bench/roster_import.py                        # 5,000 people, ~300 units, SQLite
    python bench/roster_import.py --people 20000 --regions 12
    GOALGRAPH_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \
        python bench/roster_import.py
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from tortoise import Tortoise

from goalgraph.adapters.roster_file import read_roster
from goalgraph.core.db import migrate, tortoise_config
from goalgraph.core.enums import Role
from goalgraph.core.identity import Identity
from goalgraph.core.models import AuditEvent, OrgUnit, Person
from goalgraph.core.roster import apply_roster, plan_roster
from goalgraph.core.services import org
from goalgraph.core.tenancy import Actor, TenantScope

REGIONS = ("华北", "华东", "华南", "华中", "西南", "西北", "东北", "京津", "长三角", "珠三角")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
HEADER = ["工号", "姓名", "英文名", "部门", "上级工号", "邮箱", "职位", "角色"]


def roster_csv(people: int, regions: int, branches: int, stores: int) -> bytes:
    """The roster as GBK CSV bytes: ``regions × branches × stores`` stores, each unit
    with a manager, the rest of the people spread over the stores."""
    rows: list[list[str]] = []
    number = 100000

    def person(department: str, manager: str, title: str, role: str) -> str:
        nonlocal number
        number += 1
        no = str(number)
        name = SURNAMES[number % len(SURNAMES)] + GIVEN[(number // 7) % len(GIVEN)]
        rows.append(
            [no, name, f"Staff {no}", department, manager, f"p{no}@corp.example", title, role]
        )
        return no

    store_paths: list[tuple[str, str]] = []
    for r in range(regions):
        region = f"{REGIONS[r % len(REGIONS)]}{r // len(REGIONS) or ''}大区"
        region_head = person(region, "", "大区总监", "manager")
        for b in range(branches):
            branch = f"{region}/第{b + 1}分公司"
            branch_head = person(branch, region_head, "分公司经理", "manager")
            for s in range(stores):
                store = f"{branch}/{b + 1}-{s + 1}号店"
                store_paths.append((store, person(store, branch_head, "店长", "manager")))
    index = 0
    while len(rows) < people:
        store, head = store_paths[index % len(store_paths)]
        person(store, head, "店员", "")
        index += 1
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows[:people])
    return buffer.getvalue().encode("gb18030")


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().lstrip()[:6].upper() in {"SELECT", "INSERT", "UPDATE", "DELETE"}:
            self.count += 1


async def run(url: str, people: int, regions: int, branches: int, stores: int) -> None:
    await migrate(url)
    await Tortoise.init(config=tortoise_config(url))
    try:
        tenant, root = await org.create_tenant(slug=f"bench-{int(time.time())}", name="基准公司")
        admin = await Person.create(
            tenant_id=tenant.id, name="管理员", role=Role.ADMIN, org_unit_id=root.id
        )
        identity = Identity(tenant.id, tenant.slug, Role.ADMIN, admin.id)
        scope = TenantScope(tenant, identity, Actor(admin, root.path))
        data = roster_csv(people, regions, branches, stores)
        logger = logging.getLogger("tortoise.db_client")
        counter = _Count()
        logger.setLevel(logging.DEBUG)
        logger.addHandler(counter)
        logger.propagate = False

        started = time.perf_counter()
        rows = read_roster(data, "花名册.csv")
        read = time.perf_counter()
        plan = await plan_roster(scope, rows)
        planned = time.perf_counter()
        await apply_roster(scope, plan)
        applied = time.perf_counter()
        first_statements = counter.count
        assert plan.ok, plan.problems[:5]
        total = applied - started
        units = await OrgUnit.filter(tenant_id=tenant.id).count()
        print(f"database   {url.split('://')[0]}")
        size = len(data) / 1024
        print(f"file       {size:,.0f} KiB GBK CSV, {len(rows):,} rows, {units:,} units")
        print(
            f"first      {total:.2f} s  (read {read - started:.2f} s, plan {planned - read:.2f} s, "
            f"apply {applied - planned:.2f} s)  {len(rows) / total:,.0f} rows/s, "
            f"{first_statements} statements"
        )
        audit = await AuditEvent.filter(tenant_id=tenant.id).count()
        counter.count = 0
        started = time.perf_counter()
        again = await plan_roster(scope, read_roster(data, "花名册.csv"))
        await apply_roster(scope, again)
        took = time.perf_counter() - started
        assert again.empty, again.counts()
        assert await AuditEvent.filter(tenant_id=tenant.id).count() == audit
        print(
            f"again      {took:.2f} s  {len(rows) / took:,.0f} rows/s, {counter.count} "
            "statements, nothing changed"
        )
    finally:
        await Tortoise.close_connections()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--regions", type=int, default=8)
    parser.add_argument("--branches", type=int, default=6, help="per region")
    parser.add_argument("--stores", type=int, default=5, help="per branch")
    args = parser.parse_args()
    url = os.environ.get("GOALGRAPH_BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as folder:
        url = url or f"sqlite://{Path(folder) / 'bench.sqlite3'}"
        asyncio.run(run(url, args.people, args.regions, args.branches, args.stores))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
