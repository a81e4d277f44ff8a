"""The package's shape: folder mapping, migrations in step with models, the SDL."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from goalgraph.core.db import TORTOISE_ORM

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {
    "core": "goalgraph.core",
    "schema": "goalgraph.schema",
    "plugins": "goalgraph.plugins",
    "adapters": "goalgraph.adapters",
}


def test_every_package_folder_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = set()
    for folder, package in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            if "static" in init.parts:
                continue
            relative = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((package, *relative)))
    assert listed == found
    assert dict(config["package-dir"].items()) == {v: k for k, v in FOLDERS.items()}


def test_migrations_match_the_models() -> None:
    """A model change without its migration fails here (makemigrations finds nothing)."""
    result = subprocess.run(
        [sys.executable, "-c", _DETECT],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "no changes", result.stdout


_DETECT = f"""
import asyncio
from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector
config = {TORTOISE_ORM!r}

async def main():
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
    print("no changes" if not writers else [w.name for w in writers])

asyncio.run(main())
"""


def test_schema_command_prints_the_documented_operations() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "goalgraph.core.cli", "schema"],
        capture_output=True,
        text=True,
        check=True,
    )
    sdl = result.stdout
    for name in (
        "goalTree(",
        "node(",
        "viewer:",
        "createObjective(",
        "createKeyResult(",
        "createKpi(",
        "linkKpi(",
        "recordMeasurements(",
        "checkIn(",
    ):
        assert name in sdl, name


ALLOWED = {
    "core": set(),
    "adapters": {"core"},
    "plugins": {"core", "adapters"},
    "schema": {"core", "plugins", "adapters"},
}
COMPOSITION_ROOT = {
    ROOT / "core" / "app.py",
    ROOT / "core" / "cli.py",
    ROOT / "core" / "tenant_cli.py",
}
RELATIVE = re.compile(r"^\s*from \.\.+(core|schema|plugins|adapters)\b", re.M)


def test_each_folder_imports_only_what_it_may() -> None:
    """core imports nothing of ours but core (the composition root aside); adapters only
    core; plugins core and adapters."""
    offences = []
    for folder, allowed in ALLOWED.items():
        for module in (ROOT / folder).rglob("*.py"):
            if module in COMPOSITION_ROOT:
                continue
            for target in RELATIVE.findall(module.read_text(encoding="utf-8")):
                if target != folder and target not in allowed:
                    offences.append(f"{module.relative_to(ROOT)} imports {target}")
    assert offences == []


async def test_the_app_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    from asgi_lifespan import LifespanManager

    from goalgraph.core.app import create_app
    from goalgraph.core.db import NotMigrated
    from goalgraph.core.settings import Settings

    url = f"sqlite://{tmp_path / 'empty.sqlite3'}"
    app = create_app(Settings(database_url=url, secret="x" * 40))
    with pytest.raises(NotMigrated, match="run `goalgraph migrate` first"):
        async with LifespanManager(app):
            pass
