"""Two `goalgraph migrate` processes at once on a fresh PostgreSQL database: they take
the migration lock in turn, and the schema ends as one run would leave it."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import pytest

from goalgraph.core.db import MIGRATE_LOCK_KEY, connected, require_migrated

from .conftest import APP_ROLE, POSTGRES_ENV, _admin, _as_role, _pg_url
from .factories import TEST_SECRET

pytestmark = pytest.mark.skipif(
    not os.environ.get(POSTGRES_ENV), reason=f"the lock is PostgreSQL's ({POSTGRES_ENV})"
)

MIGRATIONS = sorted(
    p.stem for p in (Path(__file__).parents[1] / "core" / "migrations").glob("[0-9]*.py")
)


def _dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def _locks(conn: asyncpg.Connection, database: str) -> tuple[int, int]:
    """(held, waiting) migration locks on ``database``."""
    row = await conn.fetchrow(
        "SELECT count(*) FILTER (WHERE l.granted) AS held, "
        "count(*) FILTER (WHERE NOT l.granted) AS waiting "
        "FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE l.locktype = 'advisory' AND d.datname = $1 "
        "AND l.objsubid = 1 AND ((l.classid::bigint << 32) | l.objid::bigint) = $2",
        database,
        MIGRATE_LOCK_KEY,
    )
    assert row is not None
    return int(row["held"]), int(row["waiting"])


async def test_two_migrations_at_once_take_turns(tmp_path: Path) -> None:
    base = os.environ[POSTGRES_ENV]
    name = f"goalgraph_migrate_{uuid.uuid4().hex[:10]}"
    await _admin(
        base,
        f'CREATE DATABASE "{name}"',
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') "
        f"THEN CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS; END IF; END $$",
    )
    owner = _pg_url(base, name)
    app_url = _as_role(owner, APP_ROLE)
    env = {
        **os.environ,
        "GOALGRAPH_DATABASE_URL": app_url,
        "GOALGRAPH_MIGRATE_DATABASE_URL": owner,
        "GOALGRAPH_SECRET": TEST_SECRET,
    }
    watcher = await asyncpg.connect(_dsn(owner))
    processes: list[asyncio.subprocess.Process] = []
    logs = [tmp_path / f"migrate-{i}.log" for i in range(2)]
    try:
        # a third deploy step holds the lock, so both runs find it taken
        await watcher.execute("SELECT pg_advisory_lock($1)", MIGRATE_LOCK_KEY)
        for log in logs:
            with log.open("wb") as out:
                processes.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable, "-m", "goalgraph.core.cli", "migrate", env=env, stderr=out
                    )
                )
        probe = await asyncpg.connect(_dsn(owner))
        try:
            deadline = time.monotonic() + 60
            while (await _locks(probe, name))[1] < 2:
                assert time.monotonic() < deadline, "both runs never waited for the lock"
                assert all(p.returncode is None for p in processes), "a run ended early"
                await asyncio.sleep(0.05)
            await watcher.execute("SELECT pg_advisory_unlock($1)", MIGRATE_LOCK_KEY)
            most_held, samples = 0, 0
            while any(p.returncode is None for p in processes):
                held, _ = await _locks(probe, name)
                most_held, samples = max(most_held, held), samples + 1
                await asyncio.sleep(0.02)
        finally:
            await probe.close()
        async with asyncio.timeout(120):
            codes = [await p.wait() for p in processes]
        errors = [log.read_text(encoding="utf-8") for log in logs]
        assert codes == [0, 0], errors
        print(f"\nmigrate lock: at most {most_held} holder in {samples} samples; both waited")
        assert most_held == 1, "two migrations held the lock at once"
        for text in errors:
            assert "waiting for another migration to finish" in text, text
            assert "database is up to date" in text, text

        rows = await watcher.fetch("SELECT app, name FROM tortoise_migrations ORDER BY name")
        assert [r["name"] for r in rows] == MIGRATIONS, "each migration once"
        async with connected(app_url):
            await require_migrated(app_url)
    finally:
        for p in processes:
            if p.returncode is None:
                p.kill()
                await p.wait()
        await watcher.close()
        await _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
