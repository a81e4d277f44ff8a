"""Importing a CSV or Excel file someone hands over (``goalgraph import``).

A file goes in through a binding of the ``file`` adapter, whose configuration says
which columns hold what, so an import is recorded like any sync: a run with its counts
and its rejected rows (with their line numbers). For a file of one KPI, a binding for
that KPI is made on first use and kept, so the next import of the same export needs
no options.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from ..core.enums import SyncStatus
from ..core.models import DataBinding, Kpi, SyncRun
from ..core.secrets import SecretBox
from ..core.tenancy import TenantScope
from .bindings import BindingInput, create_binding
from .contract import AdapterError
from .files import FileAdapter, FileConfig, chunked, parse_table
from .resolve import KpiResolver
from .runner import store_batch


async def import_file(
    scope: TenantScope, binding: DataBinding, data: bytes, filename: str
) -> SyncRun:
    """Parse ``data`` with the binding's column mapping and store it as one run;
    AdapterError (nothing stored) when the file cannot be read at all."""
    if binding.adapter != FileAdapter.name:
        raise AdapterError(
            f"binding {binding.name!r} uses adapter {binding.adapter!r}; "
            f"imports need a {FileAdapter.name!r} binding"
        )
    config = FileConfig.model_validate(binding.config)
    batch = await asyncio.to_thread(parse_table, data, config, filename)
    run = await scope.create(
        SyncRun, binding_id=binding.id, trigger="import", started_at=datetime.now(UTC)
    )
    resolver = await KpiResolver.load(scope, binding)
    for chunk in chunked(batch):
        await store_batch(scope, binding, run, None, chunk, resolver)
    run.status = SyncStatus.PARTIAL if run.rows_rejected else SyncStatus.SUCCEEDED
    run.finished_at = datetime.now(UTC)
    await run.save(update_fields=["status", "finished_at", "updated_at"])
    return run


async def binding_for_kpi(
    scope: TenantScope,
    box: SecretBox,
    kpi: Kpi,
    *,
    period_column: str,
    value_column: str,
    encoding: str = "auto",
    sheet: str | None = None,
) -> DataBinding:
    """The file binding that feeds ``kpi`` alone, made with this mapping if missing."""
    found = (
        await scope.query(DataBinding)
        .filter(adapter=FileAdapter.name, kpi_id=kpi.id)
        .order_by("id")
        .first()
    )
    config = {
        "subject_column": None,
        "period_column": period_column,
        "values": {value_column: kpi.metric_code},
        "encoding": encoding,
        "sheet": sheet,
    }
    if found is not None:
        found.config = config
        await found.save(update_fields=["config", "updated_at"])
        return found
    return await create_binding(
        scope,
        {FileAdapter.name: FileAdapter},
        box,
        BindingInput(
            name=f"文件导入 / file import: {kpi.title} (KPI {kpi.id})"[:200],
            adapter=FileAdapter.name,
            config=config,
            kpi_id=kpi.id,
        ),
    )
