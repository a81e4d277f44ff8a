"""`goalgraph serve --workers N`: several server processes on one port and one
PostgreSQL database, each with its own pool; refused on SQLite, which serves one
process."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from .cli import cli
from .conftest import POSTGRES_ENV, truncate_postgres
from .factories import TEST_SECRET, make_company
from .reliability.server import started

VIEWER = "{ viewer { role tenant { slug } } }"

#: Several workers share PostgreSQL; SQLite serves one process (the refusal above).
on_postgres = pytest.mark.skipif(
    POSTGRES_ENV not in os.environ, reason="several workers share a PostgreSQL database"
)


@pytest.fixture
def db_url(postgres_owner_url: str, postgres_database: str) -> str:
    """PostgreSQL only, emptied, as the app's role."""
    asyncio.run(truncate_postgres(postgres_owner_url))
    return postgres_database


def test_several_workers_on_sqlite_are_refused_in_one_line(tmp_path: Path) -> None:
    result = cli(tmp_path / "one.sqlite3", TEST_SECRET, "serve", "--workers", "2", check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "--workers 2 needs PostgreSQL" in lines[0]
    assert "Traceback" not in result.stderr


@on_postgres
def test_workers_and_reload_are_refused_together(db_url: str) -> None:
    result = cli(db_url, TEST_SECRET, "serve", "--workers", "2", "--reload", check=False)
    assert result.returncode == 2
    assert "--reload runs one process" in result.stderr.strip().splitlines()[-1]


def _workers_of(server: int) -> set[int]:
    """The live child processes of the server's supervisor (its workers)."""
    children: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if int(fields[1]) == server and fields[0] != "Z":
            cmdline = (entry / "cmdline").read_bytes()
            if b"spawn_main" in cmdline:
                children.add(int(entry.name))
    return children


@on_postgres
async def test_two_workers_serve_one_database_and_a_killed_one_is_replaced(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path
) -> None:
    company = await make_company("acme")
    headers = {"Authorization": f"Bearer {company.token()}"}
    with started(db_url, tmp_path / "server.log", ["--workers", "2"]) as server:
        base, supervisor = server.base, server.process.pid
        workers = _workers_of(supervisor)
        assert len(workers) == 2, workers
        # a new connection per request, as a balancer's health-checked pool would: a
        # kept-alive connection to the killed worker dies with it
        fresh = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=base, timeout=10, limits=fresh) as http:

            async def viewer() -> object:
                response = await http.post("/graphql", json={"query": VIEWER}, headers=headers)
                assert response.status_code == 200, response.text
                return response.json()["data"]["viewer"]

            answers = await asyncio.gather(*(viewer() for _ in range(40)))
            assert answers == [{"role": "ADMIN", "tenant": {"slug": "acme"}}] * 40
            os.kill(min(workers), signal.SIGKILL)
            # the supervisor notices and starts another; the other worker serves meanwhile
            deadline = time.monotonic() + 30
            while _workers_of(supervisor) in (workers, workers - {min(workers)}):
                assert time.monotonic() < deadline, "the killed worker was not replaced"
                assert await viewer() == {"role": "ADMIN", "tenant": {"slug": "acme"}}
                await asyncio.sleep(0.2)
            assert len(_workers_of(supervisor)) == 2
            assert await viewer() == {"role": "ADMIN", "tenant": {"slug": "acme"}}
