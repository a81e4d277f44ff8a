"""The benchmark harness on a one-department tenant: every workload runs, and every
answer-equality check it makes holds (the API's answers equal the floors', ingested
values are the rows sent, stored scores are current). A floor or harness that drifts
from the API fails here, in CI, instead of in the next `make bench`. No timing is
asserted: speed goals are reported by `make bench`, never tested.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import floor, seed, workloads
from bench.seed import Target
from bench.workloads import Options, WrongAnswer

TINY = Options(
    repeat={"tiny": 1},
    duration=0.5,
    ingest_rows=300,
    ingest_budget=3.0,
    batches=(100,),
    switches=2,
    memory_clients=2,
)


async def seeded(db_url: str, request: pytest.FixtureRequest) -> Target:
    """The tiny tenant seeded into the test's empty database (as its owner on
    PostgreSQL; the app and the floors connect as the test's app role)."""
    if db_url.startswith("sqlite://"):
        path = Path(db_url.removeprefix("sqlite://"))
        target = Target("sqlite", "tiny", db_url, db_url, path=path)
    else:
        owner: str = request.getfixturevalue("postgres_owner_url")
        name = owner.rpartition("/")[2]
        target = Target("postgres", "tiny", owner, db_url, name=name)
    await seed.seed(target)
    return target


async def test_every_workload_agrees_with_its_floor(
    db_url: str, request: pytest.FixtureRequest
) -> None:
    target = await seeded(db_url, request)
    rows: list[dict[str, Any]] = [
        *await workloads.goal_tree(target, TINY),
        *await workloads.team(target, TINY),
        *await workloads.team(target, TINY, memory=True),
        *await workloads.ingest(target, TINY),
        *await workloads.stage_switch(target, TINY),
    ]
    assert [(r["workload"], r["variant"]) for r in rows] == [
        ("goal_tree", "api"),
        ("team", "http"),
        ("memory", "server"),
        ("ingest", "graphql×100"),
        ("ingest", "sync"),
        ("stage_switch", "switch"),
        ("stage_switch", "until_scorecard"),
    ]
    assert [r["check"] for r in rows] == ["equal", "equal", "equal"] + ["current"] * 2 + [
        "equal"
    ] * 2
    assert all(r["rows"] > 0 for r in rows if r["workload"] == "ingest")


async def test_a_floor_that_drifts_from_the_api_fails_the_run(
    db_url: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = await seeded(db_url, request)
    real = floor.policy_score
    monkeypatch.setattr(floor, "policy_score", lambda *a: real(*a) + 0.001)
    with pytest.raises(WrongAnswer, match="goalTree: API and floor differ"):
        await workloads.goal_tree(target, TINY)
