"""The roster (花名册): a company's org units and people, planned as a diff and applied
in one transaction.

Most companies start from a spreadsheet their HR team keeps: one row per person with
their employee number (工号), name, department path and manager. Directory syncs
(DingTalk, Feishu, WeCom) bring the same facts from an HR system. Both end here:

- ``plan_roster`` compares the rows (and the directory's units, if any) with the
  tenant in two queries and returns a ``RosterPlan``: units to add, units renamed or
  moved, people to add, moved and changed, people missing from the roster (leavers),
  and every bad row with its line number. It writes nothing.
- ``apply_roster`` writes a plan in one transaction, with its audit events, in a fixed
  number of statements per batch of ``CHUNK`` rows, or refuses the whole plan while
  it has any problem.

Rules (one place for each):

- People are matched by employee number, else by ``external_id`` when the row has one
  (a directory's user id; a row needs at least one of the two).
- Units are matched by their path of names under the company (a path may start with
  the company's own name), except units given with
  an ``external_id`` (a directory's department id): those are matched by that id, and
  renamed or moved to where the roster puts them. The roster never archives a unit.
- A new unit's kind comes from its name: ending in 店 (门店) or "store"/"shop": store;
  区 (大区) or "region"/"area"/"district": region; 组 or 班 or "team"/"group": team;
  anything else: department.
- A blank cell leaves an existing person's value as it is (a new person gets the
  default: role employee, the company unit), except the manager: a blank manager means
  the org tree's answer (``manager_id`` null, see ``core/reporting.py``).
- Missing people (active, matched by no row, within ``missing_scope``) are listed, and
  deactivated only with ``deactivate_missing``; the person applying the roster is never
  one of them. A person deactivated earlier who is in the roster again is reactivated.
- Importing the same roster again plans nothing and writes nothing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from .audit import record_each
from .bulk import chunked
from .enums import OrgUnitKind, Role
from .errors import DomainError, ErrorCode, Problem, forbidden
from .i18n import Msg, msg, text
from .models import Alert, OrgUnit, Person
from .reporting import email_problem, manager_loops, normalise_email, parse_role
from .services.people import (
    LAST_ADMIN_MESSAGE,
    deactivate_many,
    keeps_an_admin,
    role_change_problem,
)
from .tenancy import TenantScope

#: Rows per statement when writing: every batch costs the same few statements.
CHUNK = 500

#: Which active people not in the roster count as missing (leavers): those with an
#: employee number (a roster file), those with a directory id (a directory sync), or all.
MissingScope = Literal["employee_no", "external_id", "all"]

_ADMINS = {Role.ADMIN, Role.CONSULTANT}
_ROLE_NAMES = ", ".join(role.value for role in Role)
_MAX_NAME, _MAX_CODE, _MAX_EXTERNAL, _MAX_EMAIL = 200, 64, 128, 254

T = TypeVar("T")


# ---------------------------------------------------------------------------- input


@dataclass(frozen=True, slots=True)
class RosterUnit:
    """An org unit the roster names, by its path of names under the company
    (``("华北区", "石家庄长安店")``); ``external_id`` is its id in a directory."""

    path: tuple[str, ...]
    external_id: str | None = None
    name_en: str = ""


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One person of the roster; ``line`` is where a person finds the row in the file.

    ``department`` is the path of unit names under the company (empty: the company
    unit); ``manager_no`` is the employee number of the solid-line manager, or their
    ``external_id`` (blank: the org tree's answer); ``role`` is a role name (blank:
    employee for a new person).
    """

    line: int
    employee_no: str
    name: str
    name_en: str = ""
    department: tuple[str, ...] = ()
    manager_no: str = ""
    email: str = ""
    title: str = ""
    role: str = ""
    external_id: str | None = None


# ---------------------------------------------------------------------------- output


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why a row (or a unit, ``line`` None) cannot be imported."""

    line: int | None
    code: ErrorCode
    message: Msg

    def describe(self) -> Msg:
        """The problem with its line, for a refusal that names every row at once."""
        if self.line is None:
            return self.message
        return msg("roster.line_problem", line=self.line, problem=self.message)

    def as_dict(self) -> dict[str, Any]:
        """For a person reading the plan: the message in the current locale."""
        return {"line": self.line, "code": self.code.value, "message": text(self.message)}


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of a unit or person, as a person reads it (units as name paths,
    managers by employee number; None: empty, or for a manager the org tree's)."""

    field: str
    before: str | None
    after: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "before": self.before, "after": self.after}


@dataclass(frozen=True, slots=True)
class RosterChange:
    """One change of the plan.

    ``kind``: ``unit.add``, ``unit.update`` (renamed, moved, new directory id),
    ``person.add``, ``person.move`` (unit changed, maybe more), ``person.update``,
    ``person.missing`` (listed only) or ``person.deactivate``.
    """

    kind: str
    subject: str
    line: int | None = None
    fields: tuple[FieldChange, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "line": self.line,
            "fields": [f.as_dict() for f in self.fields],
        }


@dataclass(slots=True)
class _NewUnit:
    name: str
    name_en: str
    kind: OrgUnitKind
    external_id: str | None
    #: A unit reference: an existing unit's id, or ``-(index + 1)`` of a new unit.
    parent: int
    depth: int
    label: str


@dataclass(slots=True)
class _UnitUpdate:
    row: OrgUnit
    values: dict[str, Any]  # name, name_en, external_id, parent (a unit reference)
    label: str


@dataclass(slots=True)
class _NewPerson:
    line: int
    values: dict[str, Any]
    unit: int  # a unit reference
    manager: int | None  # a person reference: an id, or -(index + 1) of a new person


