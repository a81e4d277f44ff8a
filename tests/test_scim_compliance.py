"""scim2-tester's compliance checks (RFC 7643/7644: discovery, CRUD and PATCH on Users
and Groups) against the real app: `goalgraph serve` on 127.0.0.1, on each backend.

A check scim2-tester skips (a feature ServiceProviderConfig does not announce, such as
bulk or sorting) is fine; a failed one is not. `make scim-check` runs this file alone.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from goalgraph.core.access_keys import create_scim_credential
from goalgraph.core.db import connected
from goalgraph.core.enums import Role
from goalgraph.core.identity import Identity
from goalgraph.core.services import org
from goalgraph.core.tenancy import Actor, TenantScope

from .factories import TEST_SECRET


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _tenant_with_credential(db_url: str) -> str:
    async with connected(db_url):
        tenant, _ = await org.create_tenant(slug="scimco", name="SCIM 测试公司", name_en="SCIM Co")
        system = TenantScope(
            tenant, Identity(tenant.id, tenant.slug, Role.ADMIN), Actor(None, None)
        )
        return (await create_scim_credential(system, "scim2-tester")).secret


@contextmanager
def live_server(db_url: str, log: Path) -> Iterator[str]:
    """`goalgraph serve` on ``db_url`` on a free port; yields its base URL. Its output
    (access log included) goes to ``log``."""
    env = {
        **os.environ,
        "GOALGRAPH_DATABASE_URL": db_url,
        "GOALGRAPH_SECRET": TEST_SECRET,
        "GOALGRAPH_SYNC_POLL_SECONDS": "0",
    }
    port = _free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "goalgraph.core.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {log.read_text()}")
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_scim2_tester_reports_no_failures(db_url: str, tmp_path: Path) -> None:
    # given a tenant with a SCIM credential, served for real
    secret = asyncio.run(_tenant_with_credential(db_url))
    log = tmp_path / "server.log"
    with live_server(db_url, log) as base:
        http = httpx2.Client(
            base_url=f"{base}/scim/v2", headers={"Authorization": f"Bearer {secret}"}, timeout=30
        )
        client = SyncSCIMClient(http)
        # when scim2-tester runs every check it has
        results = check_server(client)
        http.close()
    # then none failed
    counts = Counter(r.status for r in results)
    print(
        f"\nscim2-tester: {len(results)} checks, "
        + ", ".join(f"{status.name.lower()} {n}" for status, n in sorted(counts.items(), key=str))
    )
    failed = [r for r in results if r.status not in (Status.SUCCESS, Status.SKIPPED)]
    for r in failed:
        print(f"  {r.status.name} {r.resource_type or ''} {r.title}: {r.reason}")
    for r in results:
        if r.status is Status.SKIPPED:
            print(f"  skipped {r.resource_type or ''} {r.title}: {r.reason}")
    assert counts[Status.SUCCESS] > 50
    assert not failed
    # and the secret is nowhere in what the server logged
    assert secret not in log.read_text()
