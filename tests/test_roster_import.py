"""Importing a roster (花名册): the diff, applying it, importing it again, leavers, bad
rows, moves by directory id, and what it costs — through the real CLI, the GraphQL API
(a multipart upload) and the engine directory syncs use, on every backend."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from goalgraph.core.enums import OrgUnitKind, Role
from goalgraph.core.errors import DomainError, ErrorCode
from goalgraph.core.models import Alert, AuditEvent, Kpi, Measurement, OrgUnit, Person
from goalgraph.core.roster import RosterRow, RosterUnit, apply_roster, plan_roster, unit_kind
from goalgraph.core.services import kpis
from goalgraph.core.services.measurements import MeasurementInput, record_measurements

from .factories import TEST_SECRET, Company, make_company, scope_for
from .sqlcount import count_statements

HEADER = "工号,姓名,英文名,部门,上级工号,邮箱,职位,角色\n"
FIRST = HEADER + (
    "1001,张伟,Zhang Wei,华北大区,,zhang.wei@acme.example,大区总监,manager\n"
    "1002,李娜,Li Na,华北大区/石家庄长安店,1001,li.na@acme.example,店长,manager\n"
    "1003,王芳,,华北大区/石家庄长安店,1002,,店员,\n"
    "1004,赵磊,,华东区/一号店,,,店员,\n"
)
#: 王芳 moves to 一号店 with a new title; 赵磊 left; 张伟's email is corrected.
SECOND = HEADER + (
    "1001,张伟,Zhang Wei,华北大区,,wei.zhang@acme.example,大区总监,manager\n"
    "1002,李娜,Li Na,华北大区/石家庄长安店,1001,li.na@acme.example,店长,manager\n"
    "1003,王芳,,华东区/一号店,1002,,收银主管,\n"
)


async def goalgraph(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The real ``goalgraph`` command on the test's database (SQLite or PostgreSQL)."""
    env = {**os.environ, "GOALGRAPH_DATABASE_URL": db_url, "GOALGRAPH_SECRET": TEST_SECRET}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "goalgraph.core.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def gbk_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("gbk"))
    return path


async def people(company: Company) -> dict[str, Person]:
    rows = await Person.filter(tenant_id=company.tenant.id, code__not_isnull=True)
    return {p.code or "": p for p in rows}


async def audit_count(company: Company) -> int:
    return await AuditEvent.filter(tenant_id=company.tenant.id).count()


# ----------------------------------------------------------------------------- CLI