@dataclass(slots=True)
class _PersonUpdate:
    row: Person
    line: int
    values: dict[str, Any]  # model fields; org_unit_id and manager_id as references


@dataclass(slots=True)
class _Writes:
    """What ``apply_roster`` writes, with references still to resolve."""

    units: dict[int, OrgUnit]
    new_units: list[_NewUnit] = field(default_factory=list)
    unit_updates: list[_UnitUpdate] = field(default_factory=list)
    new_people: list[_NewPerson] = field(default_factory=list)
    person_updates: list[_PersonUpdate] = field(default_factory=list)
    deactivate: list[Person] = field(default_factory=list)
    #: Every person's unit as read (alerts follow their owner's unit).
    person_unit: dict[int, int] = field(default_factory=dict)


@dataclass
class RosterPlan:
    """What importing a roster would change, and what stops it.

    Lists hold one ``RosterChange`` per unit or person; ``summary()`` is the whole
    plan as plain data (counts, changes, problems) for printing or JSON. A plan with
    problems still shows the changes of its good rows, and cannot be applied.
    """

    tenant_id: int
    deactivate_missing: bool
    rows: int
    units_added: list[RosterChange] = field(default_factory=list)
    units_changed: list[RosterChange] = field(default_factory=list)
    people_added: list[RosterChange] = field(default_factory=list)
    people_moved: list[RosterChange] = field(default_factory=list)
    people_changed: list[RosterChange] = field(default_factory=list)
    missing: list[RosterChange] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    _writes: _Writes | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True when nothing stops the plan from being applied."""
        return not self.problems

    @property
    def empty(self) -> bool:
        """True when applying would write nothing (missing people only listed count
        as nothing)."""
        return not (
            self.units_added
            or self.units_changed
            or self.people_added
            or self.people_moved
            or self.people_changed
            or (self.deactivate_missing and self.missing)
        )

    def changes(self) -> list[RosterChange]:
        """Every change, units first, in the order they are applied."""
        return [
            *self.units_added,
            *self.units_changed,
            *self.people_added,
            *self.people_moved,
            *self.people_changed,
            *self.missing,
        ]

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "units_added": len(self.units_added),
            "units_changed": len(self.units_changed),
            "people_added": len(self.people_added),
            "people_moved": len(self.people_moved),
            "people_changed": len(self.people_changed),
            "missing": len(self.missing),
            "deactivated": len(self.missing) if self.deactivate_missing else 0,
            "problems": len(self.problems),
        }

    def summary(self) -> dict[str, Any]:
        """The plan as plain data: ``{"counts", "changes", "problems"}``."""
        return {
            "counts": self.counts(),
            "changes": [change.as_dict() for change in self.changes()],
            "problems": [problem.as_dict() for problem in self.problems],
        }


# ------------------------------------------------------------------------ the rules


_KIND_WORDS: tuple[tuple[OrgUnitKind, tuple[str, ...], tuple[str, ...]], ...] = (
    (OrgUnitKind.STORE, ("店",), ("store", "shop")),
    (OrgUnitKind.REGION, ("区",), ("region", "area", "district")),
    (OrgUnitKind.TEAM, ("组", "班"), ("team", "group")),
)


def unit_kind(name: str) -> OrgUnitKind:
    """The kind of a new unit, from how its name ends (石家庄长安店: store; 华北大区:
    region; 收银组, 早班: team; anything else: department)."""
    text = unicodedata.normalize("NFKC", name).strip()
    words = text.casefold().split()
    last = words[-1] if words else ""
    for kind, endings, english in _KIND_WORDS:
        if text.endswith(endings) or last in english:
            return kind
    return OrgUnitKind.DEPARTMENT


def _too_long(value: str, limit: int) -> bool:
    return len(value) > limit


# ---------------------------------------------------------------------------- plan


@dataclass(slots=True)
class _Entry:
    """A good row, matched to its person (None: new) and with its person reference."""

    row: RosterRow
    person: Person | None
    ref: int
    employee_no: str
    external_id: str | None
    unit: int | None = None
    manager: int | None = None


class _Planner:
    """Builds one plan; holds the tenant's units and people as read once."""

    def __init__(
        self,
        scope: TenantScope,
        units: list[OrgUnit],
        people: list[Person],
        plan: RosterPlan,
    ) -> None:
        self.scope = scope
        self.plan = plan
        self.units = {u.id: u for u in units}
        roots = [u for u in units if u.parent_id is None]
        if not roots:
            raise DomainError.single(ErrorCode.NOT_FOUND, msg("roster.no_company_unit"))
        self.root = min(roots, key=lambda u: u.id)
        self.people = people
        self.writes = _Writes(units=self.units)
        self.names: dict[int, tuple[str, ...]] = {}
        for unit in sorted(units, key=lambda u: (u.depth, u.id)):
            parent = self.names.get(unit.parent_id) if unit.parent_id is not None else None
            self.names[unit.id] = () if unit.id == self.root.id else (*(parent or ()), unit.name)
        self.children: dict[tuple[int, str], list[int]] = {}
        for unit in sorted(units, key=lambda u: u.id):
            if unit.active and unit.parent_id is not None:
                self.children.setdefault((unit.parent_id, unit.name), []).append(unit.id)
        #: Roster path → unit reference (an id, or -(index + 1) of a new unit).
        self.bound: dict[tuple[str, ...], int] = {(): self.root.id}
        self.final_parent: dict[int, int | None] = {u.id: u.parent_id for u in units}

    # ------------------------------------------------------------------ labels

    def unit_label(self, ref: int | None) -> str:
        if ref is None:
            return ""
        if ref < 0:
            return self.writes.new_units[-ref - 1].label
        names = self.names.get(ref)
        return "/".join(names) if names else self.root.name

    @staticmethod
    def person_label(employee_no: str | None, name: str) -> str:
        return f"{employee_no} {name}" if employee_no else name

    # ------------------------------------------------------------------- units

    def department(self, parts: Sequence[str]) -> tuple[str, ...]:
        """A path of unit names, trimmed; one that starts with the company's own name
        (``鲜丰超市/华北区``) is read from under it."""
        path = tuple(part.strip() for part in parts)
        return path[1:] if path and path[0] == self.root.name.strip() else path

    def plan_units(self, units: Sequence[RosterUnit], rows: Sequence[RosterRow]) -> None:
        explicit: dict[tuple[str, ...], RosterUnit] = {}
        seen_ext: dict[str, tuple[str, ...]] = {}
        for unit in units:
            path = self.department(unit.path)
            label = "/".join(path) or self.root.name
            if any(not part for part in path):
                self.problem(
                    None, ErrorCode.INVALID, msg("roster.department_empty_part", department=label)
                )
                continue
            if path in explicit:
                self.problem(
                    None, ErrorCode.CONFLICT, msg("roster.department_twice", department=label)
                )
                continue
            ext = (unit.external_id or "").strip() or None
            if ext is not None:
                if ext in seen_ext:
                    other = "/".join(seen_ext[ext])
                    self.problem(
                        None,
                        ErrorCode.CONFLICT,
                        msg(
                            "roster.external_id_shared", first=other, second=label, external_id=ext
                        ),
                    )
                    continue
                seen_ext[ext] = path
            explicit[path] = RosterUnit(path, ext, unit.name_en.strip())
        wanted: set[tuple[str, ...]] = set(explicit)
        for row in rows:
            department = self.department(row.department)
            if all(department):
                wanted.add(department)
        for path in list(wanted):
            wanted.update(path[:depth] for depth in range(len(path)))
        wanted.discard(())

        by_ext = {u.external_id: u for u in self.units.values() if u.external_id}
        claimed: set[int] = set()
        for path, unit in explicit.items():
            found = by_ext.get(unit.external_id) if unit.external_id else None
            if found is None:
                continue
            label = "/".join(path) or self.root.name
            if not found.active:
                self.problem(
                    None,
                    ErrorCode.ARCHIVED,
                    msg(
                        "roster.external_id_archived",
                        department=label,
                        external_id=unit.external_id,
                        unit=self.unit_label(found.id),
                    ),
                )
                continue
            if (found.id == self.root.id) != (path == ()):
                self.problem(
                    None,
                    ErrorCode.INVALID,
                    msg(
                        "roster.external_id_cannot_move",
                        department=label,
                        external_id=unit.external_id,
                        unit=self.unit_label(found.id),
                    ),
                )
                continue
            self.bound[path] = found.id
            claimed.add(found.id)
        root_unit = explicit.get(())
        if root_unit is not None and () in self.bound:
            self._update_unit(self.root, (), root_unit, move=False)

        for path in sorted(wanted, key=lambda p: (len(p), p)):
            parent = self.bound.get(path[:-1])
            if parent is None:  # under a department with a problem
                continue
            given = explicit.get(path)
            if path in self.bound:
                existing = self.units[self.bound[path]]
                self._update_unit(existing, path, given, move=True, parent=parent)
                continue
            if given is not None and given.external_id and given.external_id in by_ext:
                continue  # refused above
            siblings = self.children.get((parent, path[-1]), []) if parent > 0 else []
            candidates = [unit_id for unit_id in siblings if unit_id not in claimed]
            if candidates:
                self.bound[path] = candidates[0]
                claimed.add(candidates[0])
                if given is not None:
                    self._update_unit(self.units[candidates[0]], path, given, move=False)
                continue
            depth = self._depth(parent) + 1
            self.writes.new_units.append(
                _NewUnit(
                    name=path[-1],
                    name_en=given.name_en if given else "",
                    kind=unit_kind(path[-1]),
                    external_id=given.external_id if given else None,
                    parent=parent,
                    depth=depth,
                    label="/".join(path),
                )
            )
            ref = -len(self.writes.new_units)
            self.bound[path] = ref
            fields = [FieldChange("kind", None, unit_kind(path[-1]).value)]
            if given is not None and given.name_en:
                fields.append(FieldChange("name_en", None, given.name_en))
            if given is not None and given.external_id:
                fields.append(FieldChange("external_id", None, given.external_id))
            self.plan.units_added.append(
                RosterChange("unit.add", "/".join(path), None, tuple(fields))
            )

    def _depth(self, ref: int) -> int:
        """A unit's depth once the roster is applied (parents are placed first)."""
        depth = 0
        while ref > 0:
            parent = self.final_parent.get(ref)
            if parent is None:
                return depth
            depth, ref = depth + 1, parent
        return depth + self.writes.new_units[-ref - 1].depth

    def _update_unit(
        self,
        row: OrgUnit,
        path: tuple[str, ...],
        given: RosterUnit | None,
        *,
        move: bool,
        parent: int | None = None,
    ) -> None:
        """Rename and move a unit matched by its directory id; set its English name and
        directory id when the roster gives them."""
        values: dict[str, Any] = {}
        fields: list[FieldChange] = []
        before_label = self.unit_label(row.id)
        if move and path and row.name != path[-1]:
            values["name"] = path[-1]
            fields.append(FieldChange("name", row.name, path[-1]))
        if move and parent is not None and parent != row.parent_id:
            values["parent"] = parent
            self.final_parent[row.id] = parent
            fields.append(
                FieldChange("parent", self.unit_label(row.parent_id), self.unit_label(parent))
            )
        if given is not None and given.name_en and given.name_en != row.name_en:
            values["name_en"] = given.name_en
            fields.append(FieldChange("name_en", row.name_en or None, given.name_en))
        if given is not None and given.external_id and given.external_id != row.external_id:
            values["external_id"] = given.external_id
            fields.append(FieldChange("external_id", row.external_id, given.external_id))
        if not values:
            return
        label = "/".join(path) or self.root.name
        subject = label if label == before_label else f"{before_label} → {label}"
        self.writes.unit_updates.append(_UnitUpdate(row, values, label))
        self.plan.units_changed.append(RosterChange("unit.update", subject, None, tuple(fields)))

    # ------------------------------------------------------------------ people

    def problem(self, line: int | None, code: ErrorCode, message: Msg) -> None:
        self.plan.problems.append(RowProblem(line, code, message))

    def check_roles(self) -> None:
        """Roles the actor may not give (admin is granted and taken by admins), and the
        tenant's last active admin, by the rules of ``core/services/people``."""
        actor = self.scope.role
        for new in self.writes.new_people:
            refused = role_change_problem(actor, None, new.values["role"])
            if refused:
                self.problem(new.line, ErrorCode.FORBIDDEN, refused)
        admins = {p.id for p in self.people if p.active and Role(p.role) is Role.ADMIN}
        losing: dict[int, int | None] = {p.id: None for p in self.writes.deactivate}
        gaining = {
            -(index + 1)
            for index, new in enumerate(self.writes.new_people)
            if new.values["role"] is Role.ADMIN
        }
        for update in self.writes.person_updates:
            before = Role(update.row.role)
            after = Role(update.values.get("role", before))
            refused = role_change_problem(actor, before, after)
            if refused:
                self.problem(update.line, ErrorCode.FORBIDDEN, refused)
            active = update.row.active or bool(update.values.get("active"))
            if after is Role.ADMIN and active and update.row.id not in admins:
                gaining.add(update.row.id)
            if before is Role.ADMIN and after is not Role.ADMIN:
                losing[update.row.id] = update.line
        if not keeps_an_admin(admins, losing, gaining):
            lines = [line for pid, line in losing.items() if pid in admins and line is not None]
            self.problem(max(lines) if lines else None, ErrorCode.LAST_ADMIN, LAST_ADMIN_MESSAGE)

    def plan_people(
        self, rows: Sequence[RosterRow], deactivate_missing: bool, missing_scope: MissingScope
    ) -> None:
        by_code = {p.code: p for p in self.people if p.code}
        by_ext = {p.external_id: p for p in self.people if p.external_id}
        first_line: dict[str, int] = {}
        first_ext: dict[str, int] = {}
        entries: list[_Entry] = []
        bad: list[tuple[RosterRow, Person | None]] = []
        in_file: set[str] = set()
        matched: dict[int, int] = {}
        new_count = 0
        for row in rows:
            number = row.employee_no.strip()
            ext = (row.external_id or "").strip() or None
            if number:
                in_file.add(number)
            before = len(self.plan.problems)
            self._check_row(row, number, ext, first_line, first_ext)
            person = by_code.get(number) if number else None
            if ext is not None:
                other = by_ext.get(ext)
                if person is not None and other is not None and other is not person:
                    self.problem(
                        row.line,
                        ErrorCode.CONFLICT,
                        msg(
                            "roster.external_id_other",
                            external_id=ext,
                            person=self.person_label(other.code, other.name),
                            number=number,
                        ),
                    )
                elif person is None:
                    person = other
            if person is not None and person.id in matched:
                self.problem(
                    row.line,
                    ErrorCode.CONFLICT,
                    msg(
                        "roster.person_twice",
                        person=self.person_label(person.code, person.name),
                        line=matched[person.id],
                    ),
                )
            if len(self.plan.problems) > before:
                bad.append((row, person))
                continue
            if person is not None:
                matched[person.id] = row.line
                ref = person.id
            else:
                new_count += 1
                ref = -new_count
            entries.append(_Entry(row, person, ref, number, ext))

        # the people left out of the roster (bad rows name people too), and who leaves
        in_ext = {ext for row in rows if (ext := (row.external_id or "").strip())}
        missing = [
            p
            for p in self.people
            if p.active
            and p.id not in matched
            and p.id != self.scope.actor.person_id
            and _in_missing_scope(p, missing_scope)
            and not (p.code and p.code in in_file)
            and not (p.external_id and p.external_id in in_ext)
        ]
        leaving = {p.id for p in missing} if deactivate_missing else set()

        file_refs = {e.external_id: e.ref for e in entries if e.external_id}
        file_refs.update({e.employee_no: e.ref for e in entries if e.employee_no})
        in_file.update(ext for row in rows if (ext := (row.external_id or "").strip()))
        known = {**by_ext, **by_code}
        for entry in entries:
            entry.unit = self._unit_of(entry)
            entry.manager = self._manager(entry.row, file_refs, in_file, known, leaving)
        for row, _ in bad:
            self._manager(row, file_refs, in_file, known, leaving)
        roster = set(matched) | leaving
        roster.update(p.id for p in self.people if p.code and p.code in in_file)
        roster.update(p.id for p in self.people if p.external_id and p.external_id in in_file)
        self._check_emails([(e.row, e.person) for e in entries] + bad, roster)
        self._check_loops(entries, set(matched) | leaving)
        bad_lines = {p.line for p in self.plan.problems}

        refs_label = {e.ref: self.person_label(e.employee_no, e.row.name.strip()) for e in entries}
        for person in self.people:
            refs_label.setdefault(person.id, self.person_label(person.code, person.name))
        for entry in entries:
            if entry.row.line in bad_lines:
                continue
            if entry.person is None:
                self._add_person(entry, refs_label)
            else:
                self._update_person(entry, refs_label)
        for person in missing:
            subject = (
                f"{self.person_label(person.code, person.name)} "
                f"({self.unit_label(person.org_unit_id)})"
            )
            if deactivate_missing:
                change = RosterChange(
                    "person.deactivate", subject, None, (FieldChange("active", "yes", "no"),)
                )
                self.writes.deactivate.append(person)
            else:
                change = RosterChange("person.missing", subject)
            self.plan.missing.append(change)

    def _manager(
        self,
        row: RosterRow,
        file_refs: dict[str, int],
        in_file: set[str],
        known: dict[str, Person],
        leaving: set[int],
    ) -> int | None:
        """The person reference of the row's manager (None: the org tree's), or a problem.
        ``manager_no`` is the manager's employee number, else their external id (a
        directory names managers by its own user ids)."""
        manager_no = row.manager_no.strip()
        if not manager_no:
            return None
        if manager_no in file_refs:
            return file_refs[manager_no]
        if manager_no in in_file:  # a row with a problem of its own
            return None
        manager = known.get(manager_no)
        if manager is None or not manager.active:
            self.problem(
                row.line,
                ErrorCode.NOT_FOUND,
                msg("roster.unknown_manager", manager=manager_no),
            )
        elif manager.id in leaving:
            self.problem(
                row.line,
                ErrorCode.INACTIVE,
                msg("roster.manager_leaving", manager=manager_no),
            )
        else:
            return manager.id
        return None

    def _check_row(
        self,
        row: RosterRow,
        number: str,
        ext: str | None,
        first_line: dict[str, int],
        first_ext: dict[str, int],
    ) -> None:
        line = row.line
        if not number and ext is None:
            self.problem(line, ErrorCode.REQUIRED, msg("roster.number_missing"))
        elif number in first_line:
            self.problem(
                line,
                ErrorCode.CONFLICT,
                msg("roster.number_twice", number=number, line=first_line[number]),
            )
        elif number:
            first_line[number] = line
        if ext is not None:
            if ext in first_ext:
                self.problem(
                    line,
                    ErrorCode.CONFLICT,
                    msg("roster.external_id_twice", external_id=ext, line=first_ext[ext]),
                )
            else:
                first_ext[ext] = line
        if not row.name.strip():
            self.problem(line, ErrorCode.REQUIRED, msg("roster.name_missing"))
        for label, value, limit in (
            (msg("roster.column.name"), row.name.strip(), _MAX_NAME),
            (msg("roster.column.name_en"), row.name_en.strip(), _MAX_NAME),
            (msg("roster.column.title"), row.title.strip(), _MAX_NAME),
            (msg("roster.column.number"), number, _MAX_CODE),
            (msg("roster.column.external_id"), ext or "", _MAX_EXTERNAL),
        ):
            if _too_long(value, limit):
                self.problem(
                    line, ErrorCode.INVALID, msg("error.too_long", field=label, limit=limit)
                )
        bad_email = email_problem(row.email)
        if bad_email:
            self.problem(line, ErrorCode.INVALID, bad_email)
        if row.role.strip() and parse_role(row.role) is None:
            self.problem(
                line,
                ErrorCode.INVALID,
                msg("roster.unknown_role", role=row.role.strip(), roles=_ROLE_NAMES),
            )
        parts = [part.strip() for part in row.department]
        if any(not part for part in parts):
            self.problem(
                line,
                ErrorCode.INVALID,
                msg("roster.department_empty_part", department="/".join(parts)),
            )
        elif any(_too_long(part, _MAX_NAME) for part in parts):
            self.problem(
                line, ErrorCode.INVALID, msg("roster.department_too_long", limit=_MAX_NAME)
            )

    def _unit_of(self, entry: _Entry) -> int | None:
        """The unit reference the row puts the person in (None: leave them where they are)."""
        department = self.department(entry.row.department)
        if not department:
            return self.root.id if entry.person is None else None
        ref = self.bound.get(department)
        if ref is None:
            self.problem(
                entry.row.line,
                ErrorCode.INVALID,
                msg("roster.department_unusable", department="/".join(department)),
            )
        return ref

    def _check_emails(
        self, rows: list[tuple[RosterRow, Person | None]], in_roster: set[int]
    ) -> None:
        """An email belongs to one active person: within the file, and against the
        people the roster leaves as they are."""
        holders: dict[str, Person] = {}
        for person in self.people:
            if person.active and person.email and person.id not in in_roster:
                holders.setdefault(normalise_email(person.email), person)
        first: dict[str, int] = {}
        for row, matched in sorted(rows, key=lambda pair: pair[0].line):
            kept = matched.email if matched is not None else ""
            email = normalise_email(row.email) or normalise_email(kept)
            if not email or email_problem(email):
                continue
            if email in first:
                self.problem(
                    row.line,
                    ErrorCode.CONFLICT,
                    msg("roster.email_twice", email=email, line=first[email]),
                )
                continue
            first[email] = row.line
            holder = holders.get(email)
            if holder is not None:
                self.problem(
                    row.line,
                    ErrorCode.CONFLICT,
                    msg(
                        "roster.email_taken",
                        email=email,
                        person=self.person_label(holder.code, holder.name),
                    ),
                )

    def _check_loops(self, entries: list[_Entry], in_roster: set[int]) -> None:
        """No chain of managers comes back on itself once the roster is applied."""
        manager_of: dict[int, int | None] = {
            p.id: p.manager_id for p in self.people if p.active and p.id not in in_roster
        }
        labels: dict[int, str] = {}
        for entry in entries:
            manager_of[entry.ref] = entry.manager
            labels[entry.ref] = self.person_label(entry.employee_no, entry.row.name.strip())
        lines = {entry.ref: entry.row.line for entry in entries}
        for loop in manager_loops(manager_of):
            names = [labels.get(ref, str(ref)) for ref in loop]
            chain = " → ".join([*names, names[0]])
            for ref in loop:
                if ref in lines:
                    self.problem(
                        lines[ref], ErrorCode.MANAGER_LOOP, msg("roster.manager_loop", chain=chain)
                    )

    def _values(self, entry: _Entry) -> dict[str, Any]:
        """The model fields the row sets (blank cells are left out)."""
        row = entry.row
        values: dict[str, Any] = {"name": row.name.strip()}
        for key, value in (
            ("name_en", row.name_en.strip()),
            ("email", normalise_email(row.email)),
            ("job_title", row.title.strip()),
        ):
            if value:
                values[key] = value
        if row.role.strip():
            values["role"] = parse_role(row.role)
        if entry.employee_no:
            values["code"] = entry.employee_no
        if entry.external_id:
            values["external_id"] = entry.external_id
        return values

    def _add_person(self, entry: _Entry, labels: dict[int, str]) -> None:
        values = {
            "name_en": "",
            "email": "",
            "job_title": "",
            "role": Role.EMPLOYEE,
            "code": None,
            "external_id": None,
            **self._values(entry),
        }
        assert entry.unit is not None
        self.writes.new_people.append(_NewPerson(entry.row.line, values, entry.unit, entry.manager))
        fields = [
            FieldChange("unit", None, self.unit_label(entry.unit)),
            FieldChange("role", None, values["role"].value),
        ]
        for key in ("name_en", "email", "job_title", "external_id"):
            if values[key]:
                fields.append(FieldChange(key, None, values[key]))
        if entry.manager is not None:
            fields.append(FieldChange("manager", None, labels[entry.manager]))
        self.plan.people_added.append(
            RosterChange("person.add", labels[entry.ref], entry.row.line, tuple(fields))
        )

    def _update_person(self, entry: _Entry, labels: dict[int, str]) -> None:
        person = entry.person
        assert person is not None
        values = self._values(entry)
        changed: dict[str, Any] = {}
        fields: list[FieldChange] = []
        for key, value in values.items():
            current = getattr(person, key)
            if key == "email" and normalise_email(current) == value:
                continue
            if value != current:
                changed[key] = value
                shown = value.value if isinstance(value, Role) else value
                was = current.value if isinstance(current, Role) else current
                fields.append(FieldChange(key, was or None, shown))
        moved = entry.unit is not None and entry.unit != person.org_unit_id
        if moved:
            changed["org_unit_id"] = entry.unit
            fields.insert(
                0,
                FieldChange(
                    "unit", self.unit_label(person.org_unit_id), self.unit_label(entry.unit)
                ),
            )
        if entry.manager != person.manager_id:
            changed["manager_id"] = entry.manager
            before = labels.get(person.manager_id) if person.manager_id else None
            after = labels[entry.manager] if entry.manager is not None else None
            fields.append(FieldChange("manager", before, after))
        if not person.active:
            changed["active"] = True
            changed["deactivated_at"] = None
            fields.append(FieldChange("active", "no", "yes"))
        if not changed:
            return
        self.writes.person_updates.append(_PersonUpdate(person, entry.row.line, changed))
        change = RosterChange(
            "person.move" if moved else "person.update",
            labels[entry.ref],
            entry.row.line,
            tuple(fields),
        )
        (self.plan.people_moved if moved else self.plan.people_changed).append(change)


