"""``goalgraph packs``: list, inspect, enable, disable and scaffold industry packs."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..core import rls
from ..core.db import connected
from ..core.enums import Role
from ..core.errors import DomainError
from ..core.i18n import Msg, msg, text
from ..core.identity import Identity
from ..core.models import PackEnablement, Tenant
from ..core.settings import get_settings
from ..core.tenancy import Actor, TenantScope
from .enablement import disable_pack, enable_pack
from .manager import LoadedPack, PackManager
from .view import bind_policies

app = typer.Typer(help="Industry packs: list, show, enable, disable, new.", no_args_is_help=True)
# Piped output (scripts, CI logs) is not squeezed into 80 columns.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)
SCAFFOLD = Path(__file__).resolve().parent / "scaffold"


def _fail(message: Msg | str) -> typer.Exit:
    """One error line, in the CLI's language; exit code 2."""
    line = f"[bold red]{escape(msg('cli.error').render())}:[/] {escape(text(message))}"
    err.print(line, soft_wrap=True)
    return typer.Exit(code=2)


@app.command("list")
def list_packs(
    strict: Annotated[bool, typer.Option(help="Exit with 1 if any pack failed to load.")] = False,
) -> None:
    """Every installed pack: version, title, status, template counts, errors."""
    manager = PackManager.discover()
    table = Table(
        "name",
        "version",
        "title",
        "status",
        "KPI templates",
        "OKR templates",
        "stages",
        "health",
    )
    for pack in sorted(manager.packs.values(), key=lambda p: p.name):
        info = pack.info
        table.add_row(
            pack.name,
            info.version if info else "-",
            f"{info.title.zh} / {info.title.en}" if info else "-",
            "[green]loaded[/]" if pack.ok else "[red]failed[/]",
            str(len(pack.kpi_templates)),
            str(len(pack.okr_templates)),
            ", ".join(pack.stages) or "-",
            _health(pack),  # last: scripts reading the earlier columns keep working
        )
    out.print(table)
    for pack in sorted(manager.packs.values(), key=lambda p: p.name):
        if not pack.ok:  # in full and unwrapped: what a pack author needs to read
            code = f" ({pack.health_error.code})" if pack.health_error else ""
            out.print(f"[red]{pack.name}[/]: {pack.error}{code}", soft_wrap=True, highlight=False)
    if strict and any(not p.ok for p in manager.packs.values()):
        raise typer.Exit(code=1)


def _health(pack: LoadedPack) -> str:
    """The health cell: healthy, or unhealthy with the fault's code."""
    if pack.ok:
        return "[green]healthy[/]"
    code = pack.health_error.code if pack.health_error else "?"
    return f"[red]unhealthy[/] {code}"


@app.command()
def show(name: str) -> None:
    """A pack's templates, stages, adapters and scoring policies."""
    pack = PackManager.discover().packs.get(name)
    if pack is None:
        raise _fail(msg("cli.no_pack", name=name))
    if not pack.ok:
        raise _fail(msg("pack.failed_to_load", name=name, error=pack.error))
    _show(pack)


def _show(pack: LoadedPack) -> None:
    assert pack.info is not None
    out.print(
        f"[bold]{pack.name}[/] {pack.info.version} — {pack.info.title.zh} / "
        f"{pack.info.title.en}  (industries: {', '.join(pack.info.industries)}; "
        f"goalgraph {pack.info.goalgraph}; from {pack.source})"
    )
    kpis = Table(
        "code",
        "name",
        "unit",
        "direction",
        "target",
        "threshold",
        "level",
        "metric",
        title="KPI templates",
    )
    for t in pack.kpi_templates.values():
        kpis.add_row(
            t.code,
            f"{t.name.zh} / {t.name.en}",
            t.unit,
            t.direction.value,
            f"{t.default_target:g}",
            f"{t.default_threshold:g}",
            t.level,
            t.metric or "",
        )
    out.print(kpis)
    okrs = Table("code", "objective", "key results", title="OKR templates")
    for o in pack.okr_templates.values():
        okrs.add_row(
            o.code,
            f"{o.objective.zh} / {o.objective.en}",
            "\n".join(f"{k.title.zh}" + (f"  ← {k.kpi}" if k.kpi else "") for k in o.key_results),
        )
    out.print(okrs)
    stages = Table("name", "label", "OKR / KPI", title="lifecycle stages")
    for s in pack.stages.values():
        stages.add_row(
            s.name, f"{s.label.zh} / {s.label.en}", f"{s.okr_share:.0%} / {s.kpi_share:.0%}"
        )
    out.print(stages)
    adapters = Table("name", "title", "metrics", title="data adapters")
    for a in pack.adapters.values():
        adapters.add_row(
            a.name,
            f"{a.title['zh']} / {a.title['en']}",
            ", ".join(f"{m} ({u})" for m, u in a.metrics.items()),
        )
    out.print(adapters)
    policies = Table("name", "label", title="scoring policies")
    for p in pack.policies.values():
        policies.add_row(p.name, f"{p.label['zh']} / {p.label['en']}")
    out.print(policies)


