"""Running the ``goalgraph`` command as a user would: a real process, a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


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
    return subprocess.run(
        [sys.executable, "-m", "goalgraph.core.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        check=check,
        timeout=300,
    )