def _in_missing_scope(person: Person, missing_scope: MissingScope) -> bool:
    if missing_scope == "employee_no":
        return bool(person.code)
    if missing_scope == "external_id":
        return bool(person.external_id)
    return True


async def plan_roster(
    scope: TenantScope,
    rows: Sequence[RosterRow],
    units: Iterable[RosterUnit] = (),
    *,
    deactivate_missing: bool = False,
    missing_scope: MissingScope = "employee_no",
) -> RosterPlan:
    """What importing ``rows`` (and ``units``) would change; writes nothing.

    Reads the tenant's units and people in two queries, whatever the roster's size.
    Admins and consultants only.
    """
    _require_admin(scope)
    existing_units = await scope.query(OrgUnit).all()
    people = await scope.query(Person).order_by("id")
    plan = RosterPlan(
        tenant_id=scope.tenant_id, deactivate_missing=deactivate_missing, rows=len(rows)
    )
    planner = _Planner(scope, existing_units, people, plan)
    planner.plan_units(list(units), rows)
    planner.plan_people(rows, deactivate_missing, missing_scope)
    planner.check_roles()
    plan.problems.sort(key=lambda p: (p.line is not None, p.line or 0))
    if not plan.problems:
        planner.writes.person_unit = {p.id: p.org_unit_id for p in people}
        plan._writes = planner.writes
    return plan