def _system_scope(tenant: Tenant, manager: PackManager) -> TenantScope:
    """The CLI acts as a consultant of the tenant (audited without a person)."""
    identity = Identity(tenant.id, tenant.slug, Role.CONSULTANT)
    return bind_policies(TenantScope(tenant, identity, Actor(None, None)), manager)


async def _tenant(slug: str) -> Tenant:
    """The tenant ``--tenant`` names, the task bound to it (``core/rls``)."""
    tenant = await Tenant.get_or_none(slug=slug)
    if tenant is None:
        raise _fail(msg("tenant.unknown", slug=slug))
    rls.bind(tenant.id)
    return tenant


@app.command()
def enable(
    name: str,
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    stages: Annotated[str, typer.Option(help="Comma-separated lifecycle stages.")],
) -> None:
    """Enable a pack for a tenant's lifecycle stages (replaces the stage set)."""
    manager = PackManager.discover()

    async def run() -> list[str]:
        async with connected(get_settings().database_url):
            scope = _system_scope(await _tenant(tenant), manager)
            try:
                row = await enable_pack(scope, manager, name, stages.split(","))
            except DomainError as exc:
                raise _fail(exc.text()) from exc
            return list(row.stages)

    enabled = asyncio.run(run())
    err.print(f"[green]{name} enabled for {tenant}[/] in stages: {', '.join(enabled)}")


@app.command()
def disable(name: str, tenant: Annotated[str, typer.Option(help="Tenant slug.")]) -> None:
    """Disable a pack for a tenant; goals made from its templates stay."""
    manager = PackManager.discover()

    async def run() -> None:
        async with connected(get_settings().database_url):
            scope = _system_scope(await _tenant(tenant), manager)
            try:
                await disable_pack(scope, manager, name)
            except DomainError as exc:
                raise _fail(exc.text()) from exc

    asyncio.run(run())
    err.print(f"[green]{name} disabled for {tenant}[/]; goals made from it are kept")


@app.command()
def enabled(tenant: Annotated[str, typer.Option(help="Tenant slug.")]) -> None:
    """The packs a tenant enabled, with their stages."""

    async def run() -> list[PackEnablement]:
        async with connected(get_settings().database_url):
            row = await _tenant(tenant)
            return await PackEnablement.filter(tenant_id=row.id).order_by("pack")

    rows = asyncio.run(run())
    table = Table("pack", "stages")
    for row in rows:
        table.add_row(row.pack, ", ".join(row.stages))
    out.print(table)


@app.command()
def new(
    name: str,
    directory: Annotated[Path | None, typer.Option(help="Where to create it.")] = None,
    title_zh: Annotated[str | None, typer.Option(help="Chinese title.")] = None,
    title_en: Annotated[str | None, typer.Option(help="English title.")] = None,
) -> None:
    """Scaffold a new pack as its own installable distribution (pyproject, pack, test)."""
    import copier

    from .manager import goalgraph_version

    target = directory or Path.cwd() / f"goalgraph-pack-{name}"
    if target.exists() and any(target.iterdir()):
        raise _fail(msg("cli.target_not_empty", target=target))
    data = {"name": name, "goalgraph_version": goalgraph_version()}
    if title_zh:
        data["title_zh"] = title_zh
    if title_en:
        data["title_en"] = title_en
    try:
        copier.run_copy(str(SCAFFOLD), target, data=data, defaults=True, quiet=True)
    except (ValueError, copier.errors.CopierError) as exc:
        raise _fail(msg("cli.cannot_scaffold", name=name, reason=str(exc))) from exc
    err.print(f"[green]created {target}[/]\n  cd {target}\n  pip install -e '.\\[test]'\n  pytest")
    print(target)
