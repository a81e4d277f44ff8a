"""The org-source contract: how an HR directory's departments and people reach goalgraph.

An org source (组织架构数据源) knows one kind of directory (DingTalk 钉钉通讯录, Feishu
飞书通讯录, WeCom 企业微信通讯录, or a pack's HR system). It declares its ``name``, a
bilingual ``title`` and its configuration (``Config``, a pydantic model validated when the
binding is made; the fields in ``secret_fields`` are app credentials, sealed like a data
binding's).

Given a cursor, ``pages`` yields ``OrgPage``s: first the department tree, parents before
children (units pages), then the people of each department (people pages). Each page
carries the cursor that resumes *after* it, and the last page carries ``None``. The sync
runner applies each page and stores its cursor in one transaction, so a sync stopped at
any point resumes where its last stored page ended, and re-applying a page changes
nothing. Units are matched by the directory's department id, people by its user id.

An org source is bound as a ``DataBinding`` with ``kind="org"``: it shares the schedule,
leases, cursor and run history of data syncs.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import aiohttp
from pydantic import Field, field_validator

from ..core.reporting import parse_role
from .contract import AdapterConfig, AdapterError, Cursor, Rejection


@dataclass(frozen=True, slots=True)
class DirectoryUnit:
    """A department: its directory id, name and parent's directory id (None: directly
    under the company)."""

    external_id: str
    name: str
    parent_id: str | None = None
    name_en: str = ""
    ref: str = ""


@dataclass(frozen=True, slots=True)
class DirectoryPerson:
    """A member of the directory, as goalgraph keeps them.

    ``unit_id`` is the directory id of their department (None: the company itself);
    ``manager_id`` the directory id of their solid-line manager when the directory names
    one (None: the org tree's answer); ``role`` a role name when the binding's mapping
    gives one (None: a new person is an employee, an existing one keeps their role).
    """

    external_id: str
    name: str
    unit_id: str | None = None
    name_en: str = ""
    email: str = ""
    employee_no: str = ""
    job_title: str = ""
    manager_id: str | None = None
    role: str | None = None
    ref: str = ""
    #: The directory's record, shortened, for a rejected row.
    content: str = ""


@dataclass
class OrgPage:
    """One step of a directory pull: units or people, rows that could not be used, and
    the cursor to resume from once this page is stored (None: the pass is complete)."""

    units: list[DirectoryUnit] = field(default_factory=list)
    people: list[DirectoryPerson] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    cursor: Cursor | None = None


class OrgSourceConfig(AdapterConfig):
    """What every org binding may say, beside its directory's own settings."""

    deactivate_missing: bool = Field(
        default=False,
        description="Deactivate people of this source not seen in a complete sync.",
    )
    leader_role: str | None = Field(
        default="manager",
        description="Role given to department leaders (null: leave their role alone).",
    )
    roles: dict[str, str] = Field(
        default_factory=dict, description="Job title to role, e.g. 店长 to manager."
    )
    timeout: float = Field(default=30.0, gt=0, le=600)
    attempts: int = Field(default=6, ge=1, le=20)
    max_wait: float = Field(default=60.0, ge=0, le=3600)

    @field_validator("leader_role")
    @classmethod
    def _known_role(cls, value: str | None) -> str | None:
        if value is not None and parse_role(value) is None:
            raise ValueError(f"unknown role {value!r}")
        return value

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(role for role in value.values() if parse_role(role) is None)
        if unknown:
            raise ValueError(f"unknown role {unknown[0]!r}")
        return value

    def role_for(self, job_title: str, leader: bool) -> str | None:
        """The role the mapping gives: by job title first, then as a department leader."""
        mapped = self.roles.get(job_title.strip())
        if mapped is not None:
            return mapped
        return self.leader_role if leader else None


@dataclass
class TokenCache:
    """Access tokens of the process, by app: reused until shortly before they expire, so
    syncs do not ask the vendor for a new token every run (vendors limit that too)."""

    #: Seconds before the vendor's expiry at which a token is no longer used.
    margin: float = 300.0
    _tokens: dict[tuple[str, ...], tuple[str, float]] = field(default_factory=dict)

    def get(self, key: tuple[str, ...]) -> str | None:
        found = self._tokens.get(key)
        if found is None or time.monotonic() >= found[1]:
            return None
        return found[0]

    def put(self, key: tuple[str, ...], token: str, expires_in: float) -> None:
        margin = min(self.margin, expires_in / 10)
        self._tokens[key] = (token, time.monotonic() + max(0.0, expires_in - margin))

    def drop(self, key: tuple[str, ...]) -> None:
        self._tokens.pop(key, None)


class OrgSource(ABC):
    """Base class of every org source; subclasses set the class attributes."""

    #: Unique source name, e.g. ``"dingtalk"``.
    name: ClassVar[str]
    #: Bilingual title: ``{"zh": "...", "en": "..."}``.
    title: ClassVar[dict[str, str]]
    #: The configuration a binding gives it.
    Config: ClassVar[type[OrgSourceConfig]] = OrgSourceConfig
    #: Config fields that are credentials: stored sealed, never returned by the API.
    secret_fields: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        config: OrgSourceConfig,
        session: aiohttp.ClientSession | None = None,
        tokens: TokenCache | None = None,
    ) -> None:
        self.config = config
        self._session = session
        self.tokens = tokens if tokens is not None else TokenCache()

    @property
    def session(self) -> aiohttp.ClientSession:
        """The run's shared HTTP session (one per app or CLI run, never one per call)."""
        if self._session is None:
            raise AdapterError(f"{self.name}: no HTTP session was given")
        return self._session

    @abstractmethod
    def pages(self, cursor: Cursor | None) -> AsyncIterator[OrgPage]:
        """Pages from ``cursor`` (None: from the top of the tree) to the end of the
        directory: units pages, then people pages; the last page's cursor is None."""


def describe(record: Any) -> str:
    """A directory record as a rejected row's content (at most 500 characters)."""
    text = json.dumps(record, ensure_ascii=False, default=str)
    return text if len(text) <= 500 else text[:497] + "..."
