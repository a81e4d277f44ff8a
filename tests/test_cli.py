"""The ``goalgraph`` command as a user runs it: a real process on a real database file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import jwt
import pytest

from .cli import cli

SECRET = "cli-test-secret-with-enough-length-0123"


def run(db: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return cli(db, SECRET, *args, check=check)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cli") / "demo.sqlite3"
    run(db, "demo")
    return db


def test_migrate_is_repeatable(tmp_path: Path) -> None:
    db = tmp_path / "fresh.sqlite3"
    first = run(db, "migrate")
    second = run(db, "migrate")
    assert "up to date" in first.stderr
    assert "up to date" in second.stderr
    assert db.exists()


def test_demo_twice_creates_the_tenant_once(demo_db: Path) -> None:
    again = run(demo_db, "demo")
    assert again.stdout.strip().splitlines()[-1] == "freshmart"
    assert "already present" in again.stderr


def test_token_is_alone_on_the_last_line_and_signed(demo_db: Path) -> None:
    result = run(demo_db, "token", "--tenant", "freshmart", "--role", "admin")
    token = result.stdout.strip().splitlines()[-1]
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], issuer="goalgraph")
    assert claims["tenant"] == "freshmart"
    assert claims["role"] == "admin"
    assert "sub" not in claims


def test_token_for_a_person_by_email(demo_db: Path) -> None:
    result = run(
        demo_db,
        "token",
        "--tenant",
        "freshmart",
        "--role",
        "admin",
        "--person",
        "admin@freshmart.example",
    )
    claims = jwt.decode(
        result.stdout.strip().splitlines()[-1], SECRET, algorithms=["HS256"], issuer="goalgraph"
    )
    assert int(claims["sub"]) > 0


def test_unknown_tenant_and_role_are_clear_errors(demo_db: Path) -> None:
    unknown = run(demo_db, "token", "--tenant", "nope", "--role", "admin", check=False)
    assert unknown.returncode == 2
    assert "no tenant with slug 'nope'" in unknown.stderr
    assert unknown.stdout == ""
    bad_role = run(demo_db, "token", "--tenant", "freshmart", "--role", "boss", check=False)
    assert bad_role.returncode == 2
    assert "boss" in bad_role.stderr
    nobody = run(
        demo_db,
        "token",
        "--tenant",
        "freshmart",
        "--role",
        "admin",
        "--person",
        "ghost@nowhere",
        check=False,
    )
    assert nobody.returncode == 2
    assert "no person 'ghost@nowhere'" in nobody.stderr
