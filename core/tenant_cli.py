"""``goalgraph tenant``: the tenant lifecycle for whoever runs the service.

create, list, show, export, import, delete. Messages go to stderr and the data a
script takes (the admin's token, an export) to stdout. Every failure is one line on
stderr and exit code 2.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from tortoise.exceptions import BaseORMException

from .db import NotMigrated, connected, require_migrated
from .errors import DomainError
from .i18n import Msg, msg, text
from .identity import mint_token
from .settings import get_settings

app = typer.Typer(help="Tenants: create, list, show, export, import, delete.", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

T = TypeVar("T")


def _fail(message: Msg | str) -> typer.Exit:
    """One error line, in the CLI's language; exit code 2."""
    line = f"[bold red]{escape(msg('cli.error').render())}:[/] {escape(text(message))}"
    err.print(line, markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def _run(work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` against the configured database; every failure becomes one line."""
    url = get_settings().database_url

    async def run() -> T:
        async with connected(url):
            await require_migrated(url)
            return await work()

    try:
        return asyncio.run(run())
    except DomainError as exc:
        raise _fail(exc.text()) from None
    except NotMigrated as exc:
        raise _fail(msg("cli.not_migrated", reason=str(exc))) from None
    except (BaseORMException, OSError) as exc:
        raise _fail(
            msg("cli.database_error", kind=type(exc).__name__, reason=str(exc).replace("\n", " "))
        ) from None


def _known_stages() -> set[str]:
    """Built-in lifecycle stages and those of every installed pack."""
    from ..plugins.manager import PackManager

    return PackManager.discover().all_stage_names()


@app.command()
def create(
    slug: Annotated[str, typer.Argument(help="Short name in tokens and URLs (a-z, 0-9, -).")],
    name: Annotated[str, typer.Option(help="The company's name (名称).")],
    admin_email: Annotated[str, typer.Option(help="The first admin's email.")],
    name_en: Annotated[str, typer.Option(help="The company's English name.")] = "",
    stage: Annotated[
        str, typer.Option(help="Lifecycle stage: startup, growth, mature or a pack's.")
    ] = "growth",
    admin_name: Annotated[
        str, typer.Option(help="The admin's name (default: the email's local part).")
    ] = "",
) -> None:
    """Create a tenant with its company unit, an open cycle for this quarter and its
    first admin; the admin's token is printed alone on the last line."""
    from .tenants import create_company

    stages = _known_stages()
    settings = get_settings()

    async def work() -> Any:
        return await create_company(
            slug,
            name,
            name_en=name_en,
            stage=stage,
            admin_email=admin_email,
            admin_name=admin_name,
            known_stages=stages,
        )

    made = _run(work)
    tenant, unit, cycle, admin = made.tenant, made.company, made.cycle, made.admin
    err.print(
        f"[green]tenant {tenant.slug!r} created[/] (id {tenant.id}): {tenant.name}"
        + (f" / {tenant.name_en}" if tenant.name_en else "")
        + f", stage {tenant.lifecycle_stage}"
    )
    err.print(f"company unit: {unit.name} (id {unit.id})")
    err.print(f"open cycle: {cycle.name} ({cycle.starts_on} to {cycle.ends_on}, id {cycle.id})")
    err.print(f"admin: {admin.name} <{admin.email}> (person id {admin.id})")
    err.print(
        "the admin's way in, a token valid for "
        f"{settings.token_ttl_hours} hours (an invitation replaces it once sign-in exists):"
    )
    token = mint_token(
        made.admin_identity, settings.secret, timedelta(hours=settings.token_ttl_hours)
    )
    print(token)


@app.command("list")
def list_command() -> None:
    """Every tenant: slug, name, stage, active people, created."""
    from .tenants import list_tenants

    rows = _run(list_tenants)
    table = Table("slug", "name", "stage", "people", "created")
    for row in rows:
        name = row.name + (f" / {row.name_en}" if row.name_en else "")
        table.add_row(row.slug, name, row.stage, str(row.people), f"{row.created_at:%Y-%m-%d}")
    out.print(table)


@app.command()
def show(slug: str) -> None:
    """What a tenant holds: units, people, goals, values, packs, bindings, cycles."""
    from .tenants import tenant_summary

    summary = _run(lambda: tenant_summary(slug))
    tenant = summary.tenant
    out.print(
        f"[bold]{tenant.slug}[/] (id {tenant.id}): {tenant.name}"
        + (f" / {tenant.name_en}" if tenant.name_en else "")
        + f", stage {tenant.lifecycle_stage}, created {tenant.created_at:%Y-%m-%d %H:%M} UTC"
    )
    counts = Table("what", "rows")
    for what, n in summary.counts.items():
        counts.add_row(what, f"{n:,}")
    out.print(counts)
    if summary.packs:
        out.print(
            "packs: "
            + "; ".join(f"{p} ({', '.join(stages)})" for p, stages in summary.packs.items())
        )
    for cycle in summary.cycles:
        state = "closed" if cycle.closed else "open"
        out.print(
            f"cycle {cycle.name}: {cycle.kind}, {cycle.starts_on} to {cycle.ends_on}, {state}"
        )


@app.command()
def export(
    slug: str,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write here (default: stdout).")
    ] = None,
) -> None:
    """Everything the tenant owns as JSON (data portability)."""
    from .portability import export_tenant

    data = _run(lambda: export_tenant(slug))
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    rows = sum(len(t["rows"]) for t in data["tables"].values()) + 1
    if out_file is None:
        sys.stdout.write(text + "\n")
    else:
        try:
            out_file.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise _fail(
                msg("cli.cannot_write", file=out_file, reason=exc.strerror or exc)
            ) from None
        err.print(f"[green]tenant {slug!r} exported[/] to {out_file}: {rows:,} rows")


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="An export of `goalgraph tenant export`.")],
) -> None:
    """Import an exported tenant; refused when its slug or any of its ids is taken."""
    from .portability import import_tenant

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _fail(msg("cli.cannot_read", file=file, reason=exc.strerror or exc)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(msg("cli.not_json_export", file=file, reason=str(exc))) from None
    tenant = _run(lambda: import_tenant(data))
    rows = sum(len(t.get("rows", [])) for t in data["tables"].values()) + 1
    err.print(f"[green]tenant {tenant.slug!r} imported[/] (id {tenant.id}): {rows:,} rows")


@app.command()
def delete(
    slug: str,
    yes: Annotated[bool, typer.Option("--yes", help="Really delete every row.")] = False,
) -> None:
    """Delete every row of a tenant, in one transaction; other tenants are untouched."""
    from .tenants import count_rows, delete_tenant, find_tenant

    if not yes:

        async def preview() -> tuple[str, dict[str, int]]:
            tenant = await find_tenant(slug)
            return tenant.name, await count_rows(tenant.id)

        name, counts = _run(preview)
        held = ", ".join(f"{table} {n:,}" for table, n in counts.items() if n)
        raise _fail(
            msg("cli.delete_needs_yes", slug=slug, name=name, rows=sum(counts.values()), held=held)
        )
    deleted = _run(lambda: delete_tenant(slug))
    err.print(f"[green]tenant {slug!r} deleted[/]: {sum(deleted.values()):,} rows")
