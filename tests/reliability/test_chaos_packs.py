"""Chaos packs in figures: faulty industry packs never take the server down.

A real ``goalgraph serve`` process starts with every pack of ``chaos_packs`` installed
beside the built-in ones (their entry points on ``PYTHONPATH``). Packs that fail at
load must be reported unhealthy with their fault while the server starts; packs that
fail at request time are enabled, given a KPI from their template and a value that
reaches their fault: the request must answer without a 5xx, and the pack must turn
unhealthy. Meanwhile the built-in packs keep serving templates and policies.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from goalgraph.core.enums import Direction
from goalgraph.core.scoring.policies import CORE_POLICIES, DEFAULT_POLICY
from goalgraph.plugins import PackManager, hookimpl

from ..cli import cli
from . import chaos_packs
from .conftest import Record

SECTION = "chaos packs"
SECRET = "chaos-secret-0123456789abcdef0123456789"
REPO = Path(__file__).resolve().parents[2]
BUILT_IN = ("internet", "manufacturing", "retail")
PACKS = """{ packs { name status health { status error { code message at } } } }"""
STORE = """{ orgUnits(kind: STORE, first: 1) { edges { node { id } } } }"""
ENABLE = """mutation($name: String!, $stages: [String!]!) {
  enablePack(name: $name, stages: $stages) { pack { name active } errors { code message } } }"""
KPI = """mutation($pack: String!, $code: String!, $unit: ID!) {
  createKpiFromTemplate(input: {pack: $pack, code: $code, ownerUnitId: $unit}) {
    kpi { id } errors { code message } } }"""
RECORD = """mutation($kpi: ID!, $period: Date!, $value: Float!) {
  recordMeasurements(entries: [{kpiId: $kpi, period: $period, value: $value}]) {
    measurements { id } errors { code message } } }"""
SCORE = """query($id: ID!) { node(id: $id) { ... on Kpi { id score scoringPolicy } } }"""
SERVING = """{ kpiTemplates(pack: "retail") { code } scoringPolicies { name pack } }"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(packs_dir: Path, db_url: str) -> dict[str, str]:
    """A goalgraph process's environment with the chaos packs installed."""
    path = os.pathsep.join([str(packs_dir), str(REPO), os.environ.get("PYTHONPATH", "")])
    return {
        **os.environ,
        "PYTHONPATH": path.rstrip(os.pathsep),
        "GOALGRAPH_DATABASE_URL": db_url,
        "GOALGRAPH_SECRET": SECRET,
    }


@dataclass
class Api:
    """The admin's GraphQL calls to the live server, counting every 5xx answer."""

    base: str
    token: str
    server_errors: int = 0
    answers: list[int] = field(default_factory=list)

    def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        response = httpx.post(
            f"{self.base}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        self.answers.append(response.status_code)
        if response.status_code >= 500:
            self.server_errors += 1
            return {}
        payload: dict[str, Any] = response.json()
        assert not payload.get("errors"), payload
        return dict(payload["data"])


@contextmanager
def serving(env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``goalgraph serve`` on a free port, once its /health answers."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "goalgraph.core.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # the hanging pack holds start-up for its time limit
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                # a server still starting holds its stderr open: stop it before reading
                process.kill()
                _, stderr_bytes = process.communicate(timeout=10)
                raise RuntimeError(f"server did not start: {stderr_bytes.decode()[-4000:]}")
            time.sleep(0.2)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def packs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with the chaos packs installed, for a process's ``PYTHONPATH``."""
    root = tmp_path_factory.mktemp("chaos-packs")
    chaos_packs.install(root)
    return root


@pytest.fixture
def chaos(db_url: str, packs_dir: Path) -> dict[str, str]:
    """The demo seeded into ``db_url``, and an environment with the chaos packs."""
    cli(db_url, SECRET, "demo")
    return _env(packs_dir, db_url)


def _token(db_url: str) -> str:
    person = ("--person", "admin@freshmart.example")
    out = cli(db_url, SECRET, "token", "--tenant", "freshmart", "--role", "admin", *person)
    return out.stdout.strip().splitlines()[-1]


def _health(api: Api) -> dict[str, dict[str, Any]]:
    return {p["name"]: p["health"] for p in api(PACKS).get("packs", [])}


def _reach_fault(api: Api, pack: str, template: str, value: float, unit: str) -> dict[str, Any]:
    """Enable ``pack``, make a KPI from its template, record ``value``, read the score:
    every step must answer (the fault is met on the way)."""
    enabled = api(ENABLE, name=pack, stages=["growth"])["enablePack"]
    assert enabled["errors"] == [], enabled
    made = api(KPI, pack=pack, code=template, unit=unit)["createKpiFromTemplate"]
    assert made["errors"] == [], made
    kpi = made["kpi"]["id"]
    recorded = api(RECORD, kpi=kpi, period=date.today().isoformat(), value=value)
    assert recorded["recordMeasurements"]["errors"] == [], recorded
    return dict(api(SCORE, id=kpi)["node"])


def test_faulty_packs_never_take_the_server_down(chaos: dict[str, str], figures: Record) -> None:
    faulty = {**chaos_packs.LOAD_FAULTS, **chaos_packs.REQUEST_FAULTS}
    with serving(chaos) as (base, process):
        api = Api(base, _token(chaos["GOALGRAPH_DATABASE_URL"]))
        at_start = _health(api)
        for name, code in chaos_packs.LOAD_FAULTS.items():
            assert at_start[name]["status"] == "UNHEALTHY", (name, at_start[name])
            assert at_start[name]["error"]["code"] == code, (name, at_start[name])
        store = api(STORE)["orgUnits"]["edges"][0]["node"]["id"]
        scores = {
            name: _reach_fault(api, name, template, value, store)
            for name, (template, value, _) in chaos_packs.REQUEST_FAULTS.items()
        }
        after = _health(api)
        serving_now = api(SERVING)
        crashes = 0 if process.poll() is None else 1
        alive = httpx.get(f"{base}/health", timeout=5).status_code == 200

    unhealthy = [n for n in faulty if after[n]["status"] == "UNHEALTHY"]
    healthy_serving = [n for n in BUILT_IN if after[n]["status"] == "HEALTHY"]
    retail_policies = [p for p in serving_now["scoringPolicies"] if p["pack"] == "retail"]
    figures(SECTION, "faulty packs loaded", len(faulty))
    figures(SECTION, "server crashes", crashes, must_be_zero=True)
    figures(SECTION, "5xx answers", api.server_errors, must_be_zero=True)
    figures(SECTION, "faulty packs reported unhealthy", len(unhealthy))
    figures(SECTION, "healthy packs still serving", len(healthy_serving))

    assert crashes == 0
    assert alive
    assert api.server_errors == 0
    for name, (_, _, code) in chaos_packs.REQUEST_FAULTS.items():
        assert after[name]["error"]["code"] == code, (name, after[name])
        assert scores[name]["score"] is not None, (name, scores[name])
    assert sorted(unhealthy) == sorted(faulty)
    assert healthy_serving == list(BUILT_IN)
    assert serving_now["kpiTemplates"]
    assert retail_policies
    assert not {p["pack"] for p in serving_now["scoringPolicies"]} & set(faulty)


def test_packs_list_shows_each_faulty_pack_unhealthy(packs_dir: Path) -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "goalgraph.core.cli", "packs", "list", "--strict"],
        capture_output=True,
        text=True,
        env=_env(packs_dir, "sqlite://:memory:"),
        timeout=120,
        check=False,
    )
    assert listed.returncode == 1, listed.stderr
    lines = listed.stdout.splitlines()
    for name, code in chaos_packs.LOAD_FAULTS.items():
        row = next(line for line in lines if line.startswith(("│ " + name + " ", "| " + name)))
        assert "unhealthy" in row, row
        error = next(line for line in lines if line.startswith(f"{name}: "))
        assert error.endswith(f"(PACK_{code})"), error
    for name in (*BUILT_IN, *chaos_packs.REQUEST_FAULTS):
        row = next(line for line in lines if f" {name} " in line)
        assert "healthy" in row, row
        assert "unhealthy" not in row, row