async def test_dry_run_then_apply_then_the_same_file_again_changes_nothing(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path
) -> None:
    # given a company and its GBK roster with Chinese headers
    company = await make_company("acme")
    roster = gbk_file(tmp_path, "花名册.csv", FIRST)
    audit = await audit_count(company)
    last_event = await AuditEvent.filter(tenant_id=company.tenant.id).order_by("-id").first()
    since = last_event.id if last_event is not None else 0

    # when the roster is dry-run
    dry = await goalgraph(db_url, "org", "import", str(roster), "--tenant", "acme", "--dry-run")

    # then the diff lists the units and people to add, and nothing is written
    assert dry.returncode == 0, dry.stderr
    out = dry.stdout
    assert "units to add 2" in out
    assert "people to add 4" in out
    assert "+ 华北大区: kind region" in out
    assert "+ 华北大区/石家庄长安店: kind store" in out
    assert "+ line 2  1001 张伟: unit 华北大区; role manager" in out
    assert "+ line 4  1003 王芳: unit 华北大区/石家庄长安店; role employee;" in out
    assert "manager 1002 李娜" in out
    assert "+ line 5  1004 赵磊: unit 华东区/一号店" in out
    assert "dry run: nothing was written" in out
    assert await people(company) == {}
    assert await audit_count(company) == audit

    # when it is applied
    applied = await goalgraph(db_url, "org", "import", str(roster), "--tenant", "acme")
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.strip().endswith("applied")

    # then units and people are there, managers set, each change audited
    staff = await people(company)
    assert set(staff) == {"1001", "1002", "1003", "1004"}
    north = await OrgUnit.get(tenant_id=company.tenant.id, name="华北大区")
    store = await OrgUnit.get(tenant_id=company.tenant.id, name="石家庄长安店")
    assert (north.kind, north.parent_id, north.path) == (
        OrgUnitKind.REGION,
        company.root.id,
        f"{company.root.path}{north.id}/",
    )
    assert (store.kind, store.path, store.depth) == (
        OrgUnitKind.STORE,
        f"{north.path}{store.id}/",
        2,
    )
    assert staff["1002"].org_unit_id == store.id
    assert staff["1002"].manager_id == staff["1001"].id
    assert staff["1003"].manager_id == staff["1002"].id
    assert staff["1001"].manager_id is None  # blank: the org tree's answer
    assert staff["1004"].org_unit_id == company.store.id
    assert (staff["1001"].role, staff["1003"].role) == (Role.MANAGER, Role.EMPLOYEE)
    assert staff["1001"].email == "zhang.wei@acme.example"
    assert staff["1001"].job_title == "大区总监"
    actions = await AuditEvent.filter(tenant_id=company.tenant.id, id__gt=since).values_list(
        "action", flat=True
    )
    assert sorted(actions) == ["org_unit.created"] * 2 + ["person.created"] * 4
    created = await AuditEvent.get(action="person.created", entity_id=staff["1003"].id)
    assert created.after is not None
    assert created.after["org_unit_id"] == store.id
    assert created.after["manager_id"] == staff["1002"].id

    # when the same file is imported again
    audit = await audit_count(company)
    again = await goalgraph(db_url, "org", "import", str(roster), "--tenant", "acme")

    # then nothing changes and nothing is audited
    assert again.returncode == 0, again.stderr
    assert "nothing to change" in again.stdout
    assert await audit_count(company) == audit
    assert {p.id for p in (await people(company)).values()} == {p.id for p in staff.values()}


async def test_a_moved_person_keeps_their_id_goals_and_measurements_and_leavers_go_only_when_asked(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path
) -> None:
    # given an imported roster, and 王芳 owning a KPI with values and an open alert
    company = await make_company("acme")
    await goalgraph(
        db_url, "org", "import", str(gbk_file(tmp_path, "a.csv", FIRST)), "--tenant", "acme"
    )
    before = await people(company)
    wang = before["1003"]
    kpi = await kpis.create_kpi(
        company.scope,
        metric_code="sales",
        title="个人销售额",
        target=100,
        threshold=80,
        owner_person_id=wang.id,
    )
    await record_measurements(
        company.scope, [MeasurementInput(kpi.id, date(2026, 11, d), 70.0) for d in (26, 27)]
    )
    old_unit = await OrgUnit.get(id=wang.org_unit_id)
    alert = await Alert.create(
        tenant_id=company.tenant.id,
        kpi_id=kpi.id,
        owner_person_id=wang.id,
        owner_path=old_unit.path,
        misses=3,
    )
    second = gbk_file(tmp_path, "b.csv", SECOND)

    # when the changed roster is dry-run
    dry = await goalgraph(db_url, "org", "import", str(second), "--tenant", "acme", "--dry-run")

    # then it shows the move, the changed field and the leaver
    assert dry.returncode == 0, dry.stderr
    out = dry.stdout
    assert "moved 1 · changed 1 · missing 1" in out
    assert (
        "~ line 4  1003 王芳: unit 华北大区/石家庄长安店 → 华东区/一号店; job_title 店员 → 收银主管"
        in out
    )
    assert "~ line 2  1001 张伟: email zhang.wei@acme.example → wei.zhang@acme.example" in out
    assert "Missing from the file (leavers; --deactivate-missing) (1)" in out
    assert "- 1004 赵磊 (华东区/一号店)" in out

    # when it is applied without --deactivate-missing
    applied = await goalgraph(db_url, "org", "import", str(second), "--tenant", "acme")
    assert applied.returncode == 0, applied.stderr

    # then 王芳 is the same person in her new unit, with her KPI, values and alert
    after = await people(company)
    moved = after["1003"]
    assert moved.id == wang.id
    assert moved.org_unit_id == company.store.id
    assert moved.job_title == "收银主管"
    assert (await Kpi.get(id=kpi.id)).owner_person_id == wang.id
    assert await Measurement.filter(kpi_id=kpi.id).count() == 2
    assert (await Alert.get(id=alert.id)).owner_path == company.store.path
    event = await AuditEvent.get(action="person.updated", entity_id=wang.id)
    assert event.before == {"job_title": "店员", "org_unit_id": old_unit.id}
    assert event.after == {"job_title": "收银主管", "org_unit_id": company.store.id}
    # and the leaver is listed but still active
    assert after["1004"].active

    # when it is applied with --deactivate-missing
    gone = await goalgraph(
        db_url, "org", "import", str(second), "--tenant", "acme", "--deactivate-missing"
    )
    assert gone.returncode == 0, gone.stderr
    assert "Missing from the file (leavers, deactivated) (1)" in gone.stdout

    # then only the leaver is deactivated, audited, and the next import is a no-op
    final = await people(company)
    assert not final["1004"].active
    assert final["1004"].deactivated_at is not None
    assert all(final[no].active for no in ("1001", "1002", "1003"))
    leaver = await AuditEvent.get(action="person.deactivated", tenant_id=company.tenant.id)
    assert (leaver.entity_id, leaver.before, leaver.after) == (
        final["1004"].id,
        {"active": True, "deactivated_at": None},
        {"active": False, "deactivated_at": final["1004"].deactivated_at.isoformat()},
    )
    audit = await audit_count(company)
    again = await goalgraph(
        db_url, "org", "import", str(second), "--tenant", "acme", "--deactivate-missing"
    )
    assert "nothing to change" in again.stdout
    assert await audit_count(company) == audit


