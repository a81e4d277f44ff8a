"""``goalgraph packs`` as consultants use it, and a third-party pack end to end:
scaffolded outside the repository, installed with pip, listed, enabled, applied."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .cli import cli
from .test_end_to_end import live_server

SECRET = "packs-cli-secret-with-enough-length-0001"


def run(db: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return cli(db, SECRET, *args, check=check)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("packs") / "demo.sqlite3"
    run(db, "demo")
    return db


def test_list_shows_the_built_in_packs_with_counts(demo_db: Path) -> None:
    lines = run(demo_db, "packs", "list").stdout.splitlines()
    rows = {line.split("│")[1].strip(): line for line in lines if line.startswith("│")}
    for name, kpis, okrs in (("retail", 10, 4), ("manufacturing", 9, 3), ("internet", 9, 3)):
        cells = [c.strip() for c in rows[name].split("│")]
        assert cells[4] == "loaded"
        assert (int(cells[5]), int(cells[6])) == (kpis, okrs)


def test_show_lists_templates_stages_adapters_and_policies(demo_db: Path) -> None:
    shown = run(demo_db, "packs", "show", "retail").stdout
    for expected in (
        "customer_wait_time",
        "顾客等待时间",
        "新品推广期",
        "retail.pos",
        "retail.new_product_bonus",
        "optimise_customer_experience",
    ):
        assert expected in shown
    missing = run(demo_db, "packs", "show", "bakery", check=False)
    assert missing.returncode == 2
    assert "no pack named 'bakery'" in missing.stderr


def test_enable_and_disable_from_the_command_line(demo_db: Path) -> None:
    enabled = run(
        demo_db,
        "packs",
        "enable",
        "manufacturing",
        "--tenant",
        "freshmart",
        "--stages",
        "growth,capacity_ramp_up",
    )
    assert "manufacturing enabled for freshmart" in enabled.stderr
    listed = run(demo_db, "packs", "enabled", "--tenant", "freshmart").stdout
    assert "growth, capacity_ramp_up" in listed
    bad = run(
        demo_db,
        "packs",
        "enable",
        "manufacturing",
        "--tenant",
        "freshmart",
        "--stages",
        "golden_age",
        check=False,
    )
    assert bad.returncode == 2
    assert "unknown lifecycle stage 'golden_age'" in bad.stderr
    run(demo_db, "packs", "disable", "manufacturing", "--tenant", "freshmart")
    assert "manufacturing" not in run(demo_db, "packs", "enabled", "--tenant", "freshmart").stdout
    nobody = run(demo_db, "packs", "disable", "retail", "--tenant", "nope", check=False)
    assert nobody.returncode == 2
    assert "no tenant with slug 'nope'" in nobody.stderr


@pytest.fixture
def installed_bakery(tmp_path: Path, demo_db: Path) -> Iterator[Path]:
    """A pack scaffolded outside the repository and pip-installed; uninstalled after."""
    target = tmp_path / "elsewhere" / "goalgraph-pack-bakery"
    created = run(
        demo_db,
        "packs",
        "new",
        "bakery",
        "--directory",
        str(target),
        "--title-zh",
        "烘焙连锁",
        "--title-en",
        "Bakery chains",
    )
    assert created.stdout.strip().splitlines()[-1] == str(target)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "-e", str(target)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    try:
        yield target
    finally:
        subprocess.run(
            [sys.executable, "-m", "pip", "uninstall", "-q", "-y", "goalgraph-pack-bakery"],
            check=False,
            capture_output=True,
            timeout=300,
        )


def test_a_scaffolded_pack_installs_and_serves(installed_bakery: Path, demo_db: Path) -> None:
    # its own test passes with the conformance kit
    own = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=installed_bakery,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert own.returncode == 0, own.stdout + own.stderr
    assert "1 passed" in own.stdout
    # it is listed
    assert "Bakery chains" in run(demo_db, "packs", "list").stdout
    # and served: visible in `packs`, its templates only after enablePack
    with live_server(demo_db, SECRET) as (base, token):

        def gql(query: str) -> dict:
            response = httpx.post(
                f"{base}/graphql",
                json={"query": query},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            return response.json()["data"]

        packs = {p["name"]: p for p in gql("{ packs { name status active } }")["packs"]}
        assert packs["bakery"] == {"name": "bakery", "status": "LOADED", "active": False}
        templates = '{ kpiTemplates(pack: "bakery") { code } }'
        assert gql(templates)["kpiTemplates"] == []
        enabled = gql(
            'mutation { enablePack(name: "bakery", stages: ["growth"]) '
            "{ pack { active } errors { code } } }"
        )
        assert enabled["enablePack"] == {"pack": {"active": True}, "errors": []}
        assert gql(templates)["kpiTemplates"] == [{"code": "daily_orders"}]


BROKEN_MODULES = {
    "raising_pack": """
from goalgraph.plugins import Label, PackInfo, hookimpl

@hookimpl
def goalgraph_pack_info():
    return PackInfo(name="raising", version="0.1", title=Label(zh="坏", en="Bad"),
                    industries=("test",))

@hookimpl
def goalgraph_kpi_templates():
    raise RuntimeError("template service unavailable")
""",
    "invalid_pack": """
from goalgraph.plugins import Label, PackInfo, hookimpl

@hookimpl
def goalgraph_pack_info():
    return PackInfo(name="invalid", version="0.1", title=Label(zh="坏", en="Bad"),
                    industries=("test",))

@hookimpl
def goalgraph_kpi_templates():
    return [{"code": "wait", "name": {"zh": "等待", "en": "Wait"}, "unit": "minutes",
             "default_target": 3, "default_threshold": 4, "level": "store"}]
""",
}


def test_broken_packs_are_listed_with_their_errors(tmp_path: Path, demo_db: Path) -> None:
    # three broken packs installed beside the good ones: an import error, a raising
    # hook and an invalid template
    dist = tmp_path / "broken_packs-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-packs\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[goalgraph.packs]\nmissing = no_such_pack_module\n"
        "raising = raising_pack\ninvalid = invalid_pack\n"
    )
    for module, source in BROKEN_MODULES.items():
        (tmp_path / f"{module}.py").write_text(source)
    path = {"PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    result = cli(demo_db, SECRET, "packs", "list", env=path)
    rows = {
        line.split("│")[1].strip(): line
        for line in result.stdout.splitlines()
        if line.startswith("│")
    }
    errors = dict(
        line.split(": ", 1)
        for line in result.stdout.splitlines()
        if ": " in line and not line.startswith(("│", "┃"))
    )
    for name in ("missing", "raising", "invalid"):
        assert "failed" in rows[name]
    assert errors["missing"].startswith("import failed: ModuleNotFoundError")
    assert "template service unavailable" in errors["raising"]
    assert "unknown unit 'minutes'" in errors["invalid"]
    assert "loaded" in rows["retail"]
    assert "pack raising left out" in result.stderr  # the log line
    strict = cli(demo_db, SECRET, "packs", "list", "--strict", env=path, check=False)
    assert strict.returncode == 1
