"""The deployment files in the repository are ones their tools accept: the systemd
units pass `systemd-analyze verify` (with the install's own `goalgraph` in place of
/opt/goalgraph's), and the commands they and the Containerfile run exist."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNITS = sorted((ROOT / "deploy").glob("*.service"))
INSTALLED = "/opt/goalgraph/bin/goalgraph"


def _commands(unit: Path) -> list[list[str]]:
    return [
        line.partition("=")[2].split()
        for line in unit.read_text().splitlines()
        if line.startswith("ExecStart=")
    ]


def test_there_is_a_unit_for_migrations_the_server_and_the_scheduler() -> None:
    assert [u.name for u in UNITS] == [
        "goalgraph-migrate.service",
        "goalgraph-worker.service",
        "goalgraph.service",
    ]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd here")
@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_the_unit_passes_systemd_analyze(unit: Path, tmp_path: Path) -> None:
    goalgraph = Path(sys.executable).with_name("goalgraph")
    copy = tmp_path / unit.name
    copy.write_text(unit.read_text().replace(INSTALLED, str(goalgraph)))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, check=False
    )
    # a unit it depends on (postgresql.service) may be missing here; nothing else may fail
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and "postgresql.service" not in line and "goalgraph-" not in line
    ]
    assert problems == [], problems


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_the_units_commands_exist(unit: Path) -> None:
    for command in _commands(unit):
        assert command[0] == INSTALLED, command
        help_run = subprocess.run(
            [sys.executable, "-m", "goalgraph.core.cli", command[1], "--help"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert help_run.returncode == 0, (command, help_run.stderr)


def test_the_containerfiles_command_exists() -> None:
    """The image's CMD is a goalgraph command the package really has."""
    cmd = next(
        line for line in (ROOT / "Containerfile").read_text().splitlines() if line.startswith("CMD")
    )
    program, command, *options = json.loads(cmd.removeprefix("CMD"))
    assert program == "goalgraph"
    help_run = subprocess.run(
        [sys.executable, "-m", "goalgraph.core.cli", command, "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert help_run.returncode == 0, help_run.stderr
    for option in options:
        if option.startswith("--"):
            assert option in help_run.stdout, option