async def test_every_bad_row_is_listed_with_its_line_and_nothing_is_applied(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path
) -> None:
    # given a company where 9001 is an active person, and a roster with every kind of
    # bad row (and one good row)
    company = await make_company("acme")
    await goalgraph(
        db_url, "org", "import", str(gbk_file(tmp_path, "a.csv", FIRST)), "--tenant", "acme"
    )
    audit = await audit_count(company)
    bad = HEADER + (
        "2001,周杰,,华北大区,,zhou@acme.example,,\n"  # 2: fine
        "2001,吴敏,,华北大区,,,,\n"  # 3: duplicate 工号
        ",陈静,,华北大区,,,,\n"  # 4: no 工号
        "2003,,,华北大区,,,,\n"  # 5: no 姓名
        "2004,杨洋,,华北大区,9999,,,\n"  # 6: unknown manager
        "2005,黄勇,,华北大区,2006,,,\n"  # 7: loop 2005 → 2006 → 2005
        "2006,刘艳,,华北大区,2005,,,\n"  # 8: the same loop
        "2007,孙杰,,华北大区,,not-an-email,,\n"  # 9: bad email
        "2008,马娟,,华北大区,,ZHOU@acme.example,,\n"  # 10: duplicate email
        "2009,朱涛,,华北大区,,,,boss\n"  # 11: unknown role
        "2010,胡明,,华北大区//收银组,,,,\n"  # 12: empty department part
        "2011,郭超,,华北大区,,li.na@acme.example,,\n"  # 13: 李娜's email
    )
    path = gbk_file(tmp_path, "bad.csv", bad)

    # when it is imported (dry run or not)
    for extra in ((), ("--dry-run",)):
        result = await goalgraph(db_url, "org", "import", str(path), "--tenant", "acme", *extra)

        # then every bad row is one line of stderr with its line and reason; exit code 2
        assert result.returncode == 2
        problems = [line for line in result.stderr.splitlines() if line.startswith("bad.csv: line")]
        assert problems == [
            "bad.csv: line 3: employee number '2001' appears twice (first on line 2)",
            "bad.csv: line 4: the employee number (工号) is missing",
            "bad.csv: line 5: the name (姓名) is missing",
            "bad.csv: line 6: unknown manager '9999': neither in the file nor an active "
            "person of the company",
            "bad.csv: line 7: manager loop: 2005 黄勇 → 2006 刘艳 → 2005 黄勇",
            "bad.csv: line 8: manager loop: 2005 黄勇 → 2006 刘艳 → 2005 黄勇",
            "bad.csv: line 9: 'not-an-email' is not an email address",
            "bad.csv: line 10: email 'zhou@acme.example' appears twice (first on line 2)",
            "bad.csv: line 11: unknown role 'boss' (admin, consultant, manager, employee, viewer)",
            "bad.csv: line 12: department '华北大区//收银组' has an empty part",
            "bad.csv: line 13: email 'li.na@acme.example' belongs to 1002 李娜",
        ]
        assert "11 problem(s): nothing was imported" in result.stderr

    # and nothing was written: not even the good row
    assert "2001" not in await people(company)
    assert await audit_count(company) == audit


