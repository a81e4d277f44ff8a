"""The README's path, for real: seed the demo, mint a token, serve over TCP, query,
and open GraphiQL in a real headless browser with no network but localhost."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from goalgraph.core.settings import Settings

from .cli import admin_token, cli
from .reliability.server import serving

SECRET = "end-to-end-secret-with-enough-length-42"

TREE = """
fragment Node on GoalNode {
  id kind title titleEn progress
  owner { __typename ... on OrgUnit { name nameEn } ... on Person { name } }
  ... on Kpi { metricCode currentValue recentMeasurements(days: 90) { periodStart value } }
}
{ goalTree { ...Node children { ...Node children { ...Node children { ...Node
  children { ...Node } } } } } }
"""


@contextmanager
def live_server(db: Path, secret: str) -> Iterator[tuple[str, str]]:
    """`goalgraph serve` on ``db`` on a free port; yields (base url, admin token)."""
    token = admin_token(db, secret)
    log = db.with_name(f"{db.stem}-serve.log")
    # as `make demo` serves: the scheduler runs (the test servers' default turns it off)
    poll = str(Settings.model_fields["sync_poll_seconds"].default)
    env = {"GOALGRAPH_SECRET": secret, "GOALGRAPH_SYNC_POLL_SECONDS": poll}
    # a loaded 2-core machine starts slowly
    with serving(f"sqlite://{db}", log, env=env, start_seconds=90) as base:
        yield base, token


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A live server on freshly seeded demo data."""
    db = tmp_path_factory.mktemp("e2e") / "demo.sqlite3"
    cli(db, SECRET, "demo")
    with live_server(db, SECRET) as running:
        yield running


def _chains(node: dict, prefix: tuple[str, ...] = ()) -> list[tuple[dict, ...]]:
    path = (*prefix, node)
    children = node.get("children") or []
    if not children:
        return [path]
    return [c for child in children for c in _chains(child, path)]


def test_demo_tree_is_four_levels_deep_with_measurements(server: tuple[str, str]) -> None:
    base, token = server
    response = httpx.post(
        f"{base}/graphql",
        json={"query": TREE},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    body = response.json()
    assert "errors" not in body, body
    chains = [c for root in body["data"]["goalTree"] for c in _chains(root)]
    full = [
        c
        for c in chains
        if [n["kind"] for n in c] == ["OBJECTIVE", "OBJECTIVE", "KEY_RESULT", "KPI"]
    ]
    assert full, "no company objective → region objective → store key result → KPI chain"
    company, region, key_result, kpi = full[0]
    assert company["title"] == "年度营收增长20%"
    assert company["owner"]["__typename"] == "OrgUnit"
    assert region["owner"]["nameEn"] != company["owner"]["nameEn"]
    assert key_result["owner"]["__typename"] == "OrgUnit"
    assert kpi["metricCode"]
    with_values = [c[-1] for c in full if len(c[-1]["recentMeasurements"]) >= 60]
    assert with_values, "KPIs in the tree should carry ~90 days of measurements"
    assert all(isinstance(k["currentValue"], float) for k in with_values)
    assert 0.0 <= company["progress"] <= 1.0


def test_graphiql_renders_in_a_real_browser_without_cdn(server: tuple[str, str]) -> None:
    base, _ = server
    page = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"}, timeout=10).text
    for cdn in ("unpkg.com", "jsdelivr", "esm.sh", "cdnjs"):
        assert cdn not in page
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "chromium is required for this test (.ci/run installs it)"
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                # no network but this machine: any other host fails to resolve
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=10000",
                "--dump-dom",
                f"{base}/graphql",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    # "Loading..." is replaced by the rendered editors only if every script loaded
    assert "graphiql-editor" in result.stdout, result.stderr[-2000:]
    assert "graphiql-query-editor" in result.stdout
    assert "Loading..." not in result.stdout
