"""A wrong setting stops start-up with one line naming the setting and the fix, and exit
code 2: never a traceback (the real command, in a real process)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from goalgraph.core.settings import DEV_SECRET

from .cli import cli

GOOD_SECRET = "s" * 32


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _one_line(result: object, *expected: str) -> str:
    """The refusal's only line, checked for ``expected``."""
    assert result.returncode == 2, result.stderr  # type: ignore[attr-defined]
    stderr: str = result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("command", ["serve", "migrate"])
def test_a_short_secret_names_the_setting_and_how_to_make_one(tmp_path: Path, command: str) -> None:
    result = cli(tmp_path / "x.sqlite3", "short", command, check=False)
    _one_line(result, "GOALGRAPH_SECRET", "at least 32 characters", "openssl rand")


def test_a_database_url_of_another_kind_is_refused(tmp_path: Path) -> None:
    result = cli("mysql://root@127.0.0.1/test", GOOD_SECRET, "migrate", check=False)
    _one_line(result, "GOALGRAPH_DATABASE_URL", "'mysql' is not SQLite or PostgreSQL")


@pytest.mark.parametrize("command", ["serve", "migrate", "demo"])
def test_an_unreachable_postgres_names_the_url(tmp_path: Path, command: str) -> None:
    port = _free_port()
    url = f"postgres://goalgraph_app:hunter2-password@127.0.0.1:{port}/test"
    result = cli(url, GOOD_SECRET, command, check=False, env={"GOALGRAPH_MIGRATE_DATABASE_URL": ""})
    shown = f"postgres://goalgraph_app:***@127.0.0.1:{port}/test"
    _one_line(result, "GOALGRAPH_DATABASE_URL: cannot reach", shown, "start the database")
    assert "hunter2" not in result.stderr


def test_a_sqlite_file_in_a_missing_folder_names_the_folder(tmp_path: Path) -> None:
    result = cli(tmp_path / "nowhere" / "x.sqlite3", GOOD_SECRET, "serve", check=False)
    _one_line(result, "GOALGRAPH_DATABASE_URL", f"{tmp_path / 'nowhere'} does not exist")


def test_production_refuses_the_development_secret(tmp_path: Path) -> None:
    production = {"GOALGRAPH_ENV": "production"}
    result = cli(tmp_path / "x.sqlite3", DEV_SECRET, "serve", check=False, env=production)
    _one_line(result, "GOALGRAPH_SECRET", "development secret is refused", "GOALGRAPH_ENV")


def test_serving_an_unmigrated_database_says_which_command_to_run(tmp_path: Path) -> None:
    result = cli(tmp_path / "x.sqlite3", GOOD_SECRET, "serve", check=False)
    _one_line(result, "needs", "migration(s)", "run `goalgraph migrate` first")
