"""A real `goalgraph serve` process on a free port of 127.0.0.1, on the test's database.

The end-to-end and page tests start one on a demo database they seeded through the
CLI; reliability tests on the database their fixtures built (a copied SQLite file, or
the PostgreSQL test database as the role row-level security binds), with the test
suite's secret so the tokens of ``tests/factories.py`` sign in. The server writes its
log to a file rather than a pipe: a busy server would fill a pipe nobody reads and stall.
On exit the log joins the session's captured log, which the secrets grep reads.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from ..factories import TEST_SECRET

#: How long a server may take to answer its health check.
START_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    """A started `goalgraph serve`: its base URL and its process (the supervisor, with
    ``--workers``)."""

    base: str
    process: subprocess.Popen[bytes]


@contextmanager
def started(
    database_url: str,
    log: Path,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    start_seconds: float = START_SECONDS,
) -> Iterator[Server]:
    """`goalgraph serve ARGS` on ``database_url``, healthy; stopped on exit."""
    env = {
        **os.environ,
        "GOALGRAPH_DATABASE_URL": database_url,
        "GOALGRAPH_SECRET": TEST_SECRET,
        "GOALGRAPH_SYNC_POLL_SECONDS": "0",
        "GOALGRAPH_ENV": "development",
        "GOALGRAPH_DEBUG": "false",
        **(env or {}),
    }
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "goalgraph.core.cli", "serve", "--port", str(port), *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        server = Server(f"http://127.0.0.1:{port}", process)
        try:
            _wait_healthy(process, server.base, log, start_seconds)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            # the server's log, into the session's captured log: no secret may be in it
            logging.getLogger("tests.serve").info(
                "goalgraph serve %s log:\n%s", server.base, log.read_text(errors="replace")
            )


@contextmanager
def serving(
    database_url: str,
    log: Path,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    start_seconds: float = START_SECONDS,
) -> Iterator[str]:
    """`goalgraph serve ARGS` on ``database_url``; yields its base URL, stops it on exit."""
    with started(database_url, log, args, env, start_seconds) as server:
        yield server.base


def _wait_healthy(
    process: subprocess.Popen[bytes], base: str, log: Path, start_seconds: float
) -> None:
    deadline = time.monotonic() + start_seconds
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server did not start: {log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.2)
