"""The team query over HTTP against `goalgraph serve --workers N`, for N = 1, 2, 4.

    python -m bench workers                       # the 10k tenant on PostgreSQL, 1, 2, 4
    python -m bench workers --size 1k --counts 1,2 --duration 4 --docs

The same 16 clients as the team workload (``workloads.load``) ask the real command's
server, not the benchmark's own uvicorn process, so what scales is what a deployment
runs: the supervisor, its workers, one pool each. Every run's answers must equal the
one-worker run's. The load generator shares the machine with the workers: on a
machine with fewer cores than workers plus one the figures say how much the cores,
not the workers, allow. With ``--docs`` the table goes into docs/performance.md
between its ``workers`` markers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from . import report, seed
from .seed import Target
from .serve import SECRET, bench_environment
from .shape import generate
from .workloads import TEAM_QUERY, Options, admin_token, check, free_port, load, team_requests

BEGIN = "<!-- workers:begin (written by `python -m bench workers --docs`) -->"
END = "<!-- workers:end -->"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


@contextlib.asynccontextmanager
async def serving(target: Target, workers: int) -> AsyncIterator[str]:
    """`goalgraph serve --workers N` on ``target``, without scheduler or rate limits."""
    port = free_port()
    env = {
        **os.environ,
        "GOALGRAPH_DATABASE_URL": target.app_url,
        "GOALGRAPH_SECRET": SECRET,
        **bench_environment(),
        "GOALGRAPH_WORKERS": str(workers),
    }
    command = [sys.executable, "-m", "goalgraph.core.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_for(url, process, workers)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _wait_for(url: str, process: subprocess.Popen[bytes], workers: int) -> None:
    """Until every worker answers: a few rounds of health checks on fresh connections
    (the kernel spreads new connections over the workers' shared socket)."""
    answered = 0
    async with aiohttp.ClientSession() as session:
        for _ in range(1200):
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url + "/health") as response:
                    answered += response.status == 200
            if answered >= 4 * workers:
                return
            if process.poll() is not None:
                raise RuntimeError(f"goalgraph serve exited with {process.returncode}")
            await asyncio.sleep(0.1)
    raise RuntimeError("goalgraph serve did not start in 120 s")


async def measure(target: Target, counts: list[int], options: Options) -> list[dict[str, Any]]:
    shape = generate(target.size)
    variables = team_requests(shape, options.clients)
    bodies = [orjson.dumps({"query": TEAM_QUERY, "variables": v}) for v in variables]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {admin_token()}"}
    rows: list[dict[str, Any]] = []
    reference: list[Any] | None = None
    timeout = aiohttp.ClientTimeout(total=900)
    for workers in counts:
        async with (
            serving(target, workers) as url,
            aiohttp.ClientSession(
                timeout=timeout,
                connector=aiohttp.TCPConnector(limit=options.clients, force_close=False),
            ) as session,
        ):
            first: dict[int, bytes] = {}
            figures = await load(
                session, url + "/graphql", bodies, headers, options.clients, options.duration, first
            )
        check(figures["errors"] == 0, f"{workers} workers: failed requests")
        answers = [orjson.loads(first[i]) for i in range(len(bodies))]
        check(all("errors" not in a for a in answers), f"{workers} workers: errors")
        if reference is None:
            reference = answers
        check(answers == reference, f"{workers} workers: answers differ from one worker's")
        rows.append({"workers": workers, **figures})
        print(
            f"  {workers} worker(s): {figures['rps']} req/s, p50 {figures['p50_ms']} ms, "
            f"p99 {figures['p99_ms']} ms",
            flush=True,
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    one = rows[0]["rps"]
    lines = ["| workers | req/s | × one worker | p50 | p95 | p99 |", "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(
            f"| {row['workers']} | {row['rps']:,.1f} | {row['rps'] / one:.2f}× | "
            f"{row['p50_ms']} ms | {row['p95_ms']} ms | {row['p99_ms']} ms |"
        )
    return "\n".join(lines)


def block(target: Target, rows: list[dict[str, Any]], options: Options) -> str:
    m = report.machine()
    return "\n".join(
        [
            BEGIN,
            f"The team query (the team workload's), {options.clients} clients for "
            f"{options.duration:g} s per count, {target.size} tenant on PostgreSQL "
            f"{m['postgres']}, on {m['cores']} cores of {m['cpu']} shared by the workers and "
            "the load generator:",
            "",
            table(rows),
            END,
        ]
    )


def write_docs(text: str, path: Path = DOCS) -> None:
    doc = path.read_text(encoding="utf-8")
    start, end = doc.index(BEGIN), doc.index(END) + len(END)
    path.write_text(doc[:start] + text + doc[end:], encoding="utf-8")


async def run(size: str, counts: list[int], duration: float, docs: bool) -> int:
    target = await seed.ensure("postgres", size)
    options = Options(duration=duration)
    rows = await measure(target, counts, options)
    print()
    print(table(rows))
    if docs:
        write_docs(block(target, rows, options))
        print("docs/performance.md updated")
    return 0