def test_one_failing_pack_keeps_the_others_answers() -> None:
    """In one process: a pack whose courses hook raises is left out of the answer and
    marked unhealthy; retail's courses for the same KPI are still given."""
    manager = PackManager.discover(extra=[("chaos_courses_raise", chaos_packs.courses_raise)])
    assert manager.packs["chaos_courses_raise"].ok
    answers = manager.call_each(
        "goalgraph_training_recommendations",
        ["retail", "chaos_courses_raise"],
        kpi_code=chaos_packs.RETAIL_KPI_WITH_COURSES,
        misses=3,
    )
    broken = manager.packs["chaos_courses_raise"]
    assert [pack for pack, _ in answers] == ["retail"]
    assert answers[0][1]
    assert not broken.ok
    assert broken.health_error is not None
    assert broken.health_error.code == "PACK_HOOK_RAISED"


def test_a_failing_policy_scores_with_the_default_and_says_so() -> None:
    """The request-time fallback of a pack policy, as the engine calls it: the score is
    linear's, the formula names the failure, and the pack is marked unhealthy once."""
    name = "chaos_score_raises"
    manager = PackManager.discover(extra=[(name, chaos_packs.score_raises)])
    policy = manager.scoring_policy("chaos_score.explodes", [name])
    assert policy is not None
    fine = policy.explain(5.0, 10.0, 8.0, Direction.HIGHER_IS_BETTER)
    failed = policy.explain(500.0, 10.0, 8.0, Direction.HIGHER_IS_BETTER)
    assert (fine.score, fine.policy) == (0.5, "chaos_score.explodes")
    assert failed.score == CORE_POLICIES[DEFAULT_POLICY].score(
        500.0, 10.0, 8.0, Direction.HIGHER_IS_BETTER
    )
    assert "ZeroDivisionError" in failed.formula
    assert f"scored with {DEFAULT_POLICY!r}" in failed.formula
    assert not manager.packs[name].ok
    assert manager.scoring_policy("chaos_score.explodes", [name]) is None


class _AsyncInfo:
    @hookimpl
    async def goalgraph_pack_info(self) -> None:
        """An ``async def`` hook: it would answer a coroutine, never a pack info."""


def test_an_async_hook_is_refused_without_a_dangling_coroutine() -> None:
    manager = PackManager.discover(extra=[("chaos_async", _AsyncInfo())])
    pack = manager.packs["chaos_async"]
    assert not pack.ok
    assert pack.health_error is not None
    assert pack.health_error.code == "PACK_INVALID_CONTENT"
    assert "is async" in pack.health_error.message