async def test_cli_errors_are_one_line_with_exit_code_2(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path
) -> None:
    await make_company("acme")
    headers = tmp_path / "wrong.csv"
    headers.write_text("编号,名字\n1,a\n", encoding="utf-8")
    result = await goalgraph(db_url, "org", "import", str(headers), "--tenant", "acme")
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "missing column(s) 工号 (employee_no), 姓名 (name), 部门 (department)" in line
    assert "the file has: '编号', '名字'" in line
    unknown = await goalgraph(db_url, "org", "import", str(headers), "--tenant", "nope")
    assert unknown.returncode == 2
    assert "no tenant with slug 'nope'" in unknown.stderr


# ------------------------------------------------------------------------- GraphQL

IMPORT = """
mutation Import($file: Upload!, $dryRun: Boolean!, $leavers: Boolean!) {
  importRoster(file: $file, dryRun: $dryRun, deactivateMissing: $leavers) {
    applied
    counts { rows unitsAdded unitsChanged peopleAdded peopleMoved peopleChanged missing
             deactivated problems }
    changes { kind subject line fields { field before after } }
    totalChanges
    problems { line code message }
    errors { field code message }
  }
}"""


async def upload(
    client: httpx.AsyncClient,
    token: str,
    name: str,
    data: bytes,
    *,
    dry_run: bool = True,
    leavers: bool = False,
) -> dict[str, Any]:
    """The GraphQL multipart request: ``operations``, ``map`` and the file part."""
    operations = {
        "query": IMPORT,
        "variables": {"file": None, "dryRun": dry_run, "leavers": leavers},
    }
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (name, data, "text/csv")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["importRoster"]
    return payload


