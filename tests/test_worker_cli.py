"""`goalgraph worker` refuses what would leave it doing nothing or failing later: one
line, exit code 2, in the command's language."""

from __future__ import annotations

from pathlib import Path

import pytest

from .cli import cli
from .factories import TEST_SECRET


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en", "run `goalgraph migrate` first"), ("zh-CN", "请先运行 `goalgraph migrate`")],
)
def test_a_worker_on_an_unmigrated_database_names_the_command(
    tmp_path: Path, locale: str, expected: str
) -> None:
    result = cli(
        tmp_path / "empty.sqlite3",
        TEST_SECRET,
        "worker",
        check=False,
        env={"GOALGRAPH_LOCALE": locale},
    )
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_worker_whose_scheduler_is_off_is_refused(tmp_path: Path) -> None:
    result = cli(
        tmp_path / "empty.sqlite3",
        TEST_SECRET,
        "worker",
        check=False,
        env={"GOALGRAPH_SYNC_POLL_SECONDS": "0", "GOALGRAPH_LOCALE": "en"},
    )
    assert result.returncode == 2, result.stderr
    assert "GOALGRAPH_SYNC_POLL_SECONDS is 0" in result.stderr
