"""The ``goalgraph`` command: serve, worker, migrate, demo, token, schema.

Each command that touches the database runs in exactly one event loop and closes
its connections before exiting. Messages go to stderr; machine-readable output
(the token, the SDL) goes to stdout so scripts can take it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ..plugins.cli import app as packs_app
from . import rls
from .db import (
    check_connection_role,
    connected,
    is_postgres,
    migrate_as_owner,
    redact_url,
    require_migrated,
)
from .enums import Role
from .errors import DomainError
from .i18n import LOCALES, Msg, cli_locale, msg, normalise, text, use_locale
from .identity import Identity, mint_token
from .logs import uvicorn_log_config
from .settings import DEV_SECRET, ConfigError, Settings, get_settings
from .tenant_cli import app as tenant_app

if TYPE_CHECKING:
    from .models import Tenant

app = typer.Typer(help="goalgraph: OKR and KPI as one goal graph.", no_args_is_help=True)
app.add_typer(packs_app, name="packs")
app.add_typer(tenant_app, name="tenant")
err = Console(stderr=True)


def _fail(message: Msg | str) -> typer.Exit:
    """One error line, in the CLI's language (``cli_locale``); exit code 2."""
    line = f"[bold red]{escape(msg('cli.error').render())}:[/] {escape(text(message))}"
    err.print(line, soft_wrap=True)
    return typer.Exit(code=2)


async def _tenant_named(slug: str, demo_hint: bool = False) -> Tenant:
    """The tenant a command names (``--tenant``), the task bound to it (``core/rls``),
    or a one-line refusal."""
    from .models import Tenant

    row = await Tenant.get_or_none(slug=slug)
    if row is None:
        raise _fail(
            msg("cli.no_tenant_run_demo", slug=slug)
            if demo_hint
            else msg("tenant.unknown", slug=slug)
        )
    rls.bind(row.id)
    return row


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    reload: Annotated[bool, typer.Option(help="Restart on code changes.")] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            envvar="GOALGRAPH_WORKERS",
            help="Server processes sharing the port (PostgreSQL only; each keeps its own "
            "pool of GOALGRAPH_DB_POOL_SIZE connections).",
        ),
    ] = 1,
) -> None:
    """Run the server: the page at /, the GraphQL API (and GraphiQL) at /graphql."""
    import uvicorn

    settings = get_settings()
    if workers > 1 and not is_postgres(settings.database_url):
        raise _fail(msg("cli.workers_need_postgres", workers=workers))
    if workers > 1 and reload:
        raise _fail(msg("cli.workers_or_reload"))
    if workers > 1 and not settings.redis_url:
        err.print(f"[yellow]{escape(msg('cli.workers_local_limits', workers=workers).render())}[/]")
    if settings.secret == DEV_SECRET:
        err.print(
            "[yellow]tokens are signed with the development secret: "
            "set GOALGRAPH_SECRET before serving real data[/]"
        )
    asyncio.run(_ready_to_serve(settings))
    database = redact_url(settings.database_url)
    processes = f", {workers} workers" if workers > 1 else ""
    err.print(
        f"goalgraph on http://{host}:{port}/ (the API at /graphql; database: {database}{processes})"
    )
    # uvicorn closes a websocket whose message is over the limit (1009) before the app
    # reads it; the app checks the same limit when served some other way
    uvicorn.run(
        "goalgraph.core.app:create_app",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        workers=workers,
        ws_max_size=settings.ws_max_message_bytes,
        log_config=uvicorn_log_config(settings),
    )


async def _ready_to_serve(settings: Settings) -> None:
    """What the server's start-up would refuse, refused here as one line instead of a
    traceback from its lifespan: an unreachable or unmigrated database, and in
    production a connection role that row-level security does not bind."""
    async with connected(settings.database_url):
        await require_migrated(settings.database_url)
        if is_postgres(settings.database_url):
            await check_connection_role(production=settings.production)


