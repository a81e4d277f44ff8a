"""Who reports to whom: the rules every way of changing people shares.

The GraphQL mutations, the roster import, directory syncs and SCIM all change the same
people, so the rules live here once: what an acceptable email is, which role names are
known, that a chain of managers never comes back on itself, and who a person's solid-line
manager is when nobody named one (the org tree's answer).

The org tree's answer: the nearest active person with the ``manager`` role in the
person's own unit (other than the person), else in the unit above, and so on up to the
company. An explicit ``Person.manager_id`` overrides it; dotted lines (``DottedLine``)
add managers beside it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum

from .enums import Role
from .i18n import Msg, msg

#: Deliberately permissive: one ``@``, no spaces, a dot in the domain. Mailboxes are
#: verified by the invitation mail, not by a pattern.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL = 254


class ManagerSource(StrEnum):
    """Where a person's solid-line manager comes from."""

    #: Named on the person (``Person.manager_id``).
    EXPLICIT = "explicit"
    #: The org tree's answer (``tree_manager``).
    ORG_TREE = "org_tree"


def email_problem(value: str) -> Msg | None:
    """Why ``value`` is not an acceptable email address (None: it is, or it is blank)."""
    value = value.strip()
    if not value:
        return None
    if len(value) > MAX_EMAIL:
        return msg("people.email_too_long", max=MAX_EMAIL)
    if not _EMAIL.match(value):
        return msg("people.not_an_email", value=value)
    return None


def normalise_email(value: str) -> str:
    """Emails compare case-insensitively; they are stored trimmed and lower-case."""
    return value.strip().lower()


def parse_role(value: str | None) -> Role | None:
    """A role by its name, case-insensitive (blank: employee); None when unknown."""
    name = (value or "").strip().lower()
    if not name:
        return Role.EMPLOYEE
    try:
        return Role(name)
    except ValueError:
        return None


def manager_loop(manager_of: Mapping[int, int | None], start: int) -> list[int] | None:
    """The loop of managers reached from ``start``, if the chain comes back on itself.

    ``manager_of`` maps a person to their explicit manager (None: none named). The
    answer lists the people of the loop in chain order, so a message can name them.
    """
    seen: dict[int, int] = {}
    chain: list[int] = []
    current: int | None = start
    while current is not None:
        if current in seen:
            return chain[seen[current] :]
        seen[current] = len(chain)
        chain.append(current)
        current = manager_of.get(current)
    return None


def manager_loops(manager_of: Mapping[int, int | None]) -> list[list[int]]:
    """Every distinct loop in a whole set of manager relations (for a roster check)."""
    loops: list[list[int]] = []
    in_loop: set[int] = set()
    cleared: set[int] = set()
    for start in manager_of:
        if start in cleared or start in in_loop:
            continue
        loop = manager_loop(manager_of, start)
        if loop is None:
            cleared.add(start)
            continue
        if not in_loop.intersection(loop):
            loops.append(loop)
            in_loop.update(loop)
    return loops


def unit_chain(path: str) -> list[int]:
    """The unit ids of a materialised path, nearest first (``/1/4/9/`` → 9, 4, 1)."""
    return [int(part) for part in reversed(path.strip("/").split("/")) if part]


def tree_manager(
    person_id: int,
    unit_path: str,
    managers_by_unit: Mapping[int, Iterable[int]],
) -> int | None:
    """The org tree's solid-line manager of a person: the first manager found walking
    up from their own unit (``managers_by_unit``: active people with the manager role,
    by unit, lowest id first). A manager's own manager is found in the units above."""
    for index, unit_id in enumerate(unit_chain(unit_path)):
        candidates = [m for m in managers_by_unit.get(unit_id, ()) if m != person_id]
        if index == 0 and person_id in managers_by_unit.get(unit_id, ()):
            # a unit's managers report upwards, not to a peer in their own unit
            continue
        if candidates:
            return candidates[0]
    return None


def tree_reports(
    manager_ids: Iterable[int],
    people: Iterable[tuple[int, str]],
    managers_by_unit: Mapping[int, Iterable[int]],
) -> dict[int, list[int]]:
    """The people (``(id, unit path)``, none with an explicit manager) whose org-tree
    manager is one of ``manager_ids``, by manager: ``tree_manager`` read backwards."""
    wanted = set(manager_ids)
    found: dict[int, list[int]] = {m: [] for m in wanted}
    for person_id, path in people:
        manager = tree_manager(person_id, path, managers_by_unit)
        if manager in wanted:
            found[manager].append(person_id)
    return found
