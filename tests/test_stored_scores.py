"""Stored scores stay exactly what a computation from scratch gives, through real writes.

The demo tenant is seeded through the services (its scores are kept along each
write's path from the first one); then every kind of write that can move a score hits
it, and after each the stored scores of every cycle must equal ``score_cycle`` over
the freshly loaded cycle, number for number.
"""

from __future__ import annotations

from datetime import date

import httpx
from tortoise import Tortoise

from goalgraph.core.enums import GoalKind, GoalStatus
from goalgraph.core.models import Cycle, KeyResult, Kpi, KpiLink, Objective, Person, Score, Tenant
from goalgraph.core.scoring.engine import score_cycle
from goalgraph.core.scoring.load import load_cycle
from goalgraph.core.services import key_results, kpis, objectives
from goalgraph.core.services.measurements import MeasurementInput, record_measurements
from goalgraph.core.services.stages import set_lifecycle_stage
from goalgraph.core.tenancy import TenantScope
from goalgraph.plugins.enablement import disable_pack, enable_pack
from goalgraph.plugins.manager import PackManager
from goalgraph.plugins.retail.demo import seed_demo
from goalgraph.plugins.view import bind_policies

from .factories import build_chain, make_company, scope_for
from .sqlcount import count_statements

TODAY = date(2026, 11, 28)


async def _admin_scope(manager: PackManager) -> TenantScope:
    summary = await seed_demo(TODAY, manager)
    tenant = await Tenant.get(id=summary.tenant_id)
    admin = await Person.get(id=summary.admin_person_id).prefetch_related("org_unit")
    return bind_policies(scope_for(tenant, admin, admin.org_unit), manager)


async def _assert_stored_equals_scratch(scope: TenantScope) -> int:
    """Compare every cycle; returns how many scores were compared."""
    lookup = await scope.scoring_policies()
    compared = 0
    for cycle in await scope.query(Cycle).order_by("id"):
        assert cycle.scores_built_at is not None
        scratch = score_cycle(await load_cycle(scope, cycle), lookup)
        rows = await scope.query(Score).filter(cycle_id=cycle.id)
        stored = {(GoalKind(r.kind), r.node_id): (r.value, r.score) for r in rows}
        expected = {
            **{
                (GoalKind.KPI, k): (scratch.rows.values[k] if scratch.rows else None, e.score)
                for k, e in scratch.kpis.items()
            },
            **{(GoalKind.KEY_RESULT, k): (None, g) for k, g in scratch.key_results.items()},
            **{(GoalKind.OBJECTIVE, o): (None, g) for o, g in scratch.objectives.items()},
        }
        assert stored == expected, f"cycle {cycle.name}"
        compared += len(expected)
    return compared