async def test_import_roster_over_a_multipart_upload(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    data = FIRST.encode("gbk")

    # a dry run (the default) shows the diff and writes nothing
    dry = await upload(client, company.token(), "花名册.csv", data)
    assert dry["applied"] is False
    assert dry["errors"] == []
    assert dry["problems"] == []
    assert dry["counts"] == {
        "rows": 4,
        "unitsAdded": 2,
        "unitsChanged": 0,
        "peopleAdded": 4,
        "peopleMoved": 0,
        "peopleChanged": 0,
        "missing": 0,
        "deactivated": 0,
        "problems": 0,
    }
    assert dry["totalChanges"] == 6
    assert dry["changes"][0] == {
        "kind": "unit.add",
        "subject": "华北大区",
        "line": None,
        "fields": [{"field": "kind", "before": None, "after": "region"}],
    }
    wang = next(c for c in dry["changes"] if c["subject"] == "1003 王芳")
    assert wang["kind"] == "person.add"
    assert wang["line"] == 4
    assert {"field": "manager", "before": None, "after": "1002 李娜"} in wang["fields"]
    assert await people(company) == {}

    # applied, then the same file again: a no-op
    done = await upload(client, company.token(), "花名册.csv", data, dry_run=False)
    assert done["applied"] is True
    assert set(await people(company)) == {"1001", "1002", "1003", "1004"}
    audit = await audit_count(company)
    again = await upload(client, company.token(), "花名册.csv", data, dry_run=False)
    assert again["applied"] is False
    assert again["totalChanges"] == 0
    assert await audit_count(company) == audit

    # a moved person and a leaver, deactivated on request
    moved = await upload(
        client, company.token(), "b.csv", SECOND.encode("gbk"), dry_run=False, leavers=True
    )
    assert moved["counts"]["peopleMoved"] == 1
    assert moved["counts"]["deactivated"] == 1
    kinds = {c["subject"]: c["kind"] for c in moved["changes"]}
    assert kinds["1003 王芳"] == "person.move"
    assert kinds["1004 赵磊 (华东区/一号店)"] == "person.deactivate"
    assert not (await people(company))["1004"].active


async def test_import_roster_lists_problems_and_refuses_employees(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    bad = HEADER + "1001,张伟,,华北大区,7777,,,\n1001,李娜,,华北大区,,bad-mail,,\n"
    body = await upload(client, company.token(), "bad.csv", bad.encode("utf-8"), dry_run=False)
    assert body["applied"] is False
    assert body["problems"] == [
        {
            "line": 2,
            "code": "NOT_FOUND",
            "message": "unknown manager '7777': neither in the file nor an active person "
            "of the company",
        },
        {
            "line": 3,
            "code": "CONFLICT",
            "message": "employee number '1001' appears twice (first on line 2)",
        },
        {"line": 3, "code": "INVALID", "message": "'bad-mail' is not an email address"},
    ]
    assert body["errors"][0]["code"] == "INVALID"
    assert await people(company) == {}

    # a file that is not a roster is one error naming the missing columns
    wrong = await upload(client, company.token(), "x.csv", b"a,b\n1,2\n")
    assert wrong["errors"][0]["field"] == "file"
    assert "missing column(s)" in wrong["errors"][0]["message"]

    # only admins and consultants import rosters
    refused = await upload(client, company.token("employee"), "r.csv", FIRST.encode("gbk"))
    assert refused["errors"][0]["code"] == "FORBIDDEN"
    assert refused["counts"] is None


# -------------------------------------------------------------------------- engine


def rows_for(count: int, stores: int = 10) -> list[RosterRow]:
    """A deterministic roster: a region head, store managers, staff under them."""
    rows = [RosterRow(2, "E0", "总监", department=("华北大区",), role="manager")]
    for s in range(stores):
        rows.append(
            RosterRow(
                len(rows) + 2,
                f"S{s}",
                f"店长{s}",
                department=("华北大区", f"{s}号店"),
                manager_no="E0",
                role="manager",
            )
        )
    while len(rows) < count:
        s = len(rows) % stores
        rows.append(
            RosterRow(
                len(rows) + 2,
                f"P{len(rows)}",
                f"店员{len(rows)}",
                department=("华北大区", f"{s}号店", "收银组"),
                manager_no=f"S{s}",
                email=f"p{len(rows)}@acme.example",
            )
        )
    return rows


async def test_statement_count_does_not_grow_with_the_roster(client: httpx.AsyncClient) -> None:
    # given two tenants and rosters of 50 and 500 people over the same org shape
    counts = []
    for slug, size in (("small", 50), ("large", 500)):
        company = await make_company(slug)
        with count_statements() as statements:
            plan = await plan_roster(company.scope, rows_for(size))
            await apply_roster(company.scope, plan)
        assert plan.counts()["people_added"] == size
        counts.append(len(statements))
        assert await Person.filter(tenant_id=company.tenant.id).count() == size + 4
    # then the same statements wrote both (CHUNK is 500: one batch each)
    assert counts[0] == counts[1]
    # and 1,200 people cost only one more batch of each write
    company = await make_company("huge")
    with count_statements() as statements:
        await apply_roster(company.scope, await plan_roster(company.scope, rows_for(1200)))
    assert counts[1] < len(statements) <= counts[1] + 2 * 6


async def test_units_with_directory_ids_are_renamed_and_moved_with_their_subtree(
    client: httpx.AsyncClient,
) -> None:
    # given a directory's departments, imported once with their ids
    company = await make_company("acme")
    units = [
        RosterUnit(("华北大区",), external_id="d-1"),
        RosterUnit(("华北大区", "石家庄分公司"), external_id="d-2", name_en="Shijiazhuang"),
        RosterUnit(("华北大区", "石家庄分公司", "长安店"), external_id="d-3"),
    ]
    staff = [RosterRow(2, "1001", "张伟", department=("华北大区", "石家庄分公司", "长安店"))]
    await apply_roster(company.scope, await plan_roster(company.scope, staff, units))
    branch = await OrgUnit.get(tenant_id=company.tenant.id, external_id="d-2")
    store = await OrgUnit.get(tenant_id=company.tenant.id, external_id="d-3")
    assert store.path == f"{branch.path}{store.id}/"
    assert branch.name_en == "Shijiazhuang"
    kpi = await kpis.create_kpi(
        company.scope, metric_code="sales", title="门店销售额", target=1, threshold=1,
        owner_unit_id=store.id,
    )  # fmt: skip
    alert = await Alert.create(
        tenant_id=company.tenant.id, kpi_id=kpi.id, owner_unit_id=store.id,
        owner_path=store.path, misses=3,
    )  # fmt: skip

    # when the directory moves the branch under 华东区 and renames it
    moved_units = [
        RosterUnit(("华东区",)),
        RosterUnit(("华东区", "石家庄办事处"), external_id="d-2"),
        RosterUnit(("华东区", "石家庄办事处", "长安店"), external_id="d-3"),
    ]
    moved_staff = [RosterRow(2, "1001", "张伟", department=("华东区", "石家庄办事处", "长安店"))]
    plan = await plan_roster(company.scope, moved_staff, moved_units)

    # then the plan renames and moves the unit (matched by its id), nothing else
    assert plan.ok
    assert not plan.units_added
    assert [(c.kind, c.subject) for c in plan.units_changed] == [
        ("unit.update", "华北大区/石家庄分公司 → 华东区/石家庄办事处")
    ]
    assert not plan.people_moved
    assert not plan.people_changed
    await apply_roster(company.scope, plan)

    # and the subtree's paths and depths, and its alerts, follow
    branch = await OrgUnit.get(id=branch.id)
    store = await OrgUnit.get(id=store.id)
    assert (branch.name, branch.parent_id) == ("石家庄办事处", company.region.id)
    assert branch.path == f"{company.region.path}{branch.id}/"
    assert (store.path, store.depth) == (f"{branch.path}{store.id}/", 3)
    assert (await Alert.get(id=alert.id)).owner_path == store.path
    event = await AuditEvent.get(action="org_unit.moved", entity_id=branch.id)
    assert event.after is not None
    assert event.after["path"] == branch.path
    # and importing the same again changes nothing
    assert (await plan_roster(company.scope, moved_staff, moved_units)).empty


async def test_people_found_by_directory_id_and_rehired_people(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    first = [RosterRow(2, "1001", "张伟", external_id="u-1"), RosterRow(3, "1002", "李娜")]
    await apply_roster(company.scope, await plan_roster(company.scope, first))
    staff = await people(company)
    # a new employee number for the same directory user is the same person
    renumbered = [RosterRow(2, "A-1001", "张伟", external_id="u-1")]
    plan = await plan_roster(company.scope, renumbered, deactivate_missing=True)
    assert [c.subject for c in plan.people_changed] == ["A-1001 张伟"]
    assert plan.people_changed[0].fields[0].as_dict() == {
        "field": "code",
        "before": "1001",
        "after": "A-1001",
    }
    await apply_roster(company.scope, plan)
    assert (await Person.get(id=staff["1001"].id)).code == "A-1001"
    assert not (await Person.get(id=staff["1002"].id)).active
    # a leaver back in the roster is reactivated
    back = [*renumbered, RosterRow(3, "1002", "李娜")]
    plan = await plan_roster(company.scope, back)
    assert [(c.kind, c.fields[-1].field) for c in plan.people_changed] == [
        ("person.update", "active")
    ]
    await apply_roster(company.scope, plan)
    again = await Person.get(id=staff["1002"].id)
    assert again.active
    assert again.deactivated_at is None


async def test_apply_refuses_a_plan_with_problems_and_non_admins(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    plan = await plan_roster(company.scope, [RosterRow(7, "", "无名")])
    with pytest.raises(DomainError) as caught:
        await apply_roster(company.scope, plan)
    assert [(p.code, p.text()) for p in caught.value.problems] == [
        (ErrorCode.REQUIRED, "line 7: the employee number (工号) is missing")
    ]
    employee = scope_for(company.tenant, company.employee, company.store)
    with pytest.raises(DomainError) as refused:
        await plan_roster(employee, [RosterRow(2, "1", "甲")])
    assert refused.value.code is ErrorCode.FORBIDDEN
    summary = plan.summary()
    assert json.loads(json.dumps(summary, ensure_ascii=False)) == summary
    assert summary["problems"] == [
        {"line": 7, "code": "REQUIRED", "message": "the employee number (工号) is missing"}
    ]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("石家庄长安店", OrgUnitKind.STORE),
        ("徐汇门店", OrgUnitKind.STORE),
        ("华北大区", OrgUnitKind.REGION),
        ("华东区", OrgUnitKind.REGION),
        ("收银组", OrgUnitKind.TEAM),
        ("早班", OrgUnitKind.TEAM),
        ("财务部", OrgUnitKind.DEPARTMENT),
        ("East Region", OrgUnitKind.REGION),
        ("Platform Team", OrgUnitKind.TEAM),
    ],
)
def test_a_new_units_kind_comes_from_its_name(name: str, kind: OrgUnitKind) -> None:
    assert unit_kind(name) is kind


def test_the_onboarding_pages_graphql_examples_match_the_schema() -> None:
    from graphql import parse, validate

    from goalgraph.schema import build_schema

    page = Path(__file__).resolve().parent.parent / "docs" / "onboarding.md"
    documents = re.findall(r"```graphql\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    assert any("importRoster" in d for d in documents)
    for document in documents:
        assert not validate(build_schema()._schema, parse(document)), document


async def test_a_directory_roster_without_employee_numbers(client: httpx.AsyncClient) -> None:
    # given a directory's users: ids, no employee numbers, managers named by their ids
    company = await make_company("acme")
    units = [RosterUnit(("华北大区",), external_id="d-1")]
    first = [
        RosterRow(1, "", "张伟", department=("华北大区",), role="manager", external_id="u-1"),
        RosterRow(2, "", "李娜", department=("华北大区",), manager_no="u-1", external_id="u-2"),
        RosterRow(3, "", "王芳", department=("华北大区",), manager_no="u-2", external_id="u-3"),
    ]
    plan = await plan_roster(company.scope, first, units, missing_scope="external_id")
    assert plan.ok, plan.problems
    await apply_roster(company.scope, plan)
    # a plan is written once: applying it again writes nothing more
    audit = await audit_count(company)
    await apply_roster(company.scope, plan)
    assert await audit_count(company) == audit
    synced = {
        p.external_id: p
        for p in await Person.filter(tenant_id=company.tenant.id, external_id__not_isnull=True)
    }
    assert synced["u-2"].manager_id == synced["u-1"].id
    assert synced["u-3"].manager_id == synced["u-2"].id
    assert synced["u-1"].code is None

    # when 王芳 leaves the directory: only the directory's people count as missing
    plan = await plan_roster(
        company.scope, first[:2], units, deactivate_missing=True, missing_scope="external_id"
    )
    assert [c.subject for c in plan.missing] == ["王芳 (华北大区)"]
    await apply_roster(company.scope, plan)
    assert not (await Person.get(id=synced["u-3"].id)).active
    assert (await Person.get(id=company.employee.id)).active
    assert (await plan_roster(company.scope, first[:2], units, missing_scope="external_id")).empty
