"""The ``figures`` fixture: what a reliability test measured, kept for the report.

A test records each figure with the database it ran on; at the end of the session the
figures are written as JSON to ``GOALGRAPH_RELIABILITY_OUT`` when it is set (``make
reliability`` sets it and renders docs/reliability.md from the file). A figure marked
``must_be_zero`` is also asserted by the test that records it: the report shows it, the
test fails on it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from .size import Size, current

OUT_ENV = "GOALGRAPH_RELIABILITY_OUT"


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured figure of one section, on one database."""

    section: str
    name: str
    db: str
    value: float
    unit: str = ""
    must_be_zero: bool = False


RECORDED: list[Figure] = []

Record = Callable[..., None]


def backend_of(db_url: str) -> str:
    return "sqlite" if db_url.startswith("sqlite://") else "postgres"


@pytest.fixture
def size() -> Size:
    return current()


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Record:
    """``figures(section, name, value, db=…, unit=…, must_be_zero=…)``; ``db`` defaults
    to the test's backend (its ``db_url``), or ``"any"`` for a test without one."""
    default_db = "any"
    if "db_url" in request.fixturenames:
        default_db = backend_of(request.getfixturevalue("db_url"))

    def record(
        section: str,
        name: str,
        value: float,
        *,
        db: str | None = None,
        unit: str = "",
        must_be_zero: bool = False,
    ) -> None:
        RECORDED.append(Figure(section, name, db or default_db, value, unit, must_be_zero))

    return record


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    out = os.environ.get(OUT_ENV)
    if not out or not RECORDED:
        return
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "size": current().name,
        "exitstatus": int(exitstatus),
        "figures": [asdict(f) for f in RECORDED],
    }
    path.write_text(json.dumps(payload, indent=1, ensure_ascii=False))
