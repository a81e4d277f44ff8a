"""Running syncs from a terminal: a live line per binding, then a summary table."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..core.enums import SyncStatus
from ..core.models import DataBinding, SyncRun, Tenant
from .runner import SyncBusy
from .syncer import Syncer, UnknownAdapter

_STYLE = {
    SyncStatus.SUCCEEDED: "green",
    SyncStatus.PARTIAL: "yellow",
    SyncStatus.FAILED: "red",
    SyncStatus.RUNNING: "cyan",
}


async def sync_with_progress(
    syncer: Syncer, bindings: list[DataBinding], console: Console
) -> list[tuple[DataBinding, SyncRun | None, str, float]]:
    """Run each binding once, showing rows as they are stored; returns, per binding,
    its run (None when it could not start), a note and the seconds it took."""
    results: list[tuple[DataBinding, SyncRun | None, str, float]] = []
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        for binding in bindings:
            task = progress.add_task(binding.name, counts="starting", total=None)

            def show(run: SyncRun, task_id: TaskID = task) -> None:
                progress.update(
                    task_id,
                    counts=f"read {run.rows_read:,} · written {run.rows_written:,} · "
                    f"rejected {run.rows_rejected:,}",
                )

            tenant = await Tenant.get(id=binding.tenant_id)
            started = time.perf_counter()
            try:
                run = await syncer.run(syncer.system_scope(tenant), binding, "cli", show)
            except (SyncBusy, UnknownAdapter) as exc:
                refusal = exc.message.render()  # in the CLI's language
                progress.update(task, counts=f"[yellow]{refusal}[/]", total=1, completed=1)
                results.append((binding, None, refusal, time.perf_counter() - started))
                continue
            show(run)
            progress.update(task, total=1, completed=1)
            results.append((binding, run, run.error, time.perf_counter() - started))
    console.print(summary(results))
    return results


def summary(results: list[tuple[DataBinding, SyncRun | None, str, float]]) -> Table:
    table = Table("binding", "status", "read", "written", "rejected", "rows/s", "note")
    for binding, run, note, seconds in results:
        if run is None:
            table.add_row(binding.name, "[yellow]not run[/]", "", "", "", "", note)
            continue
        rate = f"{run.rows_read / seconds:,.0f}" if seconds > 0 else ""
        style = _STYLE[run.status]
        table.add_row(
            binding.name,
            f"[{style}]{run.status.value}[/]",
            f"{run.rows_read:,}",
            f"{run.rows_written:,}",
            f"{run.rows_rejected:,}",
            rate,
            note[:80],
        )
    return table
