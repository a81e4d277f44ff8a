"""Applying a directory page through the roster engine (``core.roster``), the one place
the rules for units and people live.

A units page becomes ``RosterUnit``s: each department by its path of names under the
company and its directory id, so renames and moves follow. A people page becomes
``RosterRow``s matched by the directory's user id (and employee number): the department
path of the person's unit, their manager's employee number, email, title and role.
The engine refuses a whole plan while it has any problem, and a directory sync should
not stop for one bad person, so rows with problems are taken out as rejected rows
(with the engine's reason) and the rest is planned again.

Both lists also carry the units above the page's units and people, by directory id, so
a unit is found by its id, never by a name another unit happens to share.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from ..core.errors import ErrorCode
from ..core.i18n import text
from ..core.models import OrgSourceMember, OrgUnit, Person
from ..core.roster import RosterPlan, RosterRow, RosterUnit, apply_roster, plan_roster
from ..core.tenancy import TenantScope
from .contract import AdapterError, Rejection
from .org_source import DirectoryPerson, OrgPage

#: Problems about a person's manager: the person is kept, with the org tree's manager.
_MANAGER_PROBLEMS = {ErrorCode.NOT_FOUND, ErrorCode.INACTIVE, ErrorCode.MANAGER_LOOP}


@dataclass
class Applied:
    """What a page changed: rows written, rows rejected, and managers not known yet
    (person's directory id → manager's), to set once the pass has read everyone."""

    written: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    pending: dict[str, str] = field(default_factory=dict)


class Tree:
    """The tenant's units as read once: name paths under the company, by directory id."""

    def __init__(self, units: Iterable[OrgUnit]) -> None:
        self.by_id = {u.id: u for u in units}
        self.by_external = {u.external_id: u for u in self.by_id.values() if u.external_id}
        self._paths: dict[int, tuple[str, ...]] = {}

    def path(self, unit: OrgUnit) -> tuple[str, ...]:
        """The unit's names under the company (the company itself: empty)."""
        found = self._paths.get(unit.id)
        if found is None:
            parent = self.by_id.get(unit.parent_id) if unit.parent_id is not None else None
            found = () if parent is None else (*self.path(parent), unit.name)
            self._paths[unit.id] = found
        return found

    def chain(self, unit: OrgUnit) -> list[RosterUnit]:
        """The unit and the units above it that came from a directory, as roster units."""
        found = []
        current: OrgUnit | None = unit
        while current is not None and current.parent_id is not None:
            if current.external_id:
                found.append(RosterUnit(self.path(current), current.external_id, current.name_en))
            current = self.by_id.get(current.parent_id)
        return found


def _changes(plan: RosterPlan) -> int:
    return (
        len(plan.units_added)
        + len(plan.units_changed)
        + len(plan.people_added)
        + len(plan.people_moved)
        + len(plan.people_changed)
    )


async def apply_units(scope: TenantScope, page: OrgPage) -> Applied:
    """Create, rename and move the page's departments (parents come before children)."""
    tree = Tree(await scope.query(OrgUnit).all())
    done = Applied()
    wanted: dict[str, RosterUnit] = {}
    paths: dict[str, tuple[str, ...]] = {}
    for unit in page.units:
        ref = unit.ref or f"department {unit.external_id}"
        if not unit.name:
            done.rejected.append(Rejection(ref, f"department {unit.external_id!r} has no name"))
            continue
        if unit.parent_id is None:
            above: tuple[str, ...] | None = ()
        elif unit.parent_id in paths:
            above = paths[unit.parent_id]
        else:
            parent = tree.by_external.get(unit.parent_id)
            above = tree.path(parent) if parent is not None else None
            if parent is not None:
                wanted.update({u.external_id or "": u for u in tree.chain(parent)})
        if above is None:
            done.rejected.append(
                Rejection(ref, f"department {unit.name!r}: unknown parent {unit.parent_id!r}")
            )
            continue
        paths[unit.external_id] = (*above, unit.name)
        wanted[unit.external_id] = RosterUnit(
            paths[unit.external_id], unit.external_id, unit.name_en
        )
    plan = await plan_roster(scope, [], list(wanted.values()))
    if plan.problems:
        raise AdapterError(
            "the directory's departments cannot be applied: "
            + "; ".join(str(p.describe()) for p in plan.problems)
        )
    await apply_roster(scope, plan)
    done.written = _changes(plan)
    return done


