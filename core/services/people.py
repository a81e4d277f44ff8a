"""People: joiners, changes, leavers, and who they report to.

Every change is made by an admin or consultant, checked as a whole before anything is
written (``core/validation.Checks``), and written with its audit event in one
transaction. The reporting rules themselves (emails, manager loops, the org tree's
manager) live in ``core/reporting.py``, shared with the roster import, directory syncs
and SCIM.

A leaver is deactivated, never deleted: their measurements, scores and past scorecards
stay, their open goals are listed (and may be handed over at once or later), and their
tokens stop working (``core/tenancy.open_scope``). A person's unit and role are audited
with their before values, so scorecards ``asOf`` a moment before a move are scored with
the person where they were then (``core/scoring/history.py``).

Roles: only admins grant or take away the admin role (``set_role``, or ``role`` in
``update_person``); consultants, who set up people too, assign the other roles. A tenant
always keeps one active admin: one rule (``keeps_an_admin``) refuses, with LAST_ADMIN,
a role change, a deactivation (by an admin, SCIM or a directory sync, all through
``deactivate_many``) or a roster import that would leave none.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from .. import audit, sessions
from ..enums import GoalKind, GoalStatus, Role
from ..errors import DomainError, ErrorCode, Problem, forbidden, not_found
from ..i18n import LOCALES, Msg, msg
from ..models import Alert, DottedLine, KeyResult, Kpi, Objective, OrgUnit, Person, SessionFamily
from ..models.goals import Owned
from ..reporting import email_problem, manager_loop, normalise_email
from ..tenancy import TenantScope
from ..validation import Checks
from .org_checks import blank_to_none, require_admin, taken

#: The fields ``update_person`` changes.
PERSON_FIELDS = frozenset(
    {
        "name",
        "name_en",
        "email",
        "code",
        "job_title",
        "role",
        "org_unit_id",
        "manager_id",
        "external_id",
    }
)
_GOAL_MODELS: dict[GoalKind, type[Owned]] = {
    GoalKind.OBJECTIVE: Objective,
    GoalKind.KEY_RESULT: KeyResult,
    GoalKind.KPI: Kpi,
}
#: Column → input field, for messages.
_FIELDS = {
    "name": "name",
    "name_en": "nameEn",
    "email": "email",
    "code": "code",
    "job_title": "jobTitle",
    "external_id": "externalId",
    "org_unit_id": "orgUnitId",
    "manager_id": "managerId",
    "role": "role",
}


LAST_ADMIN_MESSAGE = msg("people.last_admin")


def keeps_an_admin(
    admins: Collection[int], losing: Collection[int], gaining: Collection[int] = ()
) -> bool:
    """The one last-admin rule: a change that takes the admin role (a new role, a
    deactivation) from ``losing`` is allowed while an active admin remains, among
    ``admins`` (the active admins now) not losing it, or among ``gaining``."""
    left = set(admins) - set(losing)
    return not (set(admins) & set(losing)) or bool(left) or bool(set(gaining))


def role_change_problem(actor: Role, before: Role | None, after: Role) -> Msg | None:
    """Why ``actor`` may not change a role from ``before`` (None: a new person) to
    ``after``, or None: granting or taking away admin is for admins."""
    if actor is Role.ADMIN or before == after:
        return None
    if after is Role.ADMIN or before is Role.ADMIN:
        return msg("people.admin_role_admin_only")
    return None


async def require_an_admin_left(scope: TenantScope, losing: Collection[int]) -> None:
    """LAST_ADMIN unless an active admin remains once ``losing`` are no longer admins
    (one query)."""
    if not losing:
        return
    admins = _ids(
        await scope.query(Person).filter(active=True, role=Role.ADMIN).values_list("id", flat=True)
    )
    if not keeps_an_admin(admins, losing):
        raise DomainError.single(ErrorCode.LAST_ADMIN, LAST_ADMIN_MESSAGE, "role")


@dataclass(frozen=True, slots=True)
class OpenGoal:
    """A goal a person still answers for: an active objective or key result in an open
    cycle, or an active KPI."""

    kind: GoalKind
    id: int
    title: str


@dataclass
class Deactivation:
    """What deactivating a person did."""

    person: Person
    #: Their open goals when they left (handed over if ``reassigned`` says so).
    open_goals: list[OpenGoal]
    #: How many of them were handed over in the same transaction.
    reassigned: int
    #: People whose explicit manager they were: they now report as the org tree says.
    released_reports: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Owner:
    """Whom goals are handed to: an active unit or an active person, and its org path."""

    unit_id: int | None
    person_id: int | None
    path: str


async def create_person(
    scope: TenantScope,
    *,
    name: str,
    org_unit_id: int,
    role: Role = Role.EMPLOYEE,
    name_en: str = "",
    email: str = "",
    code: str | None = None,
    job_title: str = "",
    manager_id: int | None = None,
    external_id: str | None = None,
) -> Person:
    """A person in an active org unit with a role. ``code`` is their employee number
    (工号) in business systems, ``external_id`` their id in the HR directory; both and a
    non-blank email are unique in the tenant. ``manager_id`` names an explicit
    solid-line manager (None: the org tree's)."""
    require_admin(scope)
    values: dict[str, Any] = {
        "name": name,
        "name_en": name_en,
        "email": email,
        "code": code,
        "job_title": job_title,
        "external_id": external_id,
        "role": role,
    }
    _check(values)
    values = _normalised(values)
    refused = role_change_problem(scope.role, None, values["role"])
    if refused:
        raise forbidden(refused, "role")
    await _unique(scope, values)
    await _active_unit(scope, org_unit_id, "orgUnitId")
    if manager_id is not None:
        await _active_manager(scope, manager_id, None)
    async with in_transaction():
        person = await scope.create(
            Person, **values, org_unit_id=org_unit_id, manager_id=manager_id
        )
        await audit.record(scope, "person.created", "person", person.id, None, _state(person))
    return person


async def update_person(scope: TenantScope, person_id: int, changes: dict[str, Any]) -> Person:
    """Change a person; only the keys given change (``PERSON_FIELDS``).

    ``org_unit_id`` moves them to another active unit; ``manager_id`` names their
    solid-line manager (None: the org tree's), refused with MANAGER_LOOP when the chain
    of explicit managers would come back to them. Codes, emails and directory ids
    another person has are refused with CONFLICT.
    """
    require_admin(scope)
    unknown = set(changes) - PERSON_FIELDS
    if unknown:
        raise ValueError(f"not fields of a person: {sorted(unknown)}")
    person = await scope.get(Person, person_id, "id")
    _check(changes)
    values = _normalised(changes)
    if "role" in values:
        before_role = Role(person.role)
        refused = role_change_problem(scope.role, before_role, values["role"])
        if refused:
            raise forbidden(refused, "role")
        if person.active and before_role is Role.ADMIN and values["role"] is not Role.ADMIN:
            await require_an_admin_left(scope, [person.id])
    await _unique(scope, values, exclude_id=person.id)
    moving = "org_unit_id" in values and values["org_unit_id"] != person.org_unit_id
    unit = await _active_unit(scope, values["org_unit_id"], "orgUnitId") if moving else None
    new_manager = values.get("manager_id", person.manager_id)
    if new_manager is not None and new_manager != person.manager_id:
        await _active_manager(scope, new_manager, person.id)
        await _refuse_loop(scope, person.id, new_manager)
    before = _state(person)
    async with in_transaction():
        for key, value in values.items():
            setattr(person, key, value)
        await person.save()
        if unit is not None:
            # Their alerts answer to the managers above their new unit.
            await scope.query(Alert).filter(owner_person_id=person.id).update(owner_path=unit.path)
        old, new = audit.changes(before, _state(person))
        if new:
            await audit.record(scope, "person.updated", "person", person.id, old, new)
    return person


async def set_my_locale(scope: TenantScope, locale: str | None) -> Person:
    """The caller chooses the language they read (None: their client's Accept-Language
    decides); their own setting, so any role may, and audited like every change of a
    person. A token without a person (an API key, ``goalgraph token``) has no setting."""
    person = scope.actor.person
    if person is None:
        raise forbidden(msg("people.locale_needs_person"))
    if locale is not None and locale not in LOCALES:
        raise DomainError.single(
            ErrorCode.INVALID, msg("people.unknown_locale", locale=locale, known=LOCALES), "locale"
        )
    row = await scope.get(Person, person.id)
    if row.locale != locale:
        old = row.locale
        row.locale = locale
        async with in_transaction():
            await row.save(update_fields=["locale", "updated_at"])
            await audit.record(
                scope, "person.updated", "person", row.id, {"locale": old}, {"locale": locale}
            )
    return row


async def set_role(scope: TenantScope, person_id: int, role: Role) -> Person:
    """Give a person another role (admins only); audited as a change of the person. The
    tenant's last active admin keeps the role (LAST_ADMIN)."""
    if scope.role is not Role.ADMIN:
        raise forbidden(msg("people.assign_roles_admin_only"))
    return await update_person(scope, person_id, {"role": role})


async def deactivate_person(
    scope: TenantScope,
    person_id: int,
    *,
    reassign_to_person_id: int | None = None,
    reassign_to_unit_id: int | None = None,
) -> Deactivation:
    """Deactivate a leaver: never deleted, their history stays, their tokens stop
    working. Their open goals are returned, and handed to ``reassign_to_person_id`` or
    ``reassign_to_unit_id`` in the same transaction when one is given. People they were
    the explicit manager of report as the org tree says from then on, and dotted lines
    to them end."""
    require_admin(scope)
    person = await scope.get(Person, person_id, "id")
    if not person.active:
        raise DomainError.single(ErrorCode.INACTIVE, msg("people.already_deactivated"), "id")
    if person.id == scope.actor.person_id:
        raise DomainError.single(ErrorCode.INVALID, msg("people.deactivate_self"), "id")
    target = await _target(
        scope, person.id, reassign_to_person_id, reassign_to_unit_id, "reassignTo", required=False
    )
    goals = await open_goals(scope, person.id)
    async with in_transaction():
        released = await deactivate_many(scope, [person.id], open_goals=len(goals))
        reassigned = await _reassign(scope, person.id, goals, target) if target else 0
        await person.refresh_from_db(fields=["active", "deactivated_at", "updated_at"])
    return Deactivation(person, goals, reassigned, released)


async def deactivate_many(
    scope: TenantScope,
    person_ids: Collection[int],
    *,
    now: datetime | None = None,
    open_goals: int | None = None,
) -> list[int]:
    """Deactivate leavers, one or thousands (a roster import, a directory sync), with the
    one meaning of leaving: active off and ``deactivated_at`` set; people they were the
    explicit manager of report as the org tree says from then on; dotted lines to them
    end; each change audited. A fixed number of statements per batch whatever the count;
    the caller owns the transaction. Returns the people whose manager was released."""
    ids = sorted(set(person_ids))
    if not ids:
        return []
    await require_an_admin_left(scope, ids)
    now = now or datetime.now(UTC)
    released: list[tuple[int, int]] = []
    dotted: list[tuple[int, int]] = []
    for batch in _batches(ids):
        await (
            scope.query(Person)
            .filter(id__in=batch)
            .update(active=False, deactivated_at=now, updated_at=now)
        )
        released += await (
            scope.query(Person)
            .filter(manager_id__in=batch)
            .exclude(id__in=ids)
            .order_by("id")
            .values_list("id", "manager_id")
        )
        dotted += await (
            scope.query(DottedLine)
            .filter(manager_id__in=batch)
            .order_by("person_id")
            .values_list("person_id", "manager_id")
        )
        await scope.query(DottedLine).filter(manager_id__in=batch).delete()
        # their sessions end for good: a later reactivation does not revive them
        await (
            scope.query(SessionFamily)
            .filter(person_id__in=batch, revoked_at__isnull=True)
            .update(revoked_at=now, revoked_reason=sessions.INACTIVE, updated_at=now)
        )
    for batch in _batches([pid for pid, _ in released]):
        await scope.query(Person).filter(id__in=batch).update(manager_id=None)
    await audit.record_each(
        scope,
        "person.updated",
        "person",
        [(pid, {"manager_id": mid}, {"manager_id": None}) for pid, mid in released],
    )
    await audit.record_each(
        scope,
        "person.dotted_line_ended",
        "person",
        [(pid, {"dotted_line_manager_id": mid}, None) for pid, mid in dotted],
    )
    after: dict[str, Any] = {"active": False, "deactivated_at": now.isoformat()}
    if open_goals is not None:
        after["open_goals"] = open_goals
    await audit.record_many(
        scope, "person.deactivated", "person", ids, {"active": True, "deactivated_at": None}, after
    )
    return [pid for pid, _ in released]


def _batches(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


async def reassign_goals(
    scope: TenantScope,
    person_id: int,
    *,
    to_person_id: int | None = None,
    to_unit_id: int | None = None,
    goal_ids: list[tuple[GoalKind, int]] | None = None,
) -> int:
    """Hand a person's open goals (all, or those in ``goal_ids``) to an active person
    or unit; returns how many were handed over. Each goal's change of owner is audited,
    so past scorecards keep the owner they had."""
    require_admin(scope)
    person = await scope.get(Person, person_id, "id")
    target = await _target(scope, person.id, to_person_id, to_unit_id, "to", required=True)
    assert target is not None
    goals = await open_goals(scope, person.id)
    if goal_ids is not None:
        wanted = {(GoalKind(kind), int(i)) for kind, i in goal_ids}
        missing = wanted - {(g.kind, g.id) for g in goals}
        if missing:
            raise DomainError.single(
                ErrorCode.NOT_FOUND,
                msg("people.goals_not_open", count=len(missing)),
                "goalIds",
            )
        goals = [g for g in goals if (g.kind, g.id) in wanted]
    async with in_transaction():
        return await _reassign(scope, person.id, goals, target)


async def reactivate_person(scope: TenantScope, person_id: int) -> Person:
    """Bring a deactivated person back (their unit must be active); their tokens
    work again."""
    require_admin(scope)
    person = await scope.get(Person, person_id, "id")
    if person.active:
        raise DomainError.single(ErrorCode.INVALID, msg("people.active"), "id")
    await _active_unit(scope, person.org_unit_id, "id")
    deactivated_at = person.deactivated_at
    async with in_transaction():
        person.active, person.deactivated_at = True, None
        await person.save(update_fields=["active", "deactivated_at", "updated_at"])
        await audit.record(
            scope,
            "person.reactivated",
            "person",
            person.id,
            {
                "active": False,
                "deactivated_at": deactivated_at.isoformat() if deactivated_at else None,
            },
            {"active": True, "deactivated_at": None},
        )
    return person


async def set_dotted_lines(scope: TenantScope, person_id: int, manager_ids: list[int]) -> Person:
    """Replace a person's dotted-line managers (虚线汇报) with ``manager_ids`` (active
    people of the tenant; empty: none)."""
    require_admin(scope)
    person = await scope.get(Person, person_id, "id")
    wanted = list(dict.fromkeys(int(i) for i in manager_ids))
    if person.id in wanted:
        raise DomainError.single(
            ErrorCode.MANAGER_LOOP,
            msg("people.own_dotted_manager"),
            "managerIds",
        )
    found = await scope.many(Person, wanted)
    problems: list[Problem] = []
    if len(found) < len(wanted):
        problems.append(
            Problem(
                ErrorCode.NOT_FOUND, msg("error.not_found", kind=msg("noun.manager")), "managerIds"
            )
        )
    inactive = sorted(p.name for p in found.values() if not p.active)
    if inactive:
        problems.append(
            Problem(
                ErrorCode.INACTIVE,
                msg("people.inactive_managers", names=inactive),
                "managerIds",
            )
        )
    if problems:
        raise DomainError(*problems)
    current = _ids(
        await scope.query(DottedLine)
        .filter(person_id=person.id)
        .values_list("manager_id", flat=True)
    )
    if set(current) == set(wanted):
        return person
    async with in_transaction():
        await (
            scope.query(DottedLine)
            .filter(person_id=person.id, manager_id__in=set(current) - set(wanted))
            .delete()
        )
        await DottedLine.bulk_create(
            [
                scope.build(DottedLine, person_id=person.id, manager_id=m)
                for m in wanted
                if m not in current
            ]
        )
        await audit.record(
            scope,
            "person.dotted_lines_changed",
            "person",
            person.id,
            {"dotted_line_manager_ids": sorted(current)},
            {"dotted_line_manager_ids": sorted(wanted)},
        )
    return person


async def open_goals(scope: TenantScope, person_id: int) -> list[OpenGoal]:
    """The goals a person still answers for (three queries): active objectives and key
    results of cycles not closed, and active KPIs, each kind in id order."""
    active = GoalStatus.ACTIVE
    objectives = (
        await scope.query(Objective)
        .filter(owner_person_id=person_id, status=active, cycle__closed_at__isnull=True)
        .order_by("id")
        .values_list("id", "title")
    )
    key_results = (
        await scope.query(KeyResult)
        .filter(
            owner_person_id=person_id,
            status=active,
            objective__status=active,
            objective__cycle__closed_at__isnull=True,
        )
        .order_by("id")
        .values_list("id", "title")
    )
    kpis = (
        await scope.query(Kpi)
        .filter(owner_person_id=person_id, status=active)
        .order_by("id")
        .values_list("id", "title")
    )
    return [
        OpenGoal(kind, int(goal_id), str(title))
        for kind, rows in (
            (GoalKind.OBJECTIVE, objectives),
            (GoalKind.KEY_RESULT, key_results),
            (GoalKind.KPI, kpis),
        )
        for goal_id, title in rows
    ]


async def _reassign(
    scope: TenantScope, person_id: int, goals: list[OpenGoal], target: _Owner
) -> int:
    """Hand ``goals`` over (inside the caller's transaction): one UPDATE and one audit
    statement per kind of goal, and the open alerts of handed-over KPIs follow."""
    before = {"owner_unit_id": None, "owner_person_id": person_id}
    after = {"owner_unit_id": target.unit_id, "owner_person_id": target.person_id}
    done = 0
    for kind, model in _GOAL_MODELS.items():
        ids = [g.id for g in goals if g.kind is kind]
        if not ids:
            continue
        done += (
            await scope.query(model)
            .filter(id__in=ids, owner_person_id=person_id)
            .update(owner_unit_id=target.unit_id, owner_person_id=target.person_id)
        )
        await audit.record_many(scope, f"{kind.value}.reassigned", kind.value, ids, before, after)
        if kind is GoalKind.KPI:
            await (
                scope.query(Alert)
                .filter(kpi_id__in=ids)
                .update(
                    owner_unit_id=target.unit_id,
                    owner_person_id=target.person_id,
                    owner_path=target.path,
                )
            )
    return done


async def _target(
    scope: TenantScope,
    person_id: int,
    to_person_id: int | None,
    to_unit_id: int | None,
    prefix: str,
    *,
    required: bool,
) -> _Owner | None:
    """The new owner of handed-over goals: an active person (not the leaver) or an
    active unit, never both."""
    person_field, unit_field = f"{prefix}PersonId", f"{prefix}UnitId"
    if to_person_id is not None and to_unit_id is not None:
        raise DomainError.single(ErrorCode.INVALID, msg("people.handover_not_both"), unit_field)
    if to_person_id is not None:
        if to_person_id == person_id:
            raise DomainError.single(
                ErrorCode.INVALID, msg("people.handover_own_owner"), person_field
            )
        row = await scope.query(Person).filter(id=to_person_id).select_related("org_unit").first()
        if row is None:
            raise not_found("person", person_field)
        if not row.active:
            raise DomainError.single(
                ErrorCode.INACTIVE, msg("people.handover_inactive"), person_field
            )
        return _Owner(None, row.id, row.org_unit.path)
    if to_unit_id is not None:
        unit = await _active_unit(scope, to_unit_id, unit_field)
        return _Owner(unit.id, None, unit.path)
    if required:
        raise DomainError.single(ErrorCode.REQUIRED, msg("people.handover_target"), person_field)
    return None


def _ids(values: Any) -> list[int]:
    """Ids from a flat ``values_list`` (typed by Tortoise as tuples)."""
    return [int(v) for v in values]


def _check(values: dict[str, Any]) -> None:
    """Every problem with the text fields given, at once."""
    checks = Checks()
    limits = {"name": 200, "name_en": 200, "code": 64, "job_title": 200, "external_id": 128}
    for key, limit in limits.items():
        if key in values:
            checks.text(_FIELDS[key], values[key], limit, required=key == "name")
    if "email" in values:
        problem = email_problem(values["email"] or "")
        if problem:
            checks.add(ErrorCode.INVALID, problem, "email")
    if "role" in values:
        try:
            Role(values["role"])
        except ValueError:
            checks.add(ErrorCode.INVALID, msg("people.unknown_role", role=values["role"]), "role")
    checks.done()


def _normalised(values: dict[str, Any]) -> dict[str, Any]:
    """Values as stored: text trimmed, email lower-case, blank codes and ids as None."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key == "email":
            out[key] = normalise_email(value or "")
        elif key in {"code", "external_id"}:
            out[key] = blank_to_none(value)
        elif key == "role":
            out[key] = Role(value)
        elif key in {"name", "name_en", "job_title"}:
            out[key] = (value or "").strip()
        else:
            out[key] = value
    return out


async def _unique(
    scope: TenantScope, values: dict[str, Any], exclude_id: int | None = None
) -> None:
    """Refuse employee numbers, emails and directory ids another person has."""
    problems: list[Problem] = []
    for column in ("code", "email", "external_id"):
        if column in values:
            problem = await taken(
                scope, Person, column, values[column], _FIELDS[column], exclude_id
            )
            if problem is not None:
                problems.append(problem)
    if problems:
        raise DomainError(*problems)


async def _active_unit(scope: TenantScope, unit_id: int, field: str) -> OrgUnit:
    unit = await scope.find(OrgUnit, unit_id)
    if unit is None:
        raise not_found("org_unit", field)
    if not unit.active:
        raise DomainError.single(ErrorCode.ARCHIVED, msg("org.archived"), field)
    return unit


async def _active_manager(scope: TenantScope, manager_id: int, person_id: int | None) -> Person:
    """A solid-line manager: an active person of the tenant, not the person."""
    if manager_id == person_id:
        raise DomainError.single(ErrorCode.MANAGER_LOOP, msg("people.own_manager"), "managerId")
    manager = await scope.find(Person, manager_id)
    if manager is None:
        raise not_found("manager", "managerId")
    if not manager.active:
        raise DomainError.single(ErrorCode.INACTIVE, msg("people.inactive_manager"), "managerId")
    return manager


async def _refuse_loop(scope: TenantScope, person_id: int, manager_id: int) -> None:
    """MANAGER_LOOP when the explicit managers from ``manager_id`` up reach the person."""
    manager_of: dict[int, int | None] = {
        int(p): int(m)
        for p, m in await scope.query(Person)
        .filter(manager_id__isnull=False)
        .values_list("id", "manager_id")
    }
    manager_of[person_id] = manager_id
    loop = manager_loop(manager_of, person_id)
    if loop is None:
        return
    names = await scope.many(Person, loop)
    chain = " → ".join(names[i].name for i in [*loop, loop[0]] if i in names)
    raise DomainError.single(
        ErrorCode.MANAGER_LOOP, msg("people.manager_loop", chain=chain), "managerId"
    )


def _state(person: Person) -> dict[str, Any]:
    """The audited fields of a person, as JSON values (ids as ints)."""
    return {
        "name": person.name,
        "name_en": person.name_en,
        "email": person.email,
        "code": person.code,
        "job_title": person.job_title,
        "role": Role(person.role).value,
        "org_unit_id": person.org_unit_id,
        "manager_id": person.manager_id,
        "external_id": person.external_id,
    }
