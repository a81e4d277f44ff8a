"""The ``goalgraph`` command as a user runs it: a real process on a real database file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import jwt
import pytest

from .cli import cli

SECRET = "cli-test-secret-with-enough-length-0123"


def run(db: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return cli(db, SECRET, *args, check=check)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cli") / "demo.sqlite3"
    run(db, "demo")
    return db


def test_migrate_is_repeatable(tmp_path: Path) -> None:
    db = tmp_path / "fresh.sqlite3"
    first = run(db, "migrate")
    second = run(db, "migrate")
    assert "up to date" in first.stderr
    assert "up to date" in second.stderr
    assert db.exists()


def test_demo_twice_creates_the_tenant_once(demo_db: Path) -> None:
    again = run(demo_db, "demo")
    assert again.stdout.strip().splitlines()[-1] == "freshmart"
    assert "already present" in again.stderr


def test_token_is_alone_on_the_last_line_and_signed(demo_db: Path) -> None:
    result = run(demo_db, "token", "--tenant", "freshmart", "--role", "admin")
    token = result.stdout.strip().splitlines()[-1]
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], issuer="goalgraph")
    assert claims["tenant"] == "freshmart"
    assert claims["role"] == "admin"
    assert "sub" not in claims


def test_token_for_a_person_by_email(demo_db: Path) -> None:
    result = run(
        demo_db,
        "token",
        "--tenant",
        "freshmart",
        "--role",
        "admin",
        "--person",
        "admin@freshmart.example",
    )
    claims = jwt.decode(
        result.stdout.strip().splitlines()[-1], SECRET, algorithms=["HS256"], issuer="goalgraph"
    )
    assert int(claims["sub"]) > 0


def test_unknown_tenant_and_role_are_clear_errors(demo_db: Path) -> None:
    unknown = run(demo_db, "token", "--tenant", "nope", "--role", "admin", check=False)
    assert unknown.returncode == 2
    assert "no tenant with slug 'nope'" in unknown.stderr
    assert unknown.stdout == ""
    bad_role = run(demo_db, "token", "--tenant", "freshmart", "--role", "boss", check=False)
    assert bad_role.returncode == 2
    assert "boss" in bad_role.stderr
    nobody = run(
        demo_db,
        "token",
        "--tenant",
        "freshmart",
        "--role",
        "admin",
        "--person",
        "ghost@nowhere",
        check=False,
    )
    assert nobody.returncode == 2
    assert "no person 'ghost@nowhere'" in nobody.stderr


def test_import_a_gbk_csv_for_one_kpi_reports_bad_lines(demo_db: Path, tmp_path: Path) -> None:
    import sqlite3

    with sqlite3.connect(demo_db) as db:
        (kpi_id,) = db.execute(
            "SELECT kpi.id FROM kpi JOIN org_unit ON org_unit.id = kpi.owner_unit_id "
            "WHERE org_unit.code = 'hz-xihu' AND kpi.metric_code = 'store_daily_foot_traffic'"
        ).fetchone()
    export = tmp_path / "客流.csv"
    export.write_bytes(
        '日期,客流量\n2026-12-01,1310\n2026/12/02,"1,402"\n12月3日,900\n'.encode("gbk")
    )
    result = run(
        demo_db,
        "import",
        str(export),
        "--kpi",
        str(kpi_id),
        "--period-column",
        "日期",
        "--value-column",
        "客流量",
    )
    assert "written 2, rejected 1" in result.stderr
    assert "line 4" in result.stderr
    with sqlite3.connect(demo_db) as db:
        rows = db.execute(
            # the demo seeds up to the day it runs: read back only the file's two days
            "SELECT period_start, value FROM measurement WHERE kpi_id = ? "
            "AND period_start IN ('2026-12-01', '2026-12-02') ORDER BY period_start",
            (kpi_id,),
        ).fetchall()
        (binding_id,) = db.execute(
            "SELECT id FROM data_binding WHERE kpi_id = ?", (kpi_id,)
        ).fetchone()
    assert rows == [("2026-12-01", 1310.0), ("2026-12-02", 1402.0)]
    # the binding made for the KPI is kept: the next import needs no options
    again = run(demo_db, "import", str(export), "--binding", str(binding_id))
    assert "written 2, rejected 1" in again.stderr


def test_import_refuses_a_file_without_the_columns(demo_db: Path, tmp_path: Path) -> None:
    export = tmp_path / "wrong.csv"
    export.write_text("day,visitors\n2026-12-01,1\n", encoding="utf-8")
    result = run(demo_db, "import", str(export), "--kpi", "1", check=False)
    assert result.returncode == 2
    assert "missing column(s) 'period'" in result.stderr


def test_report_cross_writes_csv(demo_db: Path) -> None:
    import csv
    import io

    result = run(demo_db, "report", "cross", "--tenant", "textile")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    by_unit = {r["unit"]: r for r in rows}
    assert "计件工资达成率 → 客户投诉率" in by_unit["一车间"]["disconnects"]
    assert by_unit["质量部"]["kpi_score"] != ""
    missing = run(demo_db, "report", "cross", "--tenant", "nobody", check=False)
    assert missing.returncode == 2
    assert "no tenant with slug 'nobody'" in missing.stderr