@app.command()
def worker() -> None:
    """Run the scheduler alone, without an HTTP server: due syncs every
    GOALGRAPH_SYNC_POLL_SECONDS and each tenant's feedback-loop scan every
    GOALGRAPH_SCAN_EVERY_MINUTES, shared with any other worker on the database.

    SIGTERM or SIGINT stops it at once: the sync in flight is abandoned, and the next
    worker resumes it at its stored cursor.
    """
    from .app import run_worker

    settings = get_settings()
    if settings.sync_poll_seconds <= 0:
        raise _fail(msg("cli.worker_idle"))
    asyncio.run(_ready_to_serve(settings))
    scans = f"{settings.scan_every_minutes:g} min" if settings.scan_every_minutes else "off"
    err.print(
        f"goalgraph worker: syncs every {settings.sync_poll_seconds:g} s, scans {scans} "
        f"(database: {redact_url(settings.database_url)})",
        soft_wrap=True,
    )
    asyncio.run(_until_signalled(lambda stop: run_worker(settings, stop)))


async def _until_signalled(work: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run ``work`` with an event that SIGTERM and SIGINT set."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await work(stop)


@app.command("migrate")
def migrate_command() -> None:
    """Bring the database to the newest schema (safe to run again).

    On PostgreSQL it runs as GOALGRAPH_MIGRATE_DATABASE_URL's role when that is set (the
    tables' owner), puts every tenant table under row-level security and grants the
    role of GOALGRAPH_DATABASE_URL, which the app connects as, what it needs. It holds
    an advisory lock while it works, so a second run at the same time waits, then finds
    nothing to do.
    """

    def waiting() -> None:
        err.print(text(msg("cli.migrate_waiting")), soft_wrap=True)

    url = asyncio.run(migrate_as_owner(get_settings(), waiting))
    err.print(f"[green]database is up to date[/] ({redact_url(url)})")


@app.command()
def demo(
    pos_host: Annotated[str, typer.Option(help="Host of `goalgraph demo-pos`.")] = "127.0.0.1",
    pos_port: Annotated[int, typer.Option(help="Port of `goalgraph demo-pos`.")] = 8100,
) -> None:
    """Create the demo tenants, freshmart (retail) and textile (manufacturing), freshmart's
    store KPIs syncing from the demo POS at ``--pos-host``:``--pos-port``; a second run
    changes nothing but where the POS binding points."""
    from ..plugins.manufacturing.demo import seed_textile
    from ..plugins.retail.demo import pos_url, seed_demo

    settings = get_settings()
    url = settings.database_url

    async def run() -> None:
        await migrate_as_owner(settings)
        async with connected(url):
            if await seed_textile():
                err.print("[green]demo tenant 'textile' created[/] (the piece-rate disconnect)")
            summary = await seed_demo(pos=pos_url(pos_host, pos_port))
        verb = "created" if summary.created else "already present"
        err.print(f"[green]demo tenant {summary.tenant_slug!r} {verb}[/]: {summary.describe()}")
        err.print(
            "get a token:  goalgraph token --tenant "
            f"{summary.tenant_slug} --role admin --person {summary.admin_person_id}"
        )
        print(summary.tenant_slug)

    asyncio.run(run())


@app.command("demo-pos")
def demo_pos(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8100,
) -> None:
    """Serve the demo point-of-sale API that freshmart's demo binding pulls from."""
    from aiohttp import web

    from ..plugins.retail.pos_demo import pos_app

    err.print(f"demo POS on http://{host}:{port}/api/sales (Ctrl-C stops it)")
    web.run_app(pos_app(), host=host, port=port, print=None)


@app.command()
def token(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    role: Annotated[Role, typer.Option(help="Role carried by the token.")],
    person: Annotated[
        str | None, typer.Option(help="Person id or email the token speaks for.")
    ] = None,
    hours: Annotated[int | None, typer.Option(help="Lifetime; default from settings.")] = None,
    locale: Annotated[
        str | None, typer.Option(help="Language of the messages the token reads: zh-CN or en.")
    ] = None,
) -> None:
    """Mint a development access token; the token is printed alone on the last line."""
    from .models import Person

    settings = get_settings()
    if settings.env == "production":
        raise _fail(msg("cli.token_in_production"))

    chosen = normalise(locale)
    if locale is not None and chosen is None:
        raise _fail(msg("people.unknown_locale", locale=locale, known=LOCALES))

    async def run() -> str:
        async with connected(settings.database_url):
            row = await _tenant_named(tenant, demo_hint=True)
            person_id: int | None = None
            if person is not None:
                query = Person.filter(tenant_id=row.id)
                query = (
                    query.filter(id=int(person)) if person.isdigit() else query.filter(email=person)
                )
                who = await query.first()
                if who is None:
                    raise _fail(msg("cli.no_person", person=person, tenant=tenant))
                person_id = who.id
                err.print(f"token for {who.name} ({who.name_en or who.email}) as {role.value}")
            identity = Identity(row.id, row.slug, role, person_id, locale=chosen)
            ttl = timedelta(hours=hours or settings.token_ttl_hours)
            return mint_token(identity, settings.secret, ttl)

    print(asyncio.run(run()))


@app.command()
def roles() -> None:
    """Print the role matrix (core/roles.toml) as the Markdown tables of docs/security.md."""
    from .roles import markdown_table

    print(markdown_table(), end="")


@app.command()
def sync(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's bindings.")] = None,
    binding: Annotated[int | None, typer.Option(help="Only this binding (its id).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every active binding.")] = False,
) -> None:
    """Run data syncs now, with live progress and a summary; exit code 1 if one failed."""
    import aiohttp

    from ..adapters.progress import sync_with_progress
    from ..plugins.manager import PackManager
    from .app import make_syncer
    from .enums import SyncStatus
    from .models import DataBinding

    if binding is None and tenant is None and not all_:
        raise _fail(msg("cli.sync_target"))
    settings = get_settings()
    manager = PackManager.discover()

    async def run() -> bool:
        async with connected(settings.database_url), aiohttp.ClientSession() as session:
            query = DataBinding.filter(active=True)
            if binding is not None:
                query = DataBinding.filter(id=binding)
            if tenant is not None:
                row = await _tenant_named(tenant)
                query = query.filter(tenant_id=row.id)
            with rls.every_tenant():  # an operator's command: ids and --all span tenants
                bindings = await query.order_by("id")
            if not bindings:
                raise _fail(msg("cli.no_binding_matches"))
            syncer = make_syncer(settings, manager, session)
            results = await sync_with_progress(syncer, bindings, err)
            return all(
                r is not None and r.status is not SyncStatus.FAILED for _, r, _, _ in results
            )

    if not asyncio.run(run()):
        raise typer.Exit(code=1)


@app.command("import")
def import_command(
    file: Annotated[
        Path, typer.Argument(help="A .csv or .xlsx file.", exists=True, dir_okay=False)
    ],
    binding: Annotated[
        int | None, typer.Option(help="A file binding whose mapping to use.")
    ] = None,
    kpi: Annotated[int | None, typer.Option(help="The one KPI the file is for.")] = None,
    period_column: Annotated[str, typer.Option(help="With --kpi: the date column.")] = "period",
    value_column: Annotated[str, typer.Option(help="With --kpi: the value column.")] = "value",
    encoding: Annotated[
        str, typer.Option(help="auto (UTF-8, else GBK/GB18030) or a codec.")
    ] = "auto",
    sheet: Annotated[str | None, typer.Option(help="xlsx: the sheet (default: the first).")] = None,
) -> None:
    """Import KPI values from a CSV or Excel file; bad rows are listed by line number."""
    from rich.table import Table

    from ..adapters.contract import AdapterError
    from ..adapters.imports import binding_for_kpi, import_file
    from ..plugins.manager import PackManager
    from ..plugins.view import system_scope
    from .models import DataBinding, Kpi, RejectedRow, Tenant
    from .secrets import SecretBox
    from .settings import secret_box_key

    if (binding is None) == (kpi is None):
        raise _fail(msg("cli.import_target"))
    settings = get_settings()
    manager = PackManager.discover()

    async def run() -> None:
        async with connected(settings.database_url):
            if kpi is not None:
                with rls.every_tenant():  # an operator's command: the id names the tenant
                    row = await Kpi.get_or_none(id=kpi)
                if row is None:
                    raise _fail(msg("cli.no_kpi", id=kpi))
                scope = system_scope(await Tenant.get(id=row.tenant_id), manager)
                box = SecretBox(secret_box_key(settings))
                target = await binding_for_kpi(
                    scope,
                    box,
                    row,
                    period_column=period_column,
                    value_column=value_column,
                    encoding=encoding,
                    sheet=sheet,
                )
            else:
                with rls.every_tenant():
                    found = await DataBinding.get_or_none(id=binding)
                if found is None:
                    raise _fail(msg("cli.no_binding", id=binding))
                target = found
                scope = system_scope(await Tenant.get(id=found.tenant_id), manager)
            try:
                result = await import_file(scope, target, file.read_bytes(), file.name)
            except AdapterError as exc:
                raise _fail(msg("cli.file_problem", file=file.name, problem=str(exc))) from exc
            err.print(
                f"[green]{file.name}[/]: read {result.rows_read:,}, written "
                f"{result.rows_written:,}, rejected {result.rows_rejected:,} "
                f"(binding {target.name!r}, run {result.id})"
            )
            rejected = await RejectedRow.filter(run_id=result.id).order_by("id").limit(20)
            if rejected:
                table = Table("where", "why", title="rejected rows (first 20)")
                for r in rejected:
                    table.add_row(r.ref, r.reason)
                err.print(table)

    asyncio.run(run())


report_app = typer.Typer(help="Analysis reports, as CSV.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("cross")
def report_cross(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    cycle: Annotated[
        str | None, typer.Option(help="Cycle name (default: the current one).")
    ] = None,
    unit: Annotated[str | None, typer.Option(help="Org unit code (default: the company).")] = None,
) -> None:
    """The cross report (交叉分析报告) as CSV on stdout: per unit, OKR grade beside KPI
    attainment, lagging KPIs, alerts and disconnects."""
    import csv
    from datetime import date

    from ..plugins.manager import PackManager
    from ..plugins.view import system_scope, tenant_packs
    from .insights.report import company_of, cross_report
    from .models import Cycle, OrgUnit
    from .scoring import service

    settings = get_settings()
    manager = PackManager.discover()

    async def run() -> list[list[str]]:
        async with connected(settings.database_url):
            row = await _tenant_named(tenant)
            scope = system_scope(row, manager)
            cycle_id = None
            if cycle is not None:
                found = await scope.query(Cycle).filter(name=cycle).first()
                if found is None:
                    raise _fail(msg("cli.no_cycle", cycle=cycle, tenant=tenant))
                cycle_id = found.id
            root = await company_of(scope)
            if unit is not None:
                picked = await scope.query(OrgUnit).filter(code=unit).first()
                if picked is None:
                    raise _fail(msg("cli.no_unit_code", unit=unit, tenant=tenant))
                root = picked
            packs = await tenant_packs(scope, manager)
            scored = await service.score(
                scope, cycle_id, packs.stage_presets(), packs.scoring_policy, date.today()
            )
            rows, _ = await cross_report(scope, scored, root.path)
            return [
                [
                    r.unit.code or "",
                    r.unit.name,
                    r.unit.name_en,
                    _fmt(r.okr_grade),
                    _fmt(r.kpi_score),
                    _fmt(r.combined),
                    str(r.alerts),
                    "; ".join(k.metric_code for k in r.lagging),
                    "; ".join(
                        f"{d.execution.title} → {d.outcome.title} ({d.finding.strength:.2f})"
                        for d in r.disconnects
                    ),
                ]
                for r in rows
            ]

    rows = asyncio.run(run())
    out = csv.writer(sys.stdout)
    out.writerow(
        [
            "code",
            "unit",
            "unit_en",
            "okr_grade",
            "kpi_score",
            "combined_score",
            "open_alerts",
            "lagging_kpis",
            "disconnects",
        ]
    )
    out.writerows(rows)


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


scim_app = typer.Typer(help="SCIM provisioning for identity providers.", no_args_is_help=True)
app.add_typer(scim_app, name="scim")


@scim_app.command("credential")
def scim_credential(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    name: Annotated[str, typer.Option(help="What the credential is for (e.g. the IdP).")],
) -> None:
    """Create a SCIM credential for an identity provider; the secret is printed alone on
    the last line, this once (only its hash is kept)."""
    from .access_keys import create_scim_credential
    from .tenancy import Actor, TenantScope

    settings = get_settings()

    async def run() -> str:
        async with connected(settings.database_url):
            row = await _tenant_named(tenant)
            system = TenantScope(row, Identity(row.id, row.slug, Role.ADMIN), Actor(None, None))
            made = await create_scim_credential(system, name)
            err.print(
                f"[green]SCIM credential {made.key.name!r}[/] ({made.key.prefix}…) for "
                f"{row.slug!r}: base URL <server>/scim/v2, header 'Authorization: Bearer <secret>'"
            )
            return made.secret

    print(asyncio.run(run()))


@app.command()
def schema() -> None:
    """Print the GraphQL schema (SDL)."""
    from ..schema import build_schema

    print(build_schema().as_str())


org_app = typer.Typer(help="The org tree and its people.", no_args_is_help=True)
app.add_typer(org_app, name="org")

#: Changes listed per section of a roster diff unless --full is given.
_ROSTER_LISTED = 200


@org_app.command("import")
def org_import(
    file: Annotated[
        Path, typer.Argument(help="A roster: .csv or .xlsx.", exists=True, dir_okay=False)
    ],
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    dry_run: Annotated[bool, typer.Option(help="Show the changes; write nothing.")] = False,
    deactivate_missing: Annotated[
        bool, typer.Option(help="Deactivate active people who are not in the file.")
    ] = False,
    encoding: Annotated[
        str, typer.Option(help="auto (UTF-8, else GBK/GB18030) or a codec.")
    ] = "auto",
    sheet: Annotated[str | None, typer.Option(help="xlsx: the sheet (default: the first).")] = None,
    full: Annotated[bool, typer.Option(help="List every change, not the first 200.")] = False,
) -> None:
    """Import a roster (花名册): units and people from CSV or Excel, upserted by 工号.
    Bad rows are listed by line and nothing is written (exit code 2)."""

    from ..adapters.contract import AdapterError
    from ..adapters.roster_file import read_roster
    from ..plugins.manager import PackManager
    from ..plugins.view import system_scope
    from .roster import RosterPlan, apply_roster, plan_roster

    settings = get_settings()
    out = Console(soft_wrap=True, highlight=False)

    def show(plan: RosterPlan) -> None:
        counts = plan.counts()
        out.print(
            f"[bold]{escape(file.name)}[/]: {counts['rows']:,} rows · units to add "
            f"{counts['units_added']:,} · units changed {counts['units_changed']:,} · people "
            f"to add {counts['people_added']:,} · moved {counts['people_moved']:,} · changed "
            f"{counts['people_changed']:,} · missing {counts['missing']:,}"
        )
        sections = (
            ("Units to add", "+", plan.units_added),
            ("Units renamed or moved", "~", plan.units_changed),
            ("People to add", "+", plan.people_added),
            ("People moved", "~", plan.people_moved),
            ("People changed", "~", plan.people_changed),
            (
                "Missing from the file (leavers"
                + (", deactivated)" if plan.deactivate_missing else "; --deactivate-missing)"),
                "-",
                plan.missing,
            ),
        )
        for title, mark, changes in sections:
            if not changes:
                continue
            out.print(f"[bold]{title}[/] ({len(changes):,})")
            for change in changes if full else changes[:_ROSTER_LISTED]:
                where = f"line {change.line}  " if change.line is not None else ""
                fields = "; ".join(
                    f"{f.field} {f.before or '—'} → {f.after or '—'}"
                    if f.before is not None
                    else f"{f.field} {f.after or '—'}"
                    for f in change.fields
                )
                text = f"{change.subject}: {fields}" if fields else change.subject
                out.print(f"  {mark} {where}{escape(text)}")
            if not full and len(changes) > _ROSTER_LISTED:
                out.print(f"  … {len(changes) - _ROSTER_LISTED:,} more (--full lists them)")

    async def run() -> RosterPlan:
        async with connected(settings.database_url):
            row = await _tenant_named(tenant)
            scope = system_scope(row, PackManager.discover())
            try:
                rows = read_roster(file.read_bytes(), file.name, encoding=encoding, sheet=sheet)
            except AdapterError as exc:
                raise _fail(msg("cli.file_problem", file=file.name, problem=str(exc))) from exc
            plan = await plan_roster(scope, rows, deactivate_missing=deactivate_missing)
            if plan.ok and not dry_run:
                await apply_roster(scope, plan)
            return plan

    plan = asyncio.run(run())
    show(plan)
    if not plan.ok:
        for problem in plan.problems:
            err.print(
                f"[red]{escape(file.name)}:[/] {escape(text(problem.describe()))}", soft_wrap=True
            )
        raise _fail(msg("cli.nothing_imported", count=len(plan.problems)))
    if dry_run:
        out.print("dry run: nothing was written")
    elif plan.empty:
        out.print("nothing to change: the tenant already matches the file")
    else:
        out.print("[green]applied[/]")


def main() -> None:
    """Console entry point; domain refusals and configuration errors become one clear
    line, in the reader's language, and exit code 2."""
    with use_locale(cli_locale(os.environ)):
        try:
            app()
        except DomainError as exc:
            _fail(exc.text())
            sys.exit(2)
        except ConfigError as exc:
            _fail(exc.text())
            sys.exit(2)


if __name__ == "__main__":
    main()