async def test_stored_scores_equal_scratch_after_every_kind_of_write(
    client: httpx.AsyncClient,
) -> None:
    manager = PackManager.discover()
    scope = await _admin_scope(manager)
    assert await _assert_stored_equals_scratch(scope) > 100

    active = GoalStatus.ACTIVE
    links = await scope.query(KpiLink).filter(kpi__status=active).order_by("id")
    fed = await scope.many(Kpi, [link.kpi_id for link in links])
    first, second = fed[links[0].kpi_id], fed[links[-1].kpi_id]

    # measurements: a period written again, and a new one
    await record_measurements(
        scope,
        [
            MeasurementInput(first.id, TODAY, (first.current_value or 1) * 1.7),
            MeasurementInput(second.id, date(2026, 11, 29), 0.5),
        ],
    )
    await _assert_stored_equals_scratch(scope)

    # a KPI's target, then its policy
    await kpis.update_kpi(scope, first.id, {"target": first.target * 1.5})
    await kpis.update_kpi(scope, second.id, {"scoring_policy": "pass_fail"})
    await _assert_stored_equals_scratch(scope)

    # links: a new weight, a new link, one removed
    link = links[1]
    await kpis.link_kpi(scope, key_result_id=link.key_result_id, kpi_id=link.kpi_id, weight=3.5)
    key_result = await scope.query(KeyResult).filter(status=active).order_by("-id").first()
    assert key_result is not None
    await kpis.link_kpi(scope, key_result_id=key_result.id, kpi_id=first.id, weight=0.4)
    await kpis.unlink_kpi(scope, key_result_id=links[2].key_result_id, kpi_id=links[2].kpi_id)
    await _assert_stored_equals_scratch(scope)

    # key results: a weight, a check-in, one archived
    graded = await scope.query(KeyResult).filter(status=active).order_by("id")
    await key_results.update_key_result(scope, graded[0].id, {"weight": 2.5})
    await key_results.check_in(scope, key_result_id=graded[1].id, value=graded[1].target_value)
    await key_results.archive_key_result(scope, graded[2].id)
    await _assert_stored_equals_scratch(scope)

    # objectives: alignment weight, a move, a new one with a key result, an archive
    aligned = await scope.query(Objective).filter(status=active, depth=1).order_by("id")
    roots = await scope.query(Objective).filter(status=active, depth=0).order_by("id")
    await objectives.update_objective(scope, aligned[0].id, {"alignment_weight": 4.0})
    other_root = next(
        r for r in roots if r.id != aligned[1].parent_id and r.cycle_id == aligned[1].cycle_id
    )
    await objectives.update_objective(scope, aligned[1].id, {"parent_id": other_root.id})
    new = await objectives.create_objective(
        scope,
        title="新目标",
        cycle_id=roots[0].cycle_id,
        owner_unit_id=roots[0].owner_unit_id,
        parent_id=roots[0].id,
    )
    await key_results.create_key_result(
        scope, objective_id=new.id, title="新关键成果", target_value=10, current_value=4
    )
    await objectives.archive_objective(scope, aligned[-1].id)
    await _assert_stored_equals_scratch(scope)

    # a KPI archived: it stops feeding its key results
    await kpis.archive_kpi(scope, links[-2].kpi_id)
    await _assert_stored_equals_scratch(scope)

    # the pack (and its scoring policies) goes, and comes back
    await disable_pack(scope, manager, "retail")
    await _assert_stored_equals_scratch(scope)
    await enable_pack(scope, manager, "retail", ["growth"])
    await _assert_stored_equals_scratch(scope)


async def test_a_stage_switch_rewrites_no_score(client: httpx.AsyncClient) -> None:
    """Shares apply when a scorecard is read: switching stage leaves the store as it is."""
    manager = PackManager.discover()
    scope = await _admin_scope(manager)
    before = await scope.query(Score).order_by("id").values_list("id", "updated_at", "score")
    presets = {"startup": 0.7, "growth": 0.5, "mature": 0.3}
    tenant = await set_lifecycle_stage(scope, "mature", presets)
    after = await scope.query(Score).order_by("id").values_list("id", "updated_at", "score")
    assert tenant.lifecycle_stage == "mature"
    assert len(before) > 100
    assert before == after


async def test_a_write_costs_the_same_statements_whatever_the_tree_size(
    client: httpx.AsyncClient,
) -> None:
    """The path update loads the path, not the tenant: one measurement under a
    14-objective tree and under a 39-objective one send the same statements."""
    counts = []
    for slug, width in (("small", 2), ("large", 3)):
        company = await make_company(slug)
        made = await build_chain(company, depth=3, width=width)
        kpi = made["kpis"][-1]
        await record_measurements(company.scope, [MeasurementInput(kpi.id, TODAY, 3.0)])
        with count_statements() as statements:
            await record_measurements(company.scope, [MeasurementInput(kpi.id, TODAY, 2.5)])
        counts.append(len(statements))
        await _assert_stored_equals_scratch(company.scope)
    assert counts[0] == counts[1]
    # on PostgreSQL the live update is one more statement of the write's transaction
    # (its NOTIFY, core/pgbus.py); SQLite's in-process bus sends none
    on_postgres = Tortoise.get_connection("default").capabilities.dialect == "postgres"
    assert counts[1] <= 21 + on_postgres
