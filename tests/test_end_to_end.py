"""The README's path, for real: seed the demo, mint a token, serve over TCP, query,
and open GraphiQL in a real headless browser with no network but localhost."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from .cli import cli

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(db: Path, secret: str) -> Iterator[tuple[str, str]]:
    """`goalgraph serve` on ``db`` on a free port; yields (base url, admin token)."""
    env = {**os.environ, "GOALGRAPH_DATABASE_URL": f"sqlite://{db}", "GOALGRAPH_SECRET": secret}
    token = (
        cli(
            db,
            secret,
            "token",
            "--tenant",
            "freshmart",
            "--role",
            "admin",
            "--person",
            "admin@freshmart.example",
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    port = _free_port()
    # the log goes to a file: a pipe read only at the end fills up and stalls the server
    log = db.with_name(f"{db.stem}-serve.log")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "goalgraph.core.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a loaded 2-core machine starts slowly
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait(timeout=10)
                raise RuntimeError(
                    f"server did not start: {log.read_text(errors='replace')[-4000:]}"
                )
            time.sleep(0.2)
        yield base, token
    finally:
        process.terminate()
        process.wait(timeout=10)
        # the server's log, into the session's captured log (no secret may be in it)
        logging.getLogger("tests.serve").info(
            "goalgraph serve stderr:\n%s", log.read_text(errors="replace")
        )


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