def _require_admin(scope: TenantScope) -> None:
    if scope.role not in _ADMINS:
        raise forbidden(msg("roster.admin_only"))


# --------------------------------------------------------------------------- apply

_UNIT_FIELDS = ["name", "name_en", "external_id", "parent_id", "path", "depth", "updated_at"]
_PERSON_FIELDS = [
    "name",
    "name_en",
    "email",
    "code",
    "job_title",
    "role",
    "org_unit_id",
    "manager_id",
    "external_id",
    "active",
    "deactivated_at",
    "updated_at",
]
_AUDITED_PERSON = [f for f in _PERSON_FIELDS if f not in {"updated_at", "deactivated_at"}]


def _plain(value: Any) -> Any:
    """A value as the audit trail stores it (JSON)."""
    if isinstance(value, Role | OrgUnitKind):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


async def apply_roster(scope: TenantScope, plan: RosterPlan) -> None:
    """Write ``plan`` in one transaction with its audit events; refuse it whole
    (``DomainError`` with every problem, nothing written) while it has any problem.

    The statements do not depend on the roster's size but on its batches: per new
    unit depth one insert and one read, then per batch of ``CHUNK`` rows one update of
    unit paths, one insert and one read of new people (per level of the manager chain
    among them: managers are written first), one update of changed people, one update
    of leavers, and one insert of audit events per kind. A plan is applied
    as it was read (plan and apply together, as the import does), and only once.
    """
    _require_admin(scope)
    if plan.problems:
        raise DomainError(
            *(
                Problem(p.code, p.describe(), f"line {p.line}" if p.line is not None else None)
                for p in plan.problems
            )
        )
    if plan.tenant_id != scope.tenant_id:
        raise DomainError.single(ErrorCode.INVALID, msg("roster.other_tenant"))
    if plan._writes is None or plan.empty:
        return
    async with in_transaction():
        await _Applier(scope, plan._writes).run()
    plan._writes = None  # a plan is written once


