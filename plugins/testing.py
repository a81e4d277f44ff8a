"""The conformance kit: what a pack's own test suite calls to prove the pack works.

``check_pack("mypack")`` loads the installed pack the way the server does, fails with
the loader's own message if anything does not validate, then applies every KPI and OKR
template to a fresh tenant in a throwaway SQLite database::

    from goalgraph.plugins.testing import check_pack

    def test_pack_conforms():
        report = check_pack("mypack")
        assert report.kpis_created >= 1
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..core.db import connected, migrate
from ..core.enums import CycleKind, OrgUnitKind, Role
from ..core.identity import Identity
from ..core.models import KpiLink, OrgUnit, Person
from ..core.services import org
from ..core.stages import BUILT_IN_STAGES
from ..core.tenancy import Actor, TenantScope
from .apply import apply_okr_template, create_kpi_from_template
from .enablement import enable_pack
from .manager import LoadedPack, PackManager
from .view import bind_policies, tenant_packs


@dataclass(frozen=True)
class ConformanceReport:
    """What applying the pack to a fresh tenant produced."""

    pack: LoadedPack
    kpis_created: int
    objectives_created: int
    links_created: int


def check_pack(name: str, plugin: object | None = None) -> ConformanceReport:
    """Load pack ``name`` (installed, or ``plugin`` given directly) and apply all of it.

    Raises ``AssertionError`` naming the pack and the problem when it does not conform.
    """
    return asyncio.run(check_pack_async(name, plugin))


async def check_pack_async(name: str, plugin: object | None = None) -> ConformanceReport:
    manager = PackManager.discover(extra=[(name, plugin)] if plugin is not None else [])
    pack = manager.packs.get(name)
    if pack is None:
        raise AssertionError(
            f"pack {name!r} is not installed: is its entry point in the "
            "'goalgraph.packs' group, and is the distribution installed (pip install -e .)?"
        )
    if not pack.ok:
        raise AssertionError(f"pack {name!r} does not load: {pack.error}")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite://{Path(tmp) / 'conformance.sqlite3'}"
        await migrate(url)
        async with connected(url):
            return await _apply_everything(manager, pack)


async def _apply_everything(manager: PackManager, pack: LoadedPack) -> ConformanceReport:
    tenant, root = await org.create_tenant(slug="conformance", name="一致性测试", name_en="Check")
    admin = await Person.create(
        tenant_id=tenant.id, name="顾问", role=Role.ADMIN, org_unit_id=root.id
    )
    scope = bind_policies(
        TenantScope(
            tenant, Identity(tenant.id, tenant.slug, Role.ADMIN, admin.id), Actor(admin, root.path)
        ),
        manager,
    )
    units: dict[str, OrgUnit] = {"company": root}
    for kind, parent in (
        ("region", "company"),
        ("store", "region"),
        ("department", "company"),
        ("team", "department"),
    ):
        units[kind] = await org.create_org_unit(
            scope, name=kind, kind=OrgUnitKind(kind), parent_id=units[parent].id
        )
    person = await org.create_person(scope, name="员工", org_unit_id=units["store"].id)
    today = date.today()
    cycle = await org.create_cycle(
        scope,
        name="check",
        kind=CycleKind.YEAR,
        starts_on=date(today.year, 1, 1),
        ends_on=date(today.year, 12, 31),
    )
    await enable_pack(scope, manager, pack.name, [*BUILT_IN_STAGES, *pack.stages])
    view = await tenant_packs(scope, manager)
    kpis = 0
    for template in pack.kpi_templates.values():
        owner = (
            {"owner_person_id": person.id}
            if template.level == "person"
            else {"owner_unit_id": units[template.level].id}
        )
        try:
            await create_kpi_from_template(scope, view, pack=pack.name, code=template.code, **owner)
        except Exception as exc:
            raise AssertionError(
                f"pack {pack.name!r}, KPI template {template.code!r} cannot be applied: {exc}"
            ) from exc
        kpis += 1
    objectives = 0
    for okr in pack.okr_templates.values():
        try:
            await apply_okr_template(
                scope,
                view,
                pack=pack.name,
                code=okr.code,
                cycle_id=cycle.id,
                owner_unit_id=units.get(okr.level, root).id,
                unit_ids=[u.id for k, u in units.items() if k != "company"],
            )
        except Exception as exc:
            raise AssertionError(
                f"pack {pack.name!r}, OKR template {okr.code!r} cannot be applied: {exc}"
            ) from exc
        objectives += 1
    links = await KpiLink.filter(tenant_id=tenant.id).count()
    return ConformanceReport(pack, kpis, objectives, links)
