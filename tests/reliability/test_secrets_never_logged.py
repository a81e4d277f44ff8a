"""The session's secret check can fail: what it greps is really captured, and a
registered secret in the log fails the whole run, naming its kind and never the secret.

The check itself (``tests/conftest.py``, ``pytest_sessionfinish``) greps the log of
the whole suite; these tests prove it is not vacuous.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from .. import conftest, secrets_registry

REPO = Path(__file__).resolve().parents[2]
NO_XDIST = ["-p", "no:xdist"]

CHILD_CONFTEST = """
from tests.conftest import (  # noqa: F401
    pytest_sessionfinish,
    pytest_sessionstart,
    pytest_testnodedown,
)
"""

CHILD_TEST = """
import logging

from tests import secrets_registry


def test_logs_a_secret():
    secret = secrets_registry.register("API key", "gg_{probe}")
    logging.getLogger("goalgraph.anything").warning("calling with key %s", secret)
"""


def _probe() -> str:
    return f"probe-{uuid.uuid4().hex}"


def _flush() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()


def test_the_grep_finds_a_registered_secret_and_names_only_its_kind(tmp_path: Path) -> None:
    secret = _probe()
    log = tmp_path / "session.log"
    log.write_text(f"INFO x refreshed with {secret}\nINFO y again {secret}\n", encoding="utf-8")
    assert secrets_registry.leaks([log], {secret: "refresh token"}) == {"refresh token": 1}
    assert secrets_registry.leaks([log], {_probe(): "refresh token"}) == {}


def test_the_session_log_holds_records_with_their_args_and_tracebacks() -> None:
    # unregistered probes: they show the capture works without failing this session
    in_args, in_traceback = _probe(), _probe()
    log = logging.getLogger("goalgraph.test")
    log.debug("formatted with %s", in_args)
    try:
        raise ValueError(in_traceback)
    except ValueError:
        log.exception("a failure")
    _flush()
    probes = {in_args: "args", in_traceback: "traceback"}
    assert secrets_registry.leaks(conftest.CAPTURED_LOG, probes) == {"args": 1, "traceback": 1}


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_a_session_that_logs_a_registered_secret_fails(tmp_path: Path, workers: list[str]) -> None:
    # given a child session with the suite's capture and check, whose test logs a secret
    # (under xdist each worker greps its own log and the controller fails the run)
    probe = uuid.uuid4().hex
    (tmp_path / "conftest.py").write_text(CHILD_CONFTEST, encoding="utf-8")
    (tmp_path / "test_leak.py").write_text(CHILD_TEST.format(probe=probe), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    # when it runs (its one test passes)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *(workers or NO_XDIST)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # then the session fails, says which kind leaked, and never prints the secret
    assert "1 passed" in result.stdout, result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout + result.stderr
    assert "SECRETS IN THE LOG: 1 API key" in result.stdout + result.stderr
    assert probe not in result.stdout + result.stderr