class _Applier:
    def __init__(self, scope: TenantScope, writes: _Writes) -> None:
        self.scope = scope
        self.writes = writes
        self.now = datetime.now(UTC)
        self.new_unit_ids: dict[int, int] = {}
        self.new_person_ids: dict[int, int] = {}

    def unit_id(self, ref: int) -> int:
        return ref if ref > 0 else self.new_unit_ids[ref]

    def person_id(self, ref: int | None) -> int | None:
        if ref is None or ref > 0:
            return ref
        return self.new_person_ids[ref]

    async def run(self) -> None:
        created_units = await self._create_units()
        paths = await self._place_units(created_units)
        await self._create_people()
        moved = await self._update_people()
        await self._deactivate()
        await self._follow_alerts(paths, moved)

    async def _create_units(self) -> list[OrgUnit]:
        """New units, one depth level at a time (a level needs its parents' ids)."""
        levels: dict[int, list[int]] = {}
        for index, unit in enumerate(self.writes.new_units):
            levels.setdefault(unit.depth, []).append(index)
        created: list[OrgUnit] = []
        for depth in sorted(levels):
            indexes = levels[depth]
            rows = [
                self.scope.build(
                    OrgUnit,
                    name=unit.name,
                    name_en=unit.name_en,
                    kind=unit.kind,
                    parent_id=self.unit_id(unit.parent),
                    depth=depth,
                    path="",
                    external_id=unit.external_id,
                )
                for unit in (self.writes.new_units[i] for i in indexes)
            ]
            await OrgUnit.bulk_create(rows, batch_size=CHUNK)
            # new units have no path yet: that is how this level's rows are found again
            found = await self.scope.query(OrgUnit).filter(path="", depth=depth)
            by_key = {(row.parent_id, row.name): row for row in found}
            for index in indexes:
                unit = self.writes.new_units[index]
                row = by_key[(self.unit_id(unit.parent), unit.name)]
                self.new_unit_ids[-(index + 1)] = row.id
                created.append(row)
        if created:
            await record_each(
                self.scope,
                "org_unit.created",
                "org_unit",
                [
                    (
                        row.id,
                        None,
                        {
                            "name": row.name,
                            "name_en": row.name_en,
                            "kind": _plain(row.kind),
                            "code": row.code,
                            "parent_id": row.parent_id,
                            "external_id": row.external_id,
                        },
                    )
                    for row in created
                ],
                CHUNK,
            )
        return created

    async def _place_units(self, created: list[OrgUnit]) -> dict[int, tuple[str, str]]:
        """Renames and moves, and every path and depth they change (moved subtrees and
        the new units), in one update per batch. Returns unit id → (old, new) path."""
        units = {**self.writes.units, **{row.id: row for row in created}}
        parent_of = {unit_id: row.parent_id for unit_id, row in units.items()}
        audits: list[tuple[str, int, dict[str, Any], dict[str, Any]]] = []
        changed: dict[int, OrgUnit] = {}
        for update in self.writes.unit_updates:
            row = update.row
            before: dict[str, Any] = {}
            after: dict[str, Any] = {}
            for key, value in update.values.items():
                name = "parent_id" if key == "parent" else key
                if key == "parent":
                    value = self.unit_id(value)
                    parent_of[row.id] = value
                before[name], after[name] = getattr(row, name), value
                setattr(row, name, value)
            action = "org_unit.moved" if "parent_id" in after else "org_unit.updated"
            audits.append((action, row.id, before, after))
            changed[row.id] = row
        children: dict[int | None, list[int]] = {}
        for unit_id, parent in parent_of.items():
            children.setdefault(parent, []).append(unit_id)
        moved_paths: dict[int, tuple[str, str]] = {}
        stack = [(unit_id, "/", -1) for unit_id in children.get(None, [])]
        while stack:
            unit_id, above, depth = stack.pop()
            row = units[unit_id]
            path, depth = f"{above}{unit_id}/", depth + 1
            if row.path != path or row.depth != depth:
                if row.path:
                    moved_paths[unit_id] = (row.path, path)
                row.path, row.depth = path, depth
                changed[unit_id] = row
            stack.extend((child, path, depth) for child in children.get(unit_id, []))
        for row in changed.values():
            row.updated_at = self.now
        for batch in chunked(list(changed.values()), CHUNK):
            await OrgUnit.bulk_update(batch, fields=_UNIT_FIELDS)
        for action in ("org_unit.updated", "org_unit.moved"):
            entries = []
            for kind, unit_id, before, after in audits:
                if kind == action:
                    if "parent_id" in after:
                        before["path"], after["path"] = moved_paths.get(
                            unit_id, (units[unit_id].path, units[unit_id].path)
                        )
                    entries.append((unit_id, before, after))
            await record_each(self.scope, action, "org_unit", entries, CHUNK)
        return moved_paths

    async def _create_people(self) -> None:
        """New people, managers before the people reporting to them (a level of the
        manager chain at a time, in batches), each batch read back for its ids: no
        person is written twice."""
        new_people = self.writes.new_people
        level: dict[int, int] = {}

        def level_of(index: int) -> int:
            if index not in level:
                manager = new_people[index].manager
                level[index] = 0 if manager is None or manager > 0 else level_of(-manager - 1) + 1
            return level[index]

        levels: dict[int, list[int]] = {}
        for index in range(len(new_people)):
            levels.setdefault(level_of(index), []).append(index)
        audits: list[tuple[int, dict[str, Any] | None, dict[str, Any] | None]] = []
        for depth in sorted(levels):
            for indexes in chunked(levels[depth], CHUNK):
                batch = [
                    self.scope.build(
                        Person,
                        **new_people[index].values,
                        org_unit_id=self.unit_id(new_people[index].unit),
                        manager_id=self.person_id(new_people[index].manager),
                    )
                    for index in indexes
                ]
                await Person.bulk_create(batch, batch_size=CHUNK)
                codes = [p.code for p in batch if p.code]
                externals = [p.external_id for p in batch if not p.code and p.external_id]
                condition = Q(code__in=codes)
                if externals:
                    condition |= Q(external_id__in=externals)
                found = await (
                    self.scope.query(Person)
                    .filter(condition)
                    .values_list("id", "code", "external_id")
                )
                by_code = {code: id_ for id_, code, _ in found if code}
                by_external = {ext: id_ for id_, _, ext in found if ext}
                for index, row in zip(indexes, batch, strict=True):
                    row.id = by_code[row.code] if row.code else by_external[row.external_id]
                    self.new_person_ids[-(index + 1)] = row.id
                    after = {key: _plain(getattr(row, key)) for key in _AUDITED_PERSON}
                    audits.append((row.id, None, after))
        await record_each(self.scope, "person.created", "person", audits, CHUNK)

    async def _update_people(self) -> dict[int, int]:
        """Changed people, each batch setting only the fields its people change;
        returns the moved people's new units."""
        rows: list[Person] = []
        moved: dict[int, int] = {}
        updated: list[tuple[int, dict[str, Any] | None, dict[str, Any] | None]] = []
        reactivated: list[tuple[int, dict[str, Any] | None, dict[str, Any] | None]] = []
        for update in self.writes.person_updates:
            row = update.row
            before: dict[str, Any] = {}
            after: dict[str, Any] = {}
            for key, value in update.values.items():
                if key == "org_unit_id":
                    value = self.unit_id(value)
                    moved[row.id] = value
                elif key == "manager_id":
                    value = self.person_id(value)
                before[key], after[key] = _plain(getattr(row, key)), _plain(value)
                setattr(row, key, value)
            row.updated_at = self.now
            rows.append(row)
            (reactivated if "active" in after else updated).append((row.id, before, after))
        updates = self.writes.person_updates
        for start in range(0, len(rows), CHUNK):
            keys = {key for u in updates[start : start + CHUNK] for key in u.values}
            fields = [f for f in _PERSON_FIELDS if f in keys or f == "updated_at"]
            await Person.bulk_update(rows[start : start + CHUNK], fields=fields)
        await record_each(self.scope, "person.updated", "person", updated, CHUNK)
        await record_each(self.scope, "person.reactivated", "person", reactivated, CHUNK)
        return moved

    async def _deactivate(self) -> None:
        await deactivate_many(
            self.scope, [person.id for person in self.writes.deactivate], now=self.now
        )

    async def _follow_alerts(
        self, paths: dict[int, tuple[str, str]], moved: dict[int, int]
    ) -> None:
        """Alerts carry their owner's org path: they follow moved units and people."""
        if not paths and not moved:
            return
        new_path = {unit_id: new for unit_id, (_, new) in paths.items()}
        old_paths = [old for old, _ in paths.values()]
        person_unit = {**self.writes.person_unit, **moved}
        units = self.writes.units

        def path_of(unit_id: int) -> str:
            return new_path.get(unit_id) or units[unit_id].path

        keys: list[tuple[str, str | int]] = [("path", p) for p in old_paths]
        keys += [("person", person_id) for person_id in moved]
        for batch in chunked(keys, CHUNK):
            by_path = [value for kind, value in batch if kind == "path"]
            by_person = [value for kind, value in batch if kind == "person"]
            condition = Q(owner_path__in=by_path) | Q(owner_person_id__in=by_person)
            alerts = await self.scope.query(Alert).filter(condition)
            changed = []
            for alert in alerts:
                if alert.owner_person_id is not None:
                    path = path_of(person_unit.get(alert.owner_person_id, 0))
                elif alert.owner_unit_id is not None:
                    path = path_of(alert.owner_unit_id)
                else:
                    continue
                if path != alert.owner_path:
                    alert.owner_path = path
                    changed.append(alert)
            if changed:
                await Alert.bulk_update(changed, fields=["owner_path"])
