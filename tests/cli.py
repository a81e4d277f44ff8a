"""Running the ``goalgraph`` command as a user would: a real process, a real database."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from . import secrets_registry


def owner_url(app_url: str) -> str:
    """The owner's URL of the database ``app_url`` names: the server administrator of
    the PostgreSQL runs (``GOALGRAPH_TEST_POSTGRES_URL``) on the same database."""
    from .conftest import POSTGRES_ENV, _pg_url

    return _pg_url(os.environ[POSTGRES_ENV], app_url.rstrip("/").rpartition("/")[2])


def cli(
    db: Path | str, secret: str, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``goalgraph ARGS`` with ``db`` as its SQLite database (or a database URL) and
    ``secret`` as its key."""
    environment = {
        **os.environ,
        **(env or {}),
        "GOALGRAPH_DATABASE_URL": db if isinstance(db, str) else f"sqlite://{db}",
        "GOALGRAPH_SECRET": secret,
    }
    if (
        isinstance(db, str)
        and db.startswith("postgres")
        and "GOALGRAPH_MIGRATE_DATABASE_URL" not in environment
    ):
        # as a deploy would: the app's role serves, the tables' owner migrates
        environment["GOALGRAPH_MIGRATE_DATABASE_URL"] = owner_url(db)
    result = subprocess.run(
        [sys.executable, "-m", "goalgraph.core.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
        timeout=300,
    )
    # the command's log is its stderr: into the session's captured log, where the suite
    # checks that no secret reached it (stdout is the command's answer, e.g. a token)
    logging.getLogger("tests.cli").info("goalgraph %s stderr:\n%s", " ".join(args), result.stderr)
    if args and args[0] == "token":
        secrets_registry.register("development token", result.stdout.strip())
    secrets_registry.register("signing secret", secret)
    if check:
        result.check_returncode()
    return result


def admin_token(db: Path | str, secret: str) -> str:
    """The demo admin's development token, as `make demo` prints it."""
    person = ("--person", "admin@freshmart.example")
    out = cli(db, secret, "token", "--tenant", "freshmart", "--role", "admin", *person)
    return out.stdout.strip().splitlines()[-1]