async def apply_people(scope: TenantScope, page: OrgPage, binding_id: int, pass_id: str) -> Applied:
    """Add and update the page's people; mark everyone the page names as seen."""
    tree = Tree(await scope.query(OrgUnit).all())
    done = Applied()
    named = {p.external_id for p in page.people} | {
        p.manager_id for p in page.people if p.manager_id
    }
    known = {
        p.external_id: p
        for p in await scope.query(Person).filter(external_id__in=sorted(named)).all()
        if p.external_id
    }
    in_page = {p.external_id: p for p in page.people}
    units: dict[str, RosterUnit] = {}
    rows: list[RosterRow] = []
    by_line: dict[int, DirectoryPerson] = {}
    for line, person in enumerate(page.people, start=1):
        ref = person.ref or f"person {person.external_id}"
        department: tuple[str, ...] = ()
        if person.unit_id is not None:
            unit = tree.by_external.get(person.unit_id)
            if unit is None or not unit.active:
                done.rejected.append(
                    Rejection(ref, f"unknown department {person.unit_id!r}", person.content)
                )
                continue
            department = tree.path(unit)
            units.update({u.external_id or "": u for u in tree.chain(unit)})
        manager_no: str | None = ""
        if person.manager_id and person.manager_id != person.external_id:
            manager_no = _employee_no(person.manager_id, in_page, known)
            if manager_no is None:
                done.pending[person.external_id] = person.manager_id
        by_line[line] = person
        rows.append(
            RosterRow(
                line=line,
                employee_no=person.employee_no,
                name=person.name,
                name_en=person.name_en,
                department=department,
                manager_no=manager_no or "",
                email=person.email,
                title=person.job_title,
                role=person.role or "",
                external_id=person.external_id,
            )
        )
    plan = await _plan_without_bad_rows(scope, rows, list(units.values()), by_line, done)
    await apply_roster(scope, plan)
    done.written = _changes(plan)
    await mark_seen(scope, binding_id, pass_id, [p.external_id for p in page.people])
    return done


def _employee_no(
    manager: str, in_page: dict[str, DirectoryPerson], known: dict[str, Person]
) -> str | None:
    """The manager's employee number as the roster names managers: from the page, else
    from the tenant ("" when the manager has none; None when nobody knows them yet)."""
    if manager in in_page:
        return in_page[manager].employee_no
    found = known.get(manager)
    if found is not None:
        return found.code or "" if found.active else ""
    return None


async def _plan_without_bad_rows(
    scope: TenantScope,
    rows: list[RosterRow],
    units: Sequence[RosterUnit],
    by_line: dict[int, DirectoryPerson],
    done: Applied,
) -> RosterPlan:
    """Plan, take out the rows with problems (a manager problem only clears the
    manager), and plan again until nothing stands in the way."""
    while True:
        plan = await plan_roster(scope, rows, units)
        if not plan.problems:
            return plan
        if any(p.line is None for p in plan.problems):
            raise AdapterError(
                "the directory's people cannot be applied: "
                + "; ".join(str(p.describe()) for p in plan.problems if p.line is None)
            )
        clear = {p.line or 0 for p in plan.problems if p.code in _MANAGER_PROBLEMS}
        bad = {p.line or 0 for p in plan.problems if p.code not in _MANAGER_PROBLEMS}
        for problem in plan.problems:
            if problem.line in bad:
                person = by_line[problem.line or 0]
                ref = person.ref or f"person {person.external_id}"
                done.rejected.append(Rejection(ref, text(problem.message, "en"), person.content))
        gone = {by_line[line].employee_no for line in bad if by_line[line].employee_no}
        kept = []
        for row in rows:
            if row.line in bad:
                continue
            if row.line in clear or (row.manager_no and row.manager_no in gone):
                row = replace(row, manager_no="")
            kept.append(row)
        rows = kept


async def mark_seen(
    scope: TenantScope, binding_id: int, pass_id: str, external_ids: Sequence[str]
) -> None:
    """Record that this pass saw these people (those goalgraph has) in the directory."""
    if not external_ids:
        return
    ids = (
        await scope.query(Person)
        .filter(external_id__in=list(external_ids))
        .values_list("id", flat=True)
    )
    if not ids:
        return
    members = scope.query(OrgSourceMember).filter(binding_id=binding_id, person_id__in=ids)
    await members.update(seen_pass=pass_id)
    have = set(await members.values_list("person_id", flat=True))
    new = [
        scope.build(OrgSourceMember, binding_id=binding_id, person_id=i, seen_pass=pass_id)
        for i in ids
        if i not in have
    ]
    if new:
        await OrgSourceMember.bulk_create(new)


async def resolve_managers(scope: TenantScope, pending: dict[str, str]) -> Applied:
    """Set the managers a pass met before it met the managers themselves."""
    done = Applied()
    if not pending:
        return done
    wanted = sorted(set(pending) | set(pending.values()))
    people = {
        p.external_id: p
        for p in await scope.query(Person).filter(external_id__in=wanted).all()
        if p.external_id
    }
    rows = []
    by_line: dict[int, DirectoryPerson] = {}
    for line, (ext, manager_ext) in enumerate(sorted(pending.items()), start=1):
        person, manager = people.get(ext), people.get(manager_ext)
        if person is None or manager is None or not manager.code or not manager.active:
            continue  # the org tree's manager applies
        by_line[line] = DirectoryPerson(ext, person.name, ref=f"manager of {ext}")
        rows.append(
            RosterRow(
                line=line,
                employee_no=person.code or "",
                name=person.name,
                manager_no=manager.code,
                external_id=ext,
            )
        )
    if not rows:
        return done
    plan = await _plan_without_bad_rows(scope, rows, [], by_line, done)
    await apply_roster(scope, plan)
    done.written = _changes(plan)
    return done
