"""The role matrix: who may call which root field of the API, read from ``roles.toml``.

One data file, validated when it is loaded, names for every Query, Mutation and
Subscription field the roles that may call it and the relations they may act on (see
the file's header). ``schema/role_guard.py`` refuses every other call before its
resolver runs (deny by default); the finer, per-row rules stay in ``core/access.py``
and ``core/insights/visibility.py``, and the relations here document them.
``markdown_table`` renders the matrix for docs/security.md.
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from functools import lru_cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .enums import Role

ROOTS = ("Query", "Mutation", "Subscription")


class Relation(StrEnum):
    """What a role may act on through a field."""

    ALL = "all"
    SELF = "self"
    REPORTS = "reports"
    UNIT = "unit"
    OWN_UNIT = "own_unit"


class FieldRule(BaseModel):
    """One root field: the roles that may call it (absent: refused) and on what."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    admin: tuple[Relation, ...] | None = None
    consultant: tuple[Relation, ...] | None = None
    manager: tuple[Relation, ...] | None = None
    employee: tuple[Relation, ...] | None = None
    viewer: tuple[Relation, ...] | None = None
    #: Callers who are not signed in may call it too (signing in itself).
    public: bool = False
    #: API keys may call it when their role may (false: never).
    api_key: bool = True
    note: str = ""

    @field_validator("admin", "consultant", "manager", "employee", "viewer")
    @classmethod
    def _not_empty(cls, value: tuple[Relation, ...] | None) -> tuple[Relation, ...] | None:
        if value is not None and not value:
            raise ValueError("list at least one relation, or leave the role out to refuse it")
        return value

    def relations(self, role: Role) -> tuple[Relation, ...] | None:
        relations: tuple[Relation, ...] | None = getattr(self, role.value)
        return relations

    def allows(self, role: Role, *, api_key: bool = False) -> bool:
        if api_key and not self.api_key:
            return False
        return self.relations(role) is not None


class RoleMatrix(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    Query: dict[str, FieldRule] = Field(default_factory=dict)
    Mutation: dict[str, FieldRule] = Field(default_factory=dict)
    Subscription: dict[str, FieldRule] = Field(default_factory=dict)

    def rule(self, root: str, field: str) -> FieldRule | None:
        """The rule of ``root.field`` (None: no rule, so refused)."""
        rules: dict[str, FieldRule] = getattr(self, root, {}) if root in ROOTS else {}
        return rules.get(field)

    def allows(self, root: str, field: str, role: Role, *, api_key: bool = False) -> bool:
        rule = self.rule(root, field)
        return rule is not None and rule.allows(role, api_key=api_key)


def parse(text: str) -> RoleMatrix:
    """A matrix from TOML text, or a ``ValueError`` saying what is wrong."""
    return RoleMatrix.model_validate(tomllib.loads(text))


@lru_cache(maxsize=1)
def matrix() -> RoleMatrix:
    """The matrix shipped with goalgraph (``core/roles.toml``), read once."""
    return parse(resources.files("goalgraph.core").joinpath("roles.toml").read_text("utf-8"))


_NAMES = {
    Relation.ALL: "all",
    Relation.SELF: "self",
    Relation.REPORTS: "reports",
    Relation.UNIT: "unit and below",
    Relation.OWN_UNIT: "own unit",
}


def _cell(rule: FieldRule, role: Role) -> str:
    relations = rule.relations(role)
    return ", ".join(_NAMES[r] for r in relations) if relations else "–"


def markdown_table(roles: RoleMatrix | None = None) -> str:
    """The matrix as Markdown tables, one per root type (generated into the docs)."""
    roles = roles or matrix()
    order = list(Role)
    lines: list[str] = []
    for root in ROOTS:
        rules: dict[str, FieldRule] = getattr(roles, root)
        lines += [
            f"### {root}",
            "",
            "| field | " + " | ".join(r.value for r in order) + " | API key | note |",
            "|---|" + "---|" * (len(order) + 2),
        ]
        for name, rule in sorted(rules.items()):
            key = "as its role" if rule.api_key else "never"
            if rule.public:
                key += ", public"
            cells = " | ".join(_cell(rule, r) for r in order)
            lines.append(f"| `{name}` | {cells} | {key} | {rule.note} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
